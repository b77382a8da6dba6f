// Regression tests for inputs found by the fuzz targets in fuzz/ (bench/fuzz.sh). Each TEST_CASE names the
// function the input broke; each SUBCASE holds one input, as bytes, and the behaviour now expected.

#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/dkim/public_key.hpp>
#include <sendcheck/dmarc/record.hpp>
#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/report/json.hpp>
#include <sendcheck/spf/macro.hpp>
#include <sendcheck/spf/record.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace sendcheck;

TEST_CASE("spf::parse_record canonical round trip")
{
  SUBCASE("a record with every kind of term prints to a text that parses to the same text")
  {
    const auto record = spf::parse_record("v=spf1 +a/24//64 -mx:%{d}.example.com ~ip6:2001:DB8::/32 ?exists:%{ir}.x "
                                          "include:_spf.example.com redirect=example.org foo=%{l}");
    REQUIRE(record);
    const std::string canonical = spf::to_string(*record);
    const auto again = spf::parse_record(canonical);
    REQUIRE(again);
    CHECK(spf::to_string(*again) == canonical);
  }
}
