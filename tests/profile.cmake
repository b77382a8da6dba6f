# Tests of the sender profile: the profile file (unit), the allowlist formats (unit), and --allowlist --check,
# --show-profile and --profile through the built sendcheck against knotd (integration).
# (test_profile itself, compact_ip_terms, is registered in cli.cmake.)

sendcheck_unit_test(profile_file MODULES util dns profile)
sendcheck_unit_test(profile_allowlist LIBS sendcheck_lib)
