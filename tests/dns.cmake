# Tests of the dns module: zone files, caching, layering, overlay (unit), and CaresResolver against knotd
# (integration, through tests/integration/knot/knot_server.py).

sendcheck_unit_test(dns_zone_file MODULES util dns)
sendcheck_unit_test(dns_resolvers MODULES util dns)
