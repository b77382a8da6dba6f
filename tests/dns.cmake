# Tests of the dns module: zone files, caching, layering, overlay (unit), and CaresResolver against knotd
# (integration, through tests/integration/knot/knot_server.py).

sendcheck_unit_test(dns_zone_file MODULES util dns)
sendcheck_unit_test(dns_resolvers MODULES util dns)
sendcheck_unit_test(dns_cares MODULES util dns)
sendcheck_unit_test(dns_answer_records MODULES util dns)

# CaresResolver against knotd on a free loopback port, started and stopped by the harness.
add_executable(test_dns_cares_knot integration/test_dns_cares_knot.cpp)
target_link_libraries(test_dns_cares_knot PRIVATE sc_util sc_dns sendcheck_doctest_main
                      sendcheck_standard_settings sendcheck_standard_warnings)
find_program(SENDCHECK_KNOTD knotd PATHS /usr/sbin /sbin)
find_package(Python3 COMPONENTS Interpreter)
if(SENDCHECK_KNOTD AND Python3_Interpreter_FOUND)
  set(knot_harness ${CMAKE_CURRENT_SOURCE_DIR}/integration/knot/knot_server.py)
  add_test(NAME integration.dns.cares_knot
           COMMAND ${Python3_EXECUTABLE} ${knot_harness} run
                   --zone ${CMAKE_CURRENT_SOURCE_DIR}/zones/knot-test.zone:knot.test
                   --zone ${CMAKE_CURRENT_SOURCE_DIR}/zones/knot-reverse.zone
                   -- $<TARGET_FILE:test_dns_cares_knot>)
  add_test(NAME integration.dns.knot_harness
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/knot/test_knot_server.py)
  add_test(NAME integration.dns.knot_sh COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/knot/test_knot_sh.sh)
  set_tests_properties(integration.dns.cares_knot integration.dns.knot_harness integration.dns.knot_sh
                       PROPERTIES TIMEOUT 120
                       LABELS integration)
else()
  message(STATUS "knotd or python3 not found: the knotd integration tests are not registered")
endif()
