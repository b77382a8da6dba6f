# Tests of the sender profile: the profile file (unit), the allowlist formats (unit), and --allowlist --check,
# --show-profile and --profile through the built sendcheck against knotd (integration).
# (test_profile itself, compact_ip_terms, is registered in cli.cmake.)

sendcheck_unit_test(profile_file MODULES util dns profile)
sendcheck_unit_test(profile_allowlist LIBS sendcheck_lib)

# --allowlist (every format, --check against knotd and offline zones), --show-profile, and --profile changing the
# SPF verdicts of the domain checks, through the built sendcheck.
find_program(SENDCHECK_PROFILE_KNOTD knotd PATHS /usr/sbin /sbin)
if(SENDCHECK_PROFILE_KNOTD AND EXISTS /usr/bin/python3)
  add_test(NAME integration.profile.allowlist
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/allowlist/test_allowlist.py
                   $<TARGET_FILE:sendcheck>)
  set_tests_properties(integration.profile.allowlist PROPERTIES LABELS integration TIMEOUT 300)
else()
  message(STATUS "knotd or /usr/bin/python3 not found: integration.profile.allowlist is not registered")
endif()
