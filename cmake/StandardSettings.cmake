# Compiler settings shared by every target, linked PRIVATE through INTERFACE targets (as ccache does).
add_library(sendcheck_standard_settings INTERFACE)
add_library(sendcheck_standard_warnings INTERFACE)

target_compile_options(sendcheck_standard_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wformat=2 -Wimplicit-fallthrough)
if(SENDCHECK_WERROR)
  target_compile_options(sendcheck_standard_warnings INTERFACE -Werror)
endif()

if(SENDCHECK_SANITIZE)
  # Applied globally so that object libraries, tests and the executable agree on the runtime.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
if(SENDCHECK_TSAN)
  if(SENDCHECK_SANITIZE)
    message(FATAL_ERROR "SENDCHECK_TSAN and SENDCHECK_SANITIZE cannot be combined (ThreadSanitizer excludes ASan)")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()
