sendcheck_unit_test(cli_domain_input LIBS sendcheck_lib)
sendcheck_unit_test(profile MODULES util dns profile)
