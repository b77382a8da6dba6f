# SPF module tests: unit tests and the RFC 7208 conformance suite (openspf test data as kept in pyspf).
sendcheck_unit_test(spf_record MODULES util dns spf)
sendcheck_unit_test(spf_macro MODULES util dns spf)
sendcheck_unit_test(spf_eval MODULES util dns spf)

find_package(yaml-cpp REQUIRED)
add_executable(run_conformance conformance/run_conformance.cpp)
target_link_libraries(run_conformance PRIVATE sc_util sc_dns sc_spf yaml-cpp
                      sendcheck_standard_settings sendcheck_standard_warnings)
add_test(NAME conformance.rfc7208
         COMMAND run_conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/rfc7208-tests.yml)
# The same suite evaluated with prefetch off and on: results, explanations and counts must be identical.
add_test(NAME conformance.rfc7208_prefetch_equivalence
         COMMAND run_conformance --compare-prefetch ${CMAKE_CURRENT_SOURCE_DIR}/conformance/rfc7208-tests.yml)
# The same suite with a memo of sub-evaluations shared by each scenario's tests: every field but the trace identical.
add_test(NAME conformance.rfc7208_memo_equivalence
         COMMAND run_conformance --compare-memo ${CMAKE_CURRENT_SOURCE_DIR}/conformance/rfc7208-tests.yml)
# The same suite through spf::check_hosts (each test's address among others): every address's evaluation, trace
# included, identical to check_host() alone, and fewer queries (evaluations were shared).
add_test(NAME conformance.rfc7208_shared_equivalence
         COMMAND run_conformance --compare-shared ${CMAKE_CURRENT_SOURCE_DIR}/conformance/rfc7208-tests.yml)
# spf::check_hosts: an evaluation shared by addresses equals check_host() for each in every field, the memo included.
sendcheck_unit_test(spf_check_hosts MODULES util dns spf)
sendcheck_unit_test(prefetch_zones MODULES util dns profile spf)
# Options::trace off changes nothing but the trace (demo, integration and error-case zones).
sendcheck_unit_test(spf_trace MODULES util dns profile spf)
# Options::memo (spf::EvaluationMemo) changes no field of any evaluation: shared includes, limits, macros, failures.
sendcheck_unit_test(spf_memo MODULES util dns spf)
# CostOptions::memo (spf::CostMemo) changes no field of any cost report: shared trees, loops, the depth cap, failures.
sendcheck_unit_test(spf_cost_memo MODULES util dns spf)
