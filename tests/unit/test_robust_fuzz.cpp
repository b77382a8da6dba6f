// Regression tests for inputs found by the fuzz targets in fuzz/ (bench/fuzz.sh). Each TEST_CASE names the
// function the input broke; each SUBCASE holds one input, as bytes, and the behaviour now expected.

#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/dkim/public_key.hpp>
#include <sendcheck/dmarc/record.hpp>
#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/report/json.hpp>
#include <sendcheck/spf/evaluator.hpp>
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

TEST_CASE("dmarc::parse_dmarc_record agrees with dmarc::looks_like_dmarc")
{
  SUBCASE("fuzz_dmarc_record crash-dda8a1cd: a ';' before v=DMARC1 parsed although it does not look like DMARC")
  {
    const std::string input = ";v=DMARC1; p=reject; sp=none\x01";
    CHECK_FALSE(dmarc::looks_like_dmarc(input));
    const auto record = dmarc::parse_dmarc_record(input);
    REQUIRE_FALSE(record);
    CHECK(record.error().message == "the record must start with 'v=DMARC1'");
    CHECK(record.error().position == 0);
  }
  SUBCASE("fuzz_dmarc_record crash-fb241f30: 'v\\r\\r\\r=DMARC1' parsed (CR is whitespace to the parser) but did not "
          "look like DMARC")
  {
    const std::string input = "v\r\r\r=DMARC1; p=reject; sp=none";
    CHECK(dmarc::looks_like_dmarc(input));
    CHECK(dmarc::parse_dmarc_record(input));
  }
  SUBCASE("an upper-case V is still DMARC (RFC 7489 section 6.4: the \"v\" literal is case-insensitive)")
  {
    CHECK(dmarc::looks_like_dmarc("V=DMARC1; p=none"));
    CHECK(dmarc::parse_dmarc_record("V=DMARC1; p=none"));
    CHECK_FALSE(dmarc::looks_like_dmarc("v=dmarc1; p=none"));
  }
}

TEST_CASE("spf::expand of a single label longer than 253 octets")
{
  SUBCASE("fuzz_spf_macro crash-8544617e: %{H} of a long helo URL-escapes to one 300-octet label")
  {
    const auto macro = spf::parse_macro_string("%{H}", spf::MacroUse::domain_spec);
    REQUIRE(macro);
    spf::MacroContext context;
    context.helo = "example.c.&e" + std::string(84, '\x9e') + "lx";
    const std::string expanded = spf::expand(*macro, context, spf::MacroUse::domain_spec);
    // No label boundary to cut at: the label stays whole, and check_host does not accept it as a domain.
    CHECK(expanded.size() > 253);
    CHECK(expanded.find('.') == std::string::npos);
    CHECK(expanded.rfind("%26e%9E%9E", 0) == 0);
    CHECK_FALSE(spf::is_valid_domain(expanded));
  }
}
