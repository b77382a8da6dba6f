#include <sendcheck/cli/app.hpp>

#ifdef SENDCHECK_USE_MIMALLOC
#include <cstring>
#include <mimalloc.h>

namespace {

/// Sets mimalloc's `option` to `value` unless the environment `envp` sets it (`variable`, MIMALLOC_ and its name).
void
set_unless_in_environment(char** envp, const char* variable, mi_option_t option, long value)
{
  const size_t length = std::strlen(variable);
  for (char** entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    if (std::strncmp(*entry, variable, length) == 0 && (*entry)[length] == '=') {
      return;
    }
  }
  mi_option_set(option, value);
}

/// Lets mimalloc back a list run (-f, --file) with transparent huge pages (2 MiB; madvise(MADV_HUGEPAGE)).
///
/// A run over thousands of domains touches tens of MiB of heap, and with 4 KiB pages each first touch is a page
/// fault: 5,900 on the 10,000-domain benchmark (bench/run.sh, two workers), about 5% of the run's CPU time. With huge
/// pages for the main thread's segments about half of them remain; a worker thread's first segment keeps 4 KiB pages
/// (mimalloc commits it lazily), which holds the peak RSS of a 100,000-domain run to about 3 MiB more instead of 6
/// (the benchmark's limit is 64 MiB). A check of a few domains touches little and would instead pay for clearing a
/// 2 MiB page (0.2 ms of start-up), so it keeps 4 KiB pages. mimalloc maps its first segment at the first allocation,
/// which libstdc++'s static initializers make before main() and before any constructor of ours, so the option is set
/// here: the dynamic linker runs .preinit_array functions before every library's initializer.
/// MIMALLOC_LARGE_OS_PAGES in the environment, when set, decides instead.
void
use_huge_pages_for_lists(int argc, char** argv, char** envp)
{
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-f", 2) == 0 || std::strncmp(argv[i], "--file", 6) == 0) {
      set_unless_in_environment(envp, "MIMALLOC_LARGE_OS_PAGES", mi_option_large_os_pages, 1);
      return;
    }
  }
}

[[gnu::used, gnu::section(".preinit_array")]] void (*const k_use_huge_pages_for_lists)(int, char**, char**) =
  use_huge_pages_for_lists;

} // namespace
#endif

int
main(int argc, char** argv)
{
  return sendcheck::cli::tool_main(argc, argv);
}
