# End-to-end DKIM/DMARC/verdict tests (issue 5; auto-included by tests/CMakeLists.txt): the sendcheck binary on a zone
# file with keys generated at test time by `openssl`, offline and through knotd; and the verdict from in-memory
# reports. The script needs the system python3 (/usr/bin/python3), openssl and knotd.
add_test(NAME integration.dkim.e2e
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/dkim/test_dkim_e2e.py $<TARGET_FILE:sendcheck>)
set_tests_properties(integration.dkim.e2e PROPERTIES LABELS integration TIMEOUT 600)
sendcheck_unit_test(verdict LIBS sendcheck_lib)
