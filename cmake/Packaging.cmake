# Installation of the documentation and shell completions, and the Debian package (CPack DEB).
# Included at the end of the top-level CMakeLists.txt, after the install rule of the executable.
#
#   cmake --install build --prefix /usr/local       # binary, man page, bash/zsh/fish completions
#   cd build && cpack -G DEB                         # sendcheck_<version>_<arch>.deb

install(FILES ${PROJECT_SOURCE_DIR}/docs/sendcheck.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/completions/sendcheck.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME sendcheck)
install(FILES ${PROJECT_SOURCE_DIR}/completions/_sendcheck DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${PROJECT_SOURCE_DIR}/completions/sendcheck.fish
        DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

set(CPACK_PACKAGE_NAME sendcheck)
set(CPACK_PACKAGE_VENDOR "sendcheck")
set(CPACK_PACKAGE_CONTACT "sendcheck maintainers <sendcheck@localhost>"
    CACHE STRING "Maintainer of the Debian package (Name <email>)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "sendcheck evaluates a domain's SPF record for each of Directo's outbound addresses exactly as RFC 7208 \
check_host() does, checks the DKIM key and the DMARC policy, and prints the one merged SPF record to publish. \
Exit codes and JSON output make it usable in CI pipelines.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR TGZ)

set(CPACK_DEBIAN_PACKAGE_NAME sendcheck)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # sendcheck_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
# Runtime libraries: computed by dpkg-shlibdeps (package dpkg-dev) from the binary when it is available, else the
# Debian 12 packages of the libraries the binary links (found with ldd and dpkg -S).
find_program(SENDCHECK_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(SENDCHECK_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libc-ares2 (>= 1.18), libssl3 (>= 3.0.0), libidn2-0, \
libpsl5, libfmt9, libzscanner4")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")

include(CPack)
