# Suggest module tests: the merged, verified SPF record (--suggest), unit cases and a property test.
sendcheck_unit_test(suggest MODULES util dns profile spf suggest)
sendcheck_unit_test(suggest_property MODULES util dns profile spf suggest)
