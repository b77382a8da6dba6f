sendcheck_unit_test(cli_domain_input MODULES util dns cli LIBS PkgConfig::IDN2)
sendcheck_unit_test(profile MODULES util dns profile)
