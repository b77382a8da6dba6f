sendcheck_unit_test(cli_domain_input LIBS sendcheck_lib)
sendcheck_unit_test(profile MODULES util dns profile)
add_test(NAME integration.cli.knot COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/cli/test_cli.py $<TARGET_FILE:sendcheck>)
set_tests_properties(integration.cli.knot PROPERTIES LABELS integration TIMEOUT 600)
