# Robustness tests: fuzz-found regressions (unit), and the hostile loopback DNS responder (tests/hostile/) driving
# dns::CaresResolver + spf::check_host directly and the sendcheck binary end to end. The responder needs the
# system python3 with dnspython (Debian python3-dnspython), not whatever python3 is first on PATH.

sendcheck_unit_test(robust_fuzz MODULES util dns spf dkim dmarc profile suggest report
                    LIBS OpenSSL::Crypto PkgConfig::PSL nlohmann_json::nlohmann_json)

find_program(SENDCHECK_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
set(sendcheck_hostile_ok OFF)
if(SENDCHECK_SYSTEM_PYTHON)
  execute_process(COMMAND ${SENDCHECK_SYSTEM_PYTHON} -c "import dns.message, dns.rrset"
                  RESULT_VARIABLE sendcheck_dnspython_missing OUTPUT_QUIET ERROR_QUIET)
  if(sendcheck_dnspython_missing EQUAL 0)
    set(sendcheck_hostile_ok ON)
  endif()
endif()

add_executable(test_robust_cares unit/test_robust_cares.cpp)
target_link_libraries(test_robust_cares PRIVATE sc_util sc_dns sc_spf sc_profile sendcheck_doctest_main
                      sendcheck_standard_settings sendcheck_standard_warnings)

if(sendcheck_hostile_ok)
  set(hostile_dir ${CMAKE_CURRENT_SOURCE_DIR}/hostile)
  add_test(NAME hostile.cares
           COMMAND ${SENDCHECK_SYSTEM_PYTHON} ${hostile_dir}/hostile_dns.py run ${hostile_dir}/scenario.py
                   --log ${CMAKE_CURRENT_BINARY_DIR}/hostile-cares.log -- $<TARGET_FILE:test_robust_cares>)
  add_test(NAME hostile.cli COMMAND ${SENDCHECK_SYSTEM_PYTHON} ${hostile_dir}/test_hostile_cli.py $<TARGET_FILE:sendcheck>)
  set_tests_properties(hostile.cares hostile.cli PROPERTIES TIMEOUT 300 LABELS hostile)
else()
  message(STATUS "/usr/bin/python3 with dnspython not found: the hostile DNS tests are not registered")
endif()
