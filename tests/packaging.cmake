# Packaging tests: the man page, the shell completions, `cmake --install` and the Debian package.
# Scripts in tests/packaging/; a script exits 77 when a tool it needs is missing (reported as skipped).
set(packaging_dir ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
set(completions_dir ${PROJECT_SOURCE_DIR}/completions)

add_test(NAME packaging.man_page
         COMMAND bash ${packaging_dir}/check_man_page.sh ${PROJECT_SOURCE_DIR}/docs/sendcheck.1 $<TARGET_FILE:sendcheck>)
add_test(NAME packaging.bash_completion COMMAND bash ${packaging_dir}/check_bash_completion.sh
                                                ${completions_dir}/sendcheck.bash)
add_test(NAME packaging.bash_completion_without_helpers
         COMMAND bash ${packaging_dir}/check_bash_completion.sh ${completions_dir}/sendcheck.bash --without-helpers)
add_test(NAME packaging.completion_options
         COMMAND bash ${packaging_dir}/check_completion_options.sh $<TARGET_FILE:sendcheck>
                 ${completions_dir}/sendcheck.bash ${completions_dir}/_sendcheck ${completions_dir}/sendcheck.fish)
add_test(NAME packaging.zsh_fish COMMAND bash ${packaging_dir}/check_zsh_fish.sh ${completions_dir}/_sendcheck
                                         ${completions_dir}/sendcheck.fish)
add_test(NAME packaging.install COMMAND bash ${packaging_dir}/check_install.sh ${PROJECT_BINARY_DIR})
add_test(NAME packaging.deb COMMAND bash ${packaging_dir}/check_deb.sh ${PROJECT_BINARY_DIR})

set_tests_properties(packaging.man_page packaging.bash_completion packaging.bash_completion_without_helpers
                     packaging.completion_options packaging.zsh_fish packaging.install packaging.deb
                     PROPERTIES LABELS packaging SKIP_RETURN_CODE 77 TIMEOUT 120)
# cpack builds the `preinstall` target and installs from the build tree: one at a time, and given time to strip.
set_tests_properties(packaging.install packaging.deb PROPERTIES RESOURCE_LOCK sendcheck_build_tree)
set_tests_properties(packaging.deb PROPERTIES TIMEOUT 600)
