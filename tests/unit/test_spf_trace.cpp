// spf::Options::trace = off (what reports use unless --verbose) must change nothing but the trace: every name with an
// SPF record in the demo zone, the integration-test zones and a zone of error cases is evaluated for Directo's
// addresses and a few others with the trace on and off, and every other field of the Evaluation is compared.

#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace sendcheck;

namespace {

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// Records that end in every kind of error and in an explanation, so the error paths run with the trace off too.
void
add_error_cases(dns::ZoneResolver& zone)
{
  zone.add_txt("fail.example", {"v=spf1 a:host.fail.example -all exp=why.fail.example"});
  zone.add_address("host.fail.example", ip("192.0.2.1"));
  zone.add_txt("why.fail.example", {"%{i} may not send for %{d}"});
  zone.add_txt("timeout.example", {"v=spf1 mx:slow.example -all"});
  zone.add_failure("slow.example", dns::Status::timeout);
  zone.add_txt("timeout-txt.example", {"v=spf1 include:slow.example -all"});
  zone.add_txt("loop.example", {"v=spf1 include:loop.example -all"});
  zone.add_txt("noinclude.example", {"v=spf1 include:nothing.example -all"});
  zone.add_txt("voids.example", {"v=spf1 a:v1.example a:v2.example mx:v3.example -all"});
  zone.add_txt("syntax.example", {"v=spf1 ip4:192.0.2.300 -all"});
  zone.add_txt("two.example", {"v=spf1 -all"});
  zone.add_txt("two.example", {"v=spf1 +all"});
  zone.add_txt("redirect.example", {"v=spf1 ip4:198.51.100.1 redirect=fail.example"});
  zone.add_txt("badredirect.example", {"v=spf1 redirect=%{l}..example"});
  zone.add_txt("ptr.example", {"v=spf1 ptr:example -all"});
  zone.add_txt("many.example", {"v=spf1 a a a a a a a a a a a -all"});
}

void
check_same(const spf::Evaluation& on, const spf::Evaluation& off)
{
  CHECK(off.trace.empty());
  CHECK_FALSE(on.trace.empty());
  CHECK(off.result == on.result);
  CHECK(off.explanation == on.explanation);
  REQUIRE((off.deciding_term != nullptr) == (on.deciding_term != nullptr));
  if (on.deciding_term) {
    CHECK(off.deciding_term->text == on.deciding_term->text);
  }
  CHECK(off.deciding_domain == on.deciding_domain);
  REQUIRE((off.deciding_record == nullptr) == (on.deciding_record == nullptr));
  if (on.deciding_record) {
    CHECK(*off.deciding_record == *on.deciding_record);
  }
  CHECK(off.reason == on.reason);
  CHECK(off.error_code == on.error_code);
  REQUIRE(off.dns_failure.has_value() == on.dns_failure.has_value());
  if (on.dns_failure) {
    CHECK(off.dns_failure->name == on.dns_failure->name);
    CHECK(off.dns_failure->type == on.dns_failure->type);
    CHECK(off.dns_failure->status == on.dns_failure->status);
    CHECK(off.dns_failure->server == on.dns_failure->server);
  }
  REQUIRE(off.parse_error.has_value() == on.parse_error.has_value());
  if (on.parse_error) {
    CHECK(off.parse_error->offset == on.parse_error->offset);
    CHECK(off.parse_error->message == on.parse_error->message);
  }
  CHECK(off.dns_terms == on.dns_terms);
  CHECK(off.void_lookups == on.void_lookups);
}

} // namespace

TEST_CASE("spf::check_host: the trace switch changes only the trace")
{
  std::vector<std::unique_ptr<dns::ZoneResolver>> zones;
  for (const std::string file : {SENDCHECK_SOURCE_DIR "/examples/demo.zone",
                                 SENDCHECK_SOURCE_DIR "/tests/zones/knot-test.zone"}) {
    zones.push_back(std::make_unique<dns::ZoneResolver>(file));
    REQUIRE(dns::load_zone_file(*zones.back(), file));
  }
  zones.push_back(std::make_unique<dns::ZoneResolver>("error cases"));
  add_error_cases(*zones.back());

  std::vector<dns::IpAddress> ips = directo_profile().all_ips(true);
  ips.push_back(ip("192.0.2.1"));
  ips.push_back(ip("198.51.100.1"));
  ips.push_back(ip("2001:db8::1"));

  size_t evaluations = 0;
  size_t errors = 0;
  for (const auto& zone : zones) {
    for (const auto& name : zone->names()) {
      const auto txt = zone->answer(name, dns::RRType::txt);
      if (spf::select_record(*txt).status == spf::SelectionStatus::none) {
        continue;
      }
      for (const auto& address : ips) {
        CAPTURE(name);
        CAPTURE(address.to_string());
        spf::Options options;
        options.helo = "mail.example.net";
        options.timestamp = 1700000000;
        options.trace = spf::Trace::on;
        const auto on = dns::run_sync(*zone, spf::check_host(*zone, address, name, "postmaster@" + name, options));
        options.trace = spf::Trace::off;
        const auto off = dns::run_sync(*zone, spf::check_host(*zone, address, name, "postmaster@" + name, options));
        check_same(on, off);
        ++evaluations;
        if (!on.error_code.empty()) {
          ++errors;
        }
      }
    }
  }
  CHECK(evaluations >= 100);
  CHECK(errors >= 30); // the error paths really ran
}

TEST_CASE("spf::Options: the trace is on by default")
{
  CHECK(spf::Options{}.trace == spf::Trace::on);
}
