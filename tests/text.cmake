# The text report: wrapping and the escaping of text from DNS.
sendcheck_unit_test(report_text LIBS sendcheck_lib)
