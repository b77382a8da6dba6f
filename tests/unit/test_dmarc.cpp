#include <sendcheck/dmarc/check.hpp>
#include <sendcheck/dmarc/record.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include "../support/findings.hpp"

#include <doctest/doctest.h>

using namespace sendcheck;
using namespace sendcheck::dmarc;

namespace {


using test::codes_of;
using test::find_code;

} // namespace

TEST_CASE("dmarc::parse_dmarc_record")
{
  SUBCASE("every policy")
  {
    CHECK(parse_dmarc_record("v=DMARC1; p=none")->effective_policy() == Policy::none);
    CHECK(parse_dmarc_record("v=DMARC1; p=quarantine")->effective_policy() == Policy::quarantine);
    CHECK(parse_dmarc_record("v=DMARC1; p=reject")->effective_policy() == Policy::reject);
    CHECK(parse_dmarc_record("v=DMARC1;p=Reject;")->effective_policy() == Policy::reject);
  }
  SUBCASE("all tags")
  {
    auto record = parse_dmarc_record("v=DMARC1; p=quarantine; sp=reject; np=reject; pct=50; adkim=s; aspf=r; "
                                     "rua=mailto:a@example.ee, mailto:b@example.ee; ruf=mailto:f@example.ee; "
                                     "fo=1:d; ri=3600; psd=n; t=y");
    REQUIRE(record);
    CHECK(record->policy == Policy::quarantine);
    CHECK(record->subdomain_policy == Policy::reject);
    CHECK(record->nonexistent_policy == Policy::reject);
    CHECK(record->percent == 50);
    CHECK(record->percent_given);
    CHECK(record->adkim == Alignment::strict);
    CHECK(record->aspf == Alignment::relaxed);
    CHECK(record->rua == std::vector<std::string>{"mailto:a@example.ee", "mailto:b@example.ee"});
    CHECK(record->ruf == std::vector<std::string>{"mailto:f@example.ee"});
    CHECK(record->failure_options == "1:d");
    CHECK(record->report_interval == 3600);
    CHECK(record->psd == 'n');
    CHECK(record->test_mode);
    CHECK(record->subdomain_effective_policy() == Policy::reject);
    REQUIRE(record->issues.size() == 2);
    CHECK(record->issues[0].kind == IssueKind::retired);
    CHECK(record->issues[0].message == "'pct=' is retired by DMARCbis");
    CHECK(record->issues[1].message == "'ri=' is retired by DMARCbis");
  }
  SUBCASE("defaults")
  {
    auto record = parse_dmarc_record("v=DMARC1; p=reject");
    REQUIRE(record);
    CHECK_FALSE(record->subdomain_policy);
    CHECK(record->subdomain_effective_policy() == Policy::reject);
    CHECK(record->subdomain_effective_policy(DmarcRecord::Existence::nonexistent) == Policy::reject);
    CHECK(record->percent == 100);
    CHECK(record->adkim == Alignment::relaxed);
    CHECK(record->aspf == Alignment::relaxed);
    CHECK(record->failure_options == "0");
    CHECK(record->report_interval == 86400);
    CHECK(record->issues.empty());
  }
  SUBCASE("missing p= is read as none (DMARCbis)")
  {
    auto record = parse_dmarc_record("v=DMARC1; rua=mailto:a@example.ee");
    REQUIRE(record);
    CHECK_FALSE(record->policy);
    CHECK(record->effective_policy() == Policy::none);
    REQUIRE(record->issues.size() == 1);
    CHECK(record->issues[0].kind == IssueKind::missing_policy);
  }
  SUBCASE("syntax errors with positions")
  {
    auto not_first = parse_dmarc_record("p=reject; v=DMARC1");
    REQUIRE_FALSE(not_first);
    CHECK(not_first.error().position == 0);
    CHECK(not_first.error().message == "the record must start with 'v=DMARC1'");

    auto version = parse_dmarc_record("v=DMARC2; p=reject");
    REQUIRE_FALSE(version);
    CHECK(version.error().position == 2);
    CHECK(version.error().message == "'v=DMARC2' is not a DMARC version; it must be exactly 'v=DMARC1'");

    auto policy = parse_dmarc_record("v=DMARC1; p=block");
    REQUIRE_FALSE(policy);
    CHECK(policy.error().position == 12);
    CHECK(policy.error().message == "'p=block' is not a policy; use none, quarantine or reject");

    auto duplicate = parse_dmarc_record("v=DMARC1; p=none; p=reject");
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().position == 18);
    CHECK(duplicate.error().message == "the tag 'p' appears twice; a DMARC record must not repeat a tag");

    auto no_equals = parse_dmarc_record("v=DMARC1; p=none; reject");
    REQUIRE_FALSE(no_equals);
    CHECK(no_equals.error().position == 18);
    CHECK(no_equals.error().message == "'reject' is not a tag: a tag is written name=value");

    auto bad_name = parse_dmarc_record("v=DMARC1; p=none; r-ua=x");
    REQUIRE_FALSE(bad_name);
    CHECK(bad_name.error().message == "'r-ua' is not a valid tag name");
  }
  SUBCASE("bad optional values fall back to defaults")
  {
    auto record = parse_dmarc_record("v=DMARC1; p=reject; sp=block; adkim=x; pct=150; rua=dmarc@example.ee");
    REQUIRE(record);
    CHECK_FALSE(record->subdomain_policy);
    CHECK(record->adkim == Alignment::relaxed);
    CHECK(record->percent == 100);
    CHECK(record->rua.empty());
    REQUIRE(record->issues.size() == 5);
    CHECK(record->issues[0].kind == IssueKind::bad_value);
    CHECK(record->issues[0].position == 23);
    CHECK(record->issues[0].message == "'sp=block' is not valid (none, quarantine or reject); the default is used instead");
    CHECK(record->issues[4].message
          == "'rua=dmarc@example.ee' is not valid (a comma-separated list of URIs such as mailto:dmarc@example.com); "
             "the default is used instead");
  }
  SUBCASE("unknown tags are ignored and reported")
  {
    auto record = parse_dmarc_record("v=DMARC1; p=none; foo=bar");
    REQUIRE(record);
    REQUIRE(record->issues.size() == 1);
    CHECK(record->issues[0].kind == IssueKind::unknown_tag);
    CHECK(record->issues[0].position == 18);
  }
  SUBCASE("looks_like_dmarc")
  {
    CHECK(looks_like_dmarc("v=DMARC1; p=none"));
    CHECK(looks_like_dmarc("  v = DMARC1 ;p=none"));
    CHECK(looks_like_dmarc("v=DMARC1"));
    CHECK_FALSE(looks_like_dmarc("v=spf1 -all"));
    CHECK_FALSE(looks_like_dmarc("v=DMARC10; p=none"));
    CHECK_FALSE(looks_like_dmarc("p=none; v=DMARC1"));
  }
}

TEST_CASE("dmarc::organizational_domain")
{
  CHECK(organizational_domain("shop.example.co.uk") == "example.co.uk");
  CHECK(organizational_domain("Mail.Example.EE.") == "example.ee");
  // com.ee is a public suffix in the built-in list, so example.com.ee is itself registrable.
  CHECK(organizational_domain("example.com.ee") == "example.com.ee");
  CHECK(organizational_domain("a.b.example.com.ee") == "example.com.ee");
  CHECK(organizational_domain("ee") == "ee");
  CHECK(aligned("mail.example.ee", "example.ee", Alignment::relaxed));
  CHECK_FALSE(aligned("mail.example.ee", "example.ee", Alignment::strict));
  CHECK(aligned("Example.ee", "example.ee.", Alignment::strict));
  CHECK_FALSE(aligned("directo.ee", "example.ee", Alignment::relaxed));
}

TEST_CASE("dmarc::check_dmarc")
{
  dns::ZoneResolver zone("test data");
  const auto check = [&](const std::string& domain) { return dns::run_sync(zone, check_dmarc(zone, domain)); };

  SUBCASE("p=reject at the domain")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=reject; rua=mailto:d@example.ee"});
    const auto report = check("Example.EE");
    CHECK(report.status == DmarcStatus::ok);
    CHECK(report.source == PolicySource::domain);
    CHECK(report.policy == Policy::reject);
    CHECK(report.policy_domain == "example.ee");
    CHECK(report.record_name == "_dmarc.example.ee");
    CHECK(report.queried == std::vector<std::string>{"_dmarc.example.ee"});
    CHECK(codes_of(report.findings) == "dmarc.policy");
    CHECK(report.findings[0].message
          == "The DMARC policy for example.ee is reject (p=reject at _dmarc.example.ee); alignment: DKIM relaxed, SPF "
             "relaxed");
  }
  SUBCASE("p=quarantine with strict alignment")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=quarantine; adkim=s; rua=mailto:d@example.ee"});
    const auto report = check("example.ee");
    CHECK(report.policy == Policy::quarantine);
    CHECK(report.adkim == Alignment::strict);
    CHECK(codes_of(report.findings) == "dmarc.policy,dmarc.strict_alignment");
  }
  SUBCASE("p=none is monitoring only, no rua")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=none"});
    const auto report = check("example.ee");
    CHECK(report.policy == Policy::none);
    CHECK(codes_of(report.findings) == "dmarc.policy,dmarc.monitoring_only,dmarc.no_rua");
    CHECK(find_code(report.findings, "dmarc.no_rua")->fix == "Add rua=mailto:dmarc-reports@example.ee (an address you read).");
  }
  SUBCASE("missing p= (DMARCbis: none)")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; rua=mailto:d@example.ee"});
    const auto report = check("example.ee");
    CHECK(report.status == DmarcStatus::ok);
    CHECK(report.policy == Policy::none);
    CHECK(codes_of(report.findings) == "dmarc.missing_policy,dmarc.policy,dmarc.monitoring_only");
  }
  SUBCASE("pct below 100 is retired in DMARCbis")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=quarantine; pct=25; rua=mailto:d@example.ee"});
    const auto report = check("example.ee");
    CHECK(codes_of(report.findings) == "dmarc.policy,dmarc.pct_retired");
    const auto* pct = find_code(report.findings, "dmarc.pct_retired");
    CHECK(pct->severity == Severity::warning);
    CHECK(pct->message
          == "pct=25: the policy is asked for only 25% of failing mail; DMARCbis retired pct, so receivers following "
             "it apply the policy to all failing mail");
  }
  SUBCASE("syntax error")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=block"});
    const auto report = check("example.ee");
    CHECK(report.status == DmarcStatus::invalid);
    CHECK_FALSE(report.policy);
    REQUIRE(codes_of(report.findings) == "dmarc.syntax");
    CHECK(report.findings[0].message
          == "The DMARC record at _dmarc.example.ee is not valid: 'p=block' is not a policy; use none, quarantine or "
             "reject (offset 12)");
  }
  SUBCASE("several records")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=none"});
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=reject"});
    zone.add_txt("_dmarc.example.ee", {"some-verification=abc"});
    const auto report = check("example.ee");
    CHECK(report.status == DmarcStatus::invalid);
    CHECK(report.records.size() == 2);
    CHECK_FALSE(report.policy);
    CHECK(codes_of(report.findings) == "dmarc.other_txt,dmarc.multiple_records");
  }
  SUBCASE("no record anywhere")
  {
    const auto report = check("shop.example.co.uk");
    CHECK(report.status == DmarcStatus::none);
    CHECK(report.source == PolicySource::none);
    CHECK(report.organizational_domain == "example.co.uk");
    CHECK(report.queried
          == std::vector<std::string>{"_dmarc.shop.example.co.uk", "_dmarc.example.co.uk", "_dmarc.co.uk", "_dmarc.uk"});
    REQUIRE(codes_of(report.findings) == "dmarc.none");
    CHECK(report.findings[0].severity == Severity::warning);
    CHECK(report.findings[0].fix
          == "Start with TXT at _dmarc.example.co.uk: v=DMARC1; p=none; rua=mailto:dmarc-reports@example.co.uk");
  }
  SUBCASE("organizational domain fallback uses sp")
  {
    zone.add_txt("_dmarc.example.co.uk", {"v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@example.co.uk"});
    const auto report = check("shop.example.co.uk");
    CHECK(report.status == DmarcStatus::ok);
    CHECK(report.source == PolicySource::ancestor);
    CHECK(report.policy_domain == "example.co.uk");
    CHECK(report.policy == Policy::quarantine);
    CHECK(codes_of(report.findings) == "dmarc.policy,dmarc.inherited");
    CHECK(report.findings[0].message
          == "The DMARC policy for shop.example.co.uk is quarantine (sp=quarantine at _dmarc.example.co.uk); "
             "alignment: DKIM relaxed, SPF relaxed");
    CHECK(report.findings[1].message
          == "shop.example.co.uk has no DMARC record of its own; the policy comes from its parent domain "
             "example.co.uk (DMARCbis DNS tree walk)");
  }
  SUBCASE("fallback without sp uses p")
  {
    zone.add_txt("_dmarc.example.com.ee", {"v=DMARC1; p=reject; rua=mailto:d@example.com.ee"});
    const auto report = check("a.b.example.com.ee");
    CHECK(report.policy == Policy::reject);
    CHECK(report.organizational_domain == "example.com.ee");
    CHECK(report.queried
          == std::vector<std::string>{"_dmarc.a.b.example.com.ee", "_dmarc.b.example.com.ee",
                                      "_dmarc.example.com.ee"});
  }
  SUBCASE("tree walk finds an intermediate record RFC 7489 would miss")
  {
    zone.add_txt("_dmarc.b.example.ee", {"v=DMARC1; p=none; sp=reject; rua=mailto:d@example.ee"});
    const auto report = check("a.b.example.ee");
    CHECK(report.policy_domain == "b.example.ee");
    CHECK(report.policy == Policy::reject);
    CHECK(find_code(report.findings, "dmarc.inherited")->message
          == "a.b.example.ee has no DMARC record of its own; the policy comes from its parent domain b.example.ee "
             "(DMARCbis DNS tree walk); RFC 7489 would have looked only at the organizational domain example.ee");
  }
  SUBCASE("a long name is shortened to 7 labels before walking up")
  {
    const auto report = check("a.b.c.d.e.f.g.h.i.example.ee");
    REQUIRE(report.queried.size() == 8);
    CHECK(report.queried[0] == "_dmarc.a.b.c.d.e.f.g.h.i.example.ee");
    CHECK(report.queried[1] == "_dmarc.e.f.g.h.i.example.ee");
    CHECK(report.queried.back() == "_dmarc.ee");
  }
  SUBCASE("DNS failure")
  {
    zone.add_failure("_dmarc.example.ee", dns::Status::timeout);
    const auto report = check("example.ee");
    CHECK(report.status == DmarcStatus::temperror);
    REQUIRE(codes_of(report.findings) == "dmarc.temperror");
    CHECK(report.findings[0].message
          == "The DNS lookup of _dmarc.example.ee failed (timeout from test data, timeout for _dmarc.example.ee TXT); the DMARC policy "
             "is unknown");
  }
  SUBCASE("unknown tags and retired tags are reported")
  {
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=reject; rf=afrf; foo=1; rua=mailto:d@example.ee"});
    const auto report = check("example.ee");
    CHECK(codes_of(report.findings) == "dmarc.retired_tag,dmarc.unknown_tag,dmarc.policy");
  }
}
