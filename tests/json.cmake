# The JSON report writer (issue 8): write_domain_json gives the same bytes as nlohmann's dump of domain_to_json.
sendcheck_unit_test(json_writer LIBS sendcheck_lib)
