sendcheck_unit_test(cli_domain_input LIBS sendcheck_lib)
sendcheck_unit_test(profile MODULES util dns profile)
add_test(NAME integration.cli.knot COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli/test_cli.py $<TARGET_FILE:sendcheck>)
set_tests_properties(integration.cli.knot PROPERTIES LABELS integration TIMEOUT 600)
sendcheck_unit_test(cli_options LIBS sendcheck_lib)
if(SENDCHECK_USE_MIMALLOC)
  add_test(NAME integration.cli.huge_pages
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli/test_huge_pages.py
                   $<TARGET_FILE:sendcheck> ${PROJECT_SOURCE_DIR}/examples/demo.zone)
  set_tests_properties(integration.cli.huge_pages PROPERTIES LABELS integration TIMEOUT 120)
endif()
