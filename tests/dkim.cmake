# DKIM and DMARC unit tests (auto-included by tests/CMakeLists.txt).
sendcheck_unit_test(dkim MODULES util dns profile dkim)
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_dmarc.cpp)
  sendcheck_unit_test(dmarc MODULES util dns dmarc)
endif()
