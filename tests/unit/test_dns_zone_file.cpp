#include <sendcheck/dns/zone_file.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace sendcheck;
using dns::IpAddress;
using dns::RRType;
using dns::Status;

namespace {

const std::string k_zones = std::string(SENDCHECK_SOURCE_DIR) + "/tests/zones/";

/// Loads `text` into a fresh zone and returns the error; fails the test when it loads.
dns::ZoneFileError
load_error(std::string_view text, std::string_view origin = "example.ee")
{
  dns::ZoneResolver zone;
  auto result = dns::load_zone_text(zone, text, "test.zone", origin);
  REQUIRE_FALSE(result);
  CHECK(zone.names().empty()); // never a partial load
  CHECK(zone.apexes().empty());
  return result.error();
}

} // namespace

TEST_CASE("dns::load_zone_file")
{
  SUBCASE("good file: types, relative names, $ORIGIN, apex")
  {
    dns::ZoneResolver zone("zone file loader-good.zone");
    const auto result = dns::load_zone_file(zone, k_zones + "loader-good.zone");
    REQUIRE(result);
    CHECK(result->origin == "example.ee");
    CHECK(result->record_count == 12);
    CHECK(result->skipped_types == 3); // SOA, NS, SRV
    CHECK(zone.apexes() == std::vector<std::string>{ "example.ee" });
    CHECK(zone.covers("anything.example.ee"));
    CHECK_FALSE(zone.covers("example.net"));

    const auto mx = zone.answer("example.ee", RRType::mx);
    REQUIRE(mx->mx.size() == 2);
    CHECK(mx->mx[0].preference == 10);
    CHECK(mx->mx[0].exchange == "mail.example.ee");
    CHECK(mx->mx[1].exchange == "mail.backup.example.net");

    const auto txt = zone.answer("example.ee", RRType::txt);
    REQUIRE(txt->txt.size() == 2);
    // TXT records come back in canonical order (dns::sort_txt_records), not as written.
    CHECK(txt->txt[0].strings == std::vector<std::string>{ "google-site-verification=abc" });
    CHECK(txt->txt[1].strings == std::vector<std::string>{ "v=spf1 ip4:192.0.2.1 ", "include:_spf.example.net -all" });

    CHECK(zone.answer("mail.example.ee", RRType::a)->addresses == std::vector{ *IpAddress::parse("192.0.2.25") });
    CHECK(zone.answer("mail.example.ee", RRType::aaaa)->addresses == std::vector{ *IpAddress::parse("2001:db8::25") });
    const auto www = zone.answer("www.example.ee", RRType::txt);
    CHECK(www->status == Status::ok);
    CHECK(www->cname_chain == std::vector<std::string>{ "example.ee" });
    CHECK(zone.answer("_dmarc.example.ee", RRType::txt)->txt.at(0).strings ==
          std::vector<std::string>{ "v=DMARC1; p=none" });
    CHECK(zone.answer("25.2.0.192.in-addr.arpa", RRType::ptr)->names == std::vector<std::string>{ "mail.example.ee" });
    CHECK(zone.answer("srv.example.ee", RRType::txt)->status == Status::nxdomain); // skipped types leave no data
  }
  SUBCASE("escaped quotes and semicolons in TXT")
  {
    dns::ZoneResolver zone;
    REQUIRE(dns::load_zone_file(zone, k_zones + "loader-good.zone"));
    CHECK(zone.answer("quoted.example.ee", RRType::txt)->txt.at(0).strings ==
          std::vector<std::string>{ "say \"hi\"; not a comment" });
    CHECK(zone.answer("semi.example.ee", RRType::txt)->txt.at(0).strings ==
          std::vector<std::string>{ "a;b", "c\\d", "AB" });
  }
  SUBCASE("names with escapes, spaces, bytes over 127 and upper case: presentation form, normalized")
  {
    dns::ZoneResolver zone;
    const auto result = dns::load_zone_text(zone,
                                            "a\\.b TXT \"dot\"\n"
                                            "back\\\\slash TXT \"backslash\"\n"
                                            "sp\\032ace TXT \"space\"\n"
                                            "m\\195\\188nchen TXT \"utf8\"\n"
                                            "MiXeD.Sub TXT \"mixed\"\n"
                                            "mx MX 10 Mail\\.Host.Example.EE.\n"
                                            "ptr PTR a\\.b\n"
                                            "long-label-0123456789abcdefghijklmnopqrstuvwxyz TXT \"plain\"\n",
                                            "test.zone",
                                            "Example.EE");
    REQUIRE(result);
    CHECK(zone.names() == std::vector<std::string>{ "a\\.b.example.ee",
                                                    "back\\\\slash.example.ee",
                                                    "long-label-0123456789abcdefghijklmnopqrstuvwxyz.example.ee",
                                                    "m\\195\\188nchen.example.ee",
                                                    "mixed.sub.example.ee",
                                                    "mx.example.ee",
                                                    "ptr.example.ee",
                                                    "sp\\032ace.example.ee" });
    CHECK(zone.answer("mx.example.ee", RRType::mx)->mx.at(0).exchange == "mail\\.host.example.ee");
    CHECK(zone.answer("ptr.example.ee", RRType::ptr)->names == std::vector<std::string>{ "a\\.b.example.ee" });
    CHECK(zone.answer("A\\.B.Example.EE.", RRType::txt)->txt.at(0).joined() == "dot");
    CHECK(zone.answer("sub.example.ee", RRType::txt)->status == Status::nodata);
  }
  SUBCASE("every SOA owner becomes an apex; origin is the first")
  {
    dns::ZoneResolver zone;
    const auto result = dns::load_zone_file(zone, k_zones + "loader-two-soa.zone");
    REQUIRE(result);
    CHECK(result->origin == "example.org");
    CHECK(zone.apexes() == std::vector<std::string>{ "example.org", "sub.example.net" });
    CHECK(zone.covers("x.sub.example.net"));
    CHECK_FALSE(zone.covers("example.net"));
  }
  SUBCASE("default origin for relative names")
  {
    dns::ZoneResolver zone;
    const auto result =
      dns::load_zone_text(zone, "@ IN TXT \"v=spf1 -all\"\nmail IN A 192.0.2.1\n", "x", "Example.EE.");
    REQUIRE(result);
    CHECK(result->origin == "example.ee");
    CHECK(zone.apexes() == std::vector<std::string>{ "example.ee" });
    CHECK(zone.answer("mail.example.ee", RRType::a)->status == Status::ok);
  }
  SUBCASE("no origin at all: absolute names load, no apex")
  {
    dns::ZoneResolver zone;
    const auto result = dns::load_zone_text(zone, "a.example. 60 IN A 192.0.2.1\n", "x");
    REQUIRE(result);
    CHECK(result->origin.empty());
    CHECK(zone.apexes().empty());
    CHECK(zone.has_name("a.example"));
  }
  SUBCASE("empty file")
  {
    dns::ZoneResolver zone;
    const auto result = dns::load_zone_text(zone, "; nothing\n", "x", "example.ee");
    REQUIRE(result);
    CHECK(result->record_count == 0);
    CHECK(result->origin == "example.ee");
  }
  SUBCASE("a quoted string over 255 octets is split by the scanner into 255-octet strings")
  {
    dns::ZoneResolver zone;
    REQUIRE(dns::load_zone_text(zone, "@ IN TXT \"" + std::string(300, 'x') + "\" y\n", "x", "example.ee"));
    const auto answer = zone.answer("example.ee", RRType::txt);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].strings == std::vector<std::string>{ std::string(255, 'x'), std::string(45, 'x'), "y" });
  }
  SUBCASE("syntax errors name their line and what was expected")
  {
    auto error = load_error("@ IN A 192.0.2.1\nmail IN A 192.0.2\n");
    CHECK(error.file == "test.zone");
    CHECK(error.line == 2);
    CHECK(error.column == 0);
    CHECK(error.message == "invalid IPv4 address: expected an IPv4 address such as 192.0.2.1");
    CHECK(dns::to_string(error) == "test.zone:2: invalid IPv4 address: expected an IPv4 address such as 192.0.2.1");

    error = load_error("\n\nmail IN AAAA 2001:db8::zz\n");
    CHECK(error.line == 3);
    CHECK(error.message.find("IPv6 such as 2001:db8::1 for AAAA") != std::string::npos);

    error = load_error("x IN A 192.0.2.1 extra\n");
    CHECK(error.message == "unexpected data: unexpected text after the record's data; put comments after ';'");

    error = load_error("x IN CNAME a..b\n");
    CHECK(error.message.find("expected a domain name") != std::string::npos);

    error = load_error("@ IN TXT \"v=spf1 -all\"\n@ IN TXT \"unclosed\n");
    CHECK(error.line == 2);
    CHECK(error.message.find("every opening quote is closed") != std::string::npos);

    error = load_error("@ IN MX ten mail\n");
    CHECK(error.line == 1);
    CHECK(error.message.find("expected a number") != std::string::npos);

    error = load_error("@ IN BOGUS foo\n");
    CHECK(error.line == 1);

    error = load_error("@ IN A 192.0.2.1\n$ORIGNI example.ee.\n");
    CHECK(error.line == 2);
    CHECK(error.message.find("$ORIGIN, $TTL or $INCLUDE") != std::string::npos);

    error = load_error("@ IN SOA ns h ( 1 2 3 4\n 5\n");
    CHECK(error.message.find("'('") != std::string::npos);

    error = load_error(" IN A 192.0.2.1\n", {});
    CHECK(error.line == 1);

    error = load_error(std::string(64, 'a') + " IN A 192.0.2.1\n");
    CHECK(error.line == 1);
    CHECK(error.message.find("63 characters") != std::string::npos);
  }
  SUBCASE("the first error wins and nothing is loaded even when later lines are good")
  {
    const auto error = load_error("@ IN A 1.2.3\n@ IN A 192.0.2.1\nx IN A 4.5.6\n");
    CHECK(error.line == 1);
  }
  SUBCASE("missing or unreadable files")
  {
    dns::ZoneResolver zone;
    auto result = dns::load_zone_file(zone, k_zones + "does-not-exist.zone");
    REQUIRE_FALSE(result);
    CHECK(result.error().line == 0);
    CHECK(result.error().message == "cannot open the zone file: No such file or directory");
    CHECK(dns::to_string(result.error()) ==
          k_zones + "does-not-exist.zone: cannot open the zone file: No such file or directory");

    result = dns::load_zone_file(zone, k_zones);
    REQUIRE_FALSE(result);
    CHECK(result.error().message == "cannot read the zone file: it is not a regular file");
  }
  SUBCASE("Windows line ends")
  {
    dns::ZoneResolver zone;
    const auto result = dns::load_zone_file(zone, k_zones + "loader-crlf.zone");
    if (result) {
      CHECK(zone.answer("example.ee", RRType::a)->status == Status::ok);
    } else {
      CHECK(result.error().message.find("line ends") != std::string::npos);
    }
  }
  SUBCASE("an invalid default origin")
  {
    dns::ZoneResolver zone;
    const auto result = dns::load_zone_text(zone, "", "x", "bad..origin");
    REQUIRE_FALSE(result);
    CHECK(result.error().message.find("bad..origin") != std::string::npos);
  }
}
