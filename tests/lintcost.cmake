# Lint and cost analysis (issue 8): lint_domain parses each record once and gives the same findings with or without
# the shared parse cache; the cost tree keeps each node's record; the sender findings of check_domain (exact texts).
sendcheck_unit_test(spf_lintcost LIBS sendcheck_lib)
