#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/report/domain_check.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

// The deliverability verdict: each outcome (delivered, delivered by DKIM alone, spam, rejected, unknown) for the
// ordinary and the bulk stream, from in-memory DomainReports (decide_verdict), and the status and exit code that
// check_domain derives from it on an in-memory zone.

using namespace sendcheck;
using report::Delivery;
using report::DomainReport;
using report::DomainStatus;
using report::IpRole;
using spf::SpfResult;

namespace {

/// The parts of a report that the verdict reads.
struct Scenario
{
  SpfResult ordinary = SpfResult::pass;           ///< SPF result of every ordinary address.
  std::optional<SpfResult> bulk = SpfResult::pass; ///< SPF result of the bulk address; nullopt: not checked.
  dkim::DkimStatus dkim_status = dkim::DkimStatus::no_record;
  dkim::Comparison comparison = dkim::Comparison::not_done;
  std::optional<dmarc::Policy> policy;            ///< nullopt: no DMARC policy.
  dmarc::DmarcStatus dmarc_status = dmarc::DmarcStatus::none;
};

/// An evaluation with `result` and nothing else (what the verdict reads of it).
std::shared_ptr<const spf::Evaluation>
evaluation_with(SpfResult result)
{
  spf::Evaluation evaluation;
  evaluation.result = result;
  return std::make_shared<const spf::Evaluation>(std::move(evaluation));
}

/// A report for example.ee with `scenario`'s SPF results for Directo's addresses, DKIM and DMARC.
DomainReport
make_report(const Scenario& scenario)
{
  const SenderProfile& profile = directo_profile();
  DomainReport out;
  out.domain = "example.ee";
  for (const auto& ip : profile.ordinary_ips) {
    out.ips.emplace_back(ip, IpRole::ordinary, evaluation_with(scenario.ordinary));
  }
  if (scenario.bulk) {
    for (const auto& ip : profile.bulk_ips) {
      out.ips.emplace_back(ip, IpRole::bulk, evaluation_with(*scenario.bulk));
    }
  }
  out.dkim.status = scenario.dkim_status;
  out.dkim.comparison = scenario.comparison;
  out.dmarc.policy = scenario.policy;
  out.dmarc.status = scenario.dmarc_status;
  if (scenario.policy && scenario.dmarc_status == dmarc::DmarcStatus::none) {
    out.dmarc.status = dmarc::DmarcStatus::ok;
  }
  return out;
}

report::Verdict
verdict_of(const Scenario& scenario)
{
  return report::decide_verdict(make_report(scenario), directo_profile());
}

/// The outcome of the stream `role` (which must be present).
Delivery
outcome_of(const report::Verdict& verdict, IpRole role)
{
  for (const auto& stream : verdict.streams) {
    if (stream.role == role) {
      return stream.outcome;
    }
  }
  FAIL("no stream ", report::to_string(role));
  return Delivery::unknown;
}

/// The stream `role` (which must be present).
const report::StreamVerdict&
stream_of(const report::Verdict& verdict, IpRole role)
{
  for (const auto& stream : verdict.streams) {
    if (stream.role == role) {
      return stream;
    }
  }
  FAIL("no stream ", report::to_string(role));
  return verdict.streams.front();
}

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// example.ee with `spf` and (when not empty) `dmarc`, and Directo's sending host, in an in-memory zone.
dns::ZoneResolver
make_zone(const std::string& spf, const std::string& dmarc)
{
  dns::ZoneResolver zone("test data");
  zone.add_apex("example.ee");
  zone.add_apex("gate.ee");
  zone.add_apex("directo.ee");
  zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  zone.add_txt("example.ee", {spf});
  if (!dmarc.empty()) {
    zone.add_txt("_dmarc.example.ee", {dmarc});
  }
  return zone;
}

DomainReport
check(dns::ZoneResolver& zone, report::CheckSet checks = {})
{
  report::CheckOptions options;
  options.profile = std::make_shared<SenderProfile>(directo_profile());
  options.checks = checks;
  return dns::run_sync(zone, report::check_domain(zone, "example.ee", options));
}

} // namespace

TEST_CASE("report::decide_verdict")
{
  const std::string fix_fragment = "'sendcheck --suggest example.ee' prints the record to publish";

  SUBCASE("delivered: SPF passes for every address")
  {
    for (const auto policy : {std::optional<dmarc::Policy>{}, std::optional{dmarc::Policy::none},
                              std::optional{dmarc::Policy::quarantine}, std::optional{dmarc::Policy::reject}}) {
      Scenario scenario;
      scenario.policy = policy;
      const auto verdict = verdict_of(scenario);
      CHECK(verdict.overall == Delivery::delivered);
      REQUIRE(verdict.streams.size() == 2);
      CHECK(verdict.streams[0].role == IpRole::ordinary);
      CHECK(verdict.streams[1].role == IpRole::bulk);
      CHECK(verdict.streams[0].outcome == Delivery::delivered);
      CHECK(verdict.streams[1].outcome == Delivery::delivered);
      CHECK(verdict.streams[0].passing == 4);
      CHECK(verdict.streams[0].total == 4);
      CHECK(verdict.streams[1].passing == 1);
      CHECK(verdict.streams[1].total == 1);
      CHECK(verdict.streams[0].reason == "Ordinary mail: all 4 of Directo's addresses pass SPF.");
      CHECK(verdict.streams[1].reason == "Bulk mail: all 1 of Directo's addresses pass SPF.");
      CHECK(verdict.streams[0].fix.empty());
      CHECK(verdict.streams[1].fix.empty());
      CHECK(verdict.summary == "Directo's mail as example.ee: ordinary mail: delivered; bulk mail: delivered.");
    }
  }

  SUBCASE("delivered by DKIM alone: SPF fails, the domain's own valid key is Directo's")
  {
    Scenario scenario;
    scenario.ordinary = SpfResult::fail;
    scenario.bulk = SpfResult::fail;
    scenario.dkim_status = dkim::DkimStatus::valid;
    scenario.comparison = dkim::Comparison::same_key;
    scenario.policy = dmarc::Policy::reject;
    const auto verdict = verdict_of(scenario);
    CHECK(verdict.overall == Delivery::delivered);
    CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::delivered);
    CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::delivered);
    CHECK(stream_of(verdict, IpRole::ordinary).passing == 0);
    CHECK(stream_of(verdict, IpRole::ordinary).reason
          == "Ordinary mail: 0 of 4 addresses pass SPF; the rest are saved by the domain's own DKIM signature.");
    CHECK(stream_of(verdict, IpRole::bulk).fix.empty());
  }

  SUBCASE("DKIM saves nothing unless the key is valid, Directo's, and at the right name")
  {
    Scenario scenario;
    scenario.ordinary = SpfResult::fail;
    scenario.bulk = SpfResult::fail;
    scenario.policy = dmarc::Policy::reject;
    scenario.dkim_status = dkim::DkimStatus::valid;
    scenario.comparison = dkim::Comparison::different_key;
    CHECK(verdict_of(scenario).overall == Delivery::rejected);
    scenario.comparison = dkim::Comparison::skipped;
    CHECK(verdict_of(scenario).overall == Delivery::rejected);
    // The doubled-name record: the key is Directo's, but verifiers find nothing at the right name.
    scenario.dkim_status = dkim::DkimStatus::no_record;
    scenario.comparison = dkim::Comparison::same_key;
    CHECK(verdict_of(scenario).overall == Delivery::rejected);
    scenario.dkim_status = dkim::DkimStatus::revoked;
    scenario.comparison = dkim::Comparison::not_done;
    CHECK(verdict_of(scenario).overall == Delivery::rejected);
  }

  SUBCASE("spam: SPF softfail and no DMARC")
  {
    Scenario scenario;
    scenario.ordinary = SpfResult::softfail;
    scenario.bulk = SpfResult::softfail;
    const auto verdict = verdict_of(scenario);
    CHECK(verdict.overall == Delivery::spam);
    CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::spam);
    CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::spam);
    const auto& ordinary = stream_of(verdict, IpRole::ordinary);
    CHECK(ordinary.reason
          == "Ordinary mail: 0 of 4 addresses pass SPF (the worst gets 'softfail') and there is no DMARC policy.");
    CHECK(ordinary.fix.view().find(fix_fragment) != std::string::npos);
    CHECK(ordinary.fix.view().find("\"Directo-Reply-To\" sender mode") != std::string::npos);
    CHECK(verdict.summary
          == "Directo's mail as example.ee: ordinary mail: likely to land in spam; bulk mail: likely to land in spam.");
  }

  SUBCASE("spam: quarantine")
  {
    for (const auto result : {SpfResult::softfail, SpfResult::neutral, SpfResult::none, SpfResult::permerror}) {
      CAPTURE(spf::to_string(result));
      Scenario scenario;
      scenario.ordinary = result;
      scenario.bulk = result;
      scenario.policy = dmarc::Policy::quarantine;
      const auto verdict = verdict_of(scenario);
      CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::spam);
      CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::spam);
      CHECK(stream_of(verdict, IpRole::bulk).reason
            == fmt::format("Bulk mail: 0 of 1 addresses pass SPF (the worst gets '{}') and DMARC says 'quarantine'.",
                           spf::to_string(result)));
    }
  }

  SUBCASE("rejected: p=reject and SPF does not pass")
  {
    for (const auto result : {SpfResult::fail, SpfResult::softfail, SpfResult::neutral, SpfResult::none,
                              SpfResult::permerror}) {
      CAPTURE(spf::to_string(result));
      Scenario scenario;
      scenario.ordinary = result;
      scenario.bulk = result;
      scenario.policy = dmarc::Policy::reject;
      const auto verdict = verdict_of(scenario);
      CHECK(verdict.overall == Delivery::rejected);
      CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::rejected);
      CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::rejected);
      CHECK(stream_of(verdict, IpRole::ordinary).fix.view().find(fix_fragment) != std::string::npos);
    }
  }

  SUBCASE("rejected: SPF -all fail whatever DMARC says")
  {
    for (const auto policy : {std::optional<dmarc::Policy>{}, std::optional{dmarc::Policy::none},
                              std::optional{dmarc::Policy::quarantine}}) {
      Scenario scenario;
      scenario.ordinary = SpfResult::fail;
      scenario.bulk = SpfResult::fail;
      scenario.policy = policy;
      const auto verdict = verdict_of(scenario);
      CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::rejected);
      CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::rejected);
    }
    Scenario scenario;
    scenario.ordinary = SpfResult::fail;
    scenario.bulk = SpfResult::fail;
    scenario.policy = dmarc::Policy::none;
    const auto verdict = verdict_of(scenario);
    CHECK(stream_of(verdict, IpRole::ordinary).reason
          == "Ordinary mail: 0 of 4 addresses pass SPF (the worst gets 'fail') and DMARC says 'none'.");
    CHECK(verdict.summary == "Directo's mail as example.ee: ordinary mail: rejected; bulk mail: rejected.");
  }

  SUBCASE("unknown: SPF temperror")
  {
    for (const auto policy : {std::optional<dmarc::Policy>{}, std::optional{dmarc::Policy::reject}}) {
      Scenario scenario;
      scenario.ordinary = SpfResult::temperror;
      scenario.bulk = SpfResult::temperror;
      scenario.policy = policy;
      const auto verdict = verdict_of(scenario);
      CHECK(verdict.overall == Delivery::unknown);
      CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::unknown);
      CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::unknown);
      CHECK(stream_of(verdict, IpRole::bulk).reason
            == "Bulk mail: DNS did not answer (SPF lookup), so the outcome is unknown.");
      CHECK(stream_of(verdict, IpRole::bulk).fix
            == "Check that the domain's DNS servers answer, then run the check again.");
      CHECK(verdict.summary
            == "Directo's mail as example.ee: ordinary mail: unknown (DNS did not answer); bulk mail: unknown (DNS "
               "did not answer).");
    }
  }

  SUBCASE("unknown: the DMARC lookup failed and SPF does not pass")
  {
    Scenario scenario;
    scenario.ordinary = SpfResult::softfail;
    scenario.bulk = SpfResult::softfail;
    scenario.dmarc_status = dmarc::DmarcStatus::temperror;
    const auto verdict = verdict_of(scenario);
    CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::unknown);
    CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::unknown);
    CHECK(stream_of(verdict, IpRole::ordinary).reason
          == "Ordinary mail: DNS did not answer (DMARC lookup), so the outcome is unknown.");
    // When SPF passes, the DMARC policy does not matter.
    scenario.ordinary = SpfResult::pass;
    scenario.bulk = SpfResult::pass;
    CHECK(verdict_of(scenario).overall == Delivery::delivered);
  }

  SUBCASE("the two streams are decided separately; the overall outcome is the worst")
  {
    Scenario scenario;
    scenario.ordinary = SpfResult::pass;
    scenario.bulk = SpfResult::fail;
    scenario.policy = dmarc::Policy::none;
    auto verdict = verdict_of(scenario);
    CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::delivered);
    CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::rejected);
    CHECK(verdict.overall == Delivery::rejected);
    CHECK(stream_of(verdict, IpRole::ordinary).fix.empty());
    CHECK(stream_of(verdict, IpRole::bulk).fix.view().find(fix_fragment) != std::string::npos);
    CHECK(verdict.summary == "Directo's mail as example.ee: ordinary mail: delivered; bulk mail: rejected.");

    scenario.ordinary = SpfResult::softfail;
    scenario.bulk = SpfResult::pass;
    verdict = verdict_of(scenario);
    CHECK(outcome_of(verdict, IpRole::ordinary) == Delivery::spam);
    CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::delivered);
    CHECK(verdict.overall == Delivery::spam);

    // unknown is worse than spam, rejected worse than unknown.
    scenario.ordinary = SpfResult::softfail;
    scenario.bulk = SpfResult::temperror;
    CHECK(verdict_of(scenario).overall == Delivery::unknown);
    scenario.ordinary = SpfResult::fail;
    CHECK(verdict_of(scenario).overall == Delivery::rejected);
  }

  SUBCASE("the fix to authorize the sender: the same words for each stream that needs it, made for its domain")
  {
    const std::string authorize =
      "Authorize Directo in SPF: 'sendcheck --suggest example.ee' prints the record to publish. If you cannot change "
      "DNS, switch Directo to the \"Directo-Reply-To\" sender mode (From: <company>@event.data.directo.ee, "
      "Reply-To: your address).";
    const std::string dns = "Check that the domain's DNS servers answer, then run the check again.";
    struct Case
    {
      SpfResult ordinary;
      SpfResult bulk;
      std::string ordinary_fix;
      std::string bulk_fix;
    };
    for (const auto& c : {Case{SpfResult::fail, SpfResult::softfail, authorize, authorize},
                          Case{SpfResult::pass, SpfResult::fail, "", authorize},
                          Case{SpfResult::fail, SpfResult::pass, authorize, ""},
                          Case{SpfResult::temperror, SpfResult::fail, dns, authorize},
                          Case{SpfResult::fail, SpfResult::temperror, authorize, dns}}) {
      CAPTURE(spf::to_string(c.ordinary));
      CAPTURE(spf::to_string(c.bulk));
      Scenario scenario;
      scenario.ordinary = c.ordinary;
      scenario.bulk = c.bulk;
      auto report = make_report(scenario);
      auto verdict = report::decide_verdict(report, directo_profile());
      CHECK(stream_of(verdict, IpRole::ordinary).fix == c.ordinary_fix);
      CHECK(stream_of(verdict, IpRole::bulk).fix == c.bulk_fix);
      // Another domain and sender: nothing of the first is kept.
      report.domain = "other.example";
      SenderProfile profile = directo_profile();
      profile.name = "Other";
      verdict = report::decide_verdict(report, profile);
      for (const auto& stream : verdict.streams) {
        if (stream.outcome == Delivery::rejected || stream.outcome == Delivery::spam) {
          CHECK(stream.fix
                == "Authorize Other in SPF: 'sendcheck --suggest other.example' prints the record to publish. If you "
                   "cannot change DNS, switch Other to the \"Other-Reply-To\" sender mode (From: "
                   "<company>@event.data.directo.ee, Reply-To: your address).");
        }
      }
    }
  }

  SUBCASE("a stream is as bad as its worst address")
  {
    auto report = make_report(Scenario{});
    report.ips[2].evaluation = evaluation_with(SpfResult::softfail); // 90.190.150.212
    report.dmarc.policy = dmarc::Policy::quarantine;
    report.dmarc.status = dmarc::DmarcStatus::ok;
    const auto verdict = report::decide_verdict(report, directo_profile());
    const auto& ordinary = stream_of(verdict, IpRole::ordinary);
    CHECK(ordinary.outcome == Delivery::spam);
    CHECK(ordinary.passing == 3);
    CHECK(ordinary.reason
          == "Ordinary mail: 3 of 4 addresses pass SPF (the worst gets 'softfail') and DMARC says 'quarantine'.");
    CHECK(outcome_of(verdict, IpRole::bulk) == Delivery::delivered);
  }

  SUBCASE("without the bulk address there is one stream")
  {
    Scenario scenario;
    scenario.bulk = std::nullopt;
    const auto verdict = verdict_of(scenario);
    REQUIRE(verdict.streams.size() == 1);
    CHECK(verdict.streams[0].role == IpRole::ordinary);
    CHECK(verdict.summary == "Directo's mail as example.ee: ordinary mail: delivered.");
  }
}

TEST_CASE("report::exit_code")
{
  CHECK(report::exit_code(DomainStatus::good) == 0);
  CHECK(report::exit_code(DomainStatus::problem) == 1);
  CHECK(report::exit_code(DomainStatus::not_found) == 1);
  CHECK(report::exit_code(DomainStatus::dns_error) == 3);
  CHECK(report::to_string(DomainStatus::good) == "good");
  CHECK(report::to_string(DomainStatus::problem) == "problem");
  CHECK(report::to_string(DomainStatus::dns_error) == "dns_error");
  CHECK(report::to_string(DomainStatus::not_found) == "not_found");
  CHECK(report::to_string(Delivery::delivered) == "delivered");
  CHECK(report::to_string(Delivery::spam) == "spam");
  CHECK(report::to_string(Delivery::rejected) == "rejected");
  CHECK(report::to_string(Delivery::unknown) == "unknown");
}

TEST_CASE("report::check_domain")
{
  const std::string good_spf = "v=spf1 ip4:90.190.150.210/31 ip4:90.190.150.212/31 ip4:90.190.150.82 -all";

  SUBCASE("delivered: exit 0")
  {
    auto zone = make_zone(good_spf, "v=DMARC1; p=reject; rua=mailto:d@example.ee");
    const auto result = check(zone);
    CHECK(result.verdict.overall == Delivery::delivered);
    CHECK(result.status == DomainStatus::good);
    CHECK(report::exit_code(result.status) == 0);
  }

  SUBCASE("DKIM's and DMARC's findings are moved into the report's list, each once")
  {
    auto zone = make_zone(good_spf, "v=DMARC1; p=none");
    const auto result = check(zone);
    CHECK(result.dkim.findings.empty());
    CHECK(result.dmarc.findings.empty());
    size_t dkim_findings = 0;
    size_t dmarc_findings = 0;
    for (const auto& finding : result.findings) {
      CHECK_FALSE(finding.message.empty());
      dkim_findings += finding.code.starts_with("dkim.") ? 1 : 0;
      dmarc_findings += finding.code.starts_with("dmarc.") ? 1 : 0;
    }
    CHECK(find_finding(result.findings, dkim::codes::k_no_record) != nullptr);
    CHECK(dkim_findings >= 1);
    CHECK(dmarc_findings >= 1);
    // Each once: the same check alone gives as many.
    const auto alone = dns::run_sync(zone, dkim::check_dkim(zone, "example.ee", "directo", "directo.ee"));
    CHECK(dkim_findings == alone.findings.size());
  }

  SUBCASE("the SPF records and the sending host's addresses are those of the answers the report holds")
  {
    auto zone = make_zone(good_spf, "");
    zone.add_txt("example.ee", {"google-site-verification=abc"});
    zone.add_txt("example.ee", {"v=spf1 ", "-all"}); // a second SPF record, of two strings
    std::optional<DomainReport> first = check(zone);
    REQUIRE(first->txt);
    REQUIRE(first->spf_records.size() == 2);
    const auto& records = first->txt->txt;
    for (const auto* record : first->spf_records) {
      CHECK((record >= records.data() && record < records.data() + records.size()));
    }
    REQUIRE(first->sending_host.answer);
    CHECK(first->sending_host.addresses.data() == first->sending_host.answer->addresses.data());

    // A copy keeps them when the report it was copied from is gone.
    const DomainReport copy = *first;
    first.reset();
    std::vector<std::string> texts;
    for (const auto* record : copy.spf_records) {
      texts.push_back(record->joined());
    }
    std::sort(texts.begin(), texts.end());
    CHECK(texts == std::vector<std::string>{"v=spf1 -all", good_spf});
    REQUIRE(copy.sending_host.addresses.size() == 1);
    CHECK(copy.sending_host.addresses[0] == ip("90.190.150.212"));
  }

  SUBCASE("spam: softfail with no DMARC, exit 1")
  {
    auto zone = make_zone("v=spf1 ~all", "");
    const auto result = check(zone);
    CHECK(result.verdict.overall == Delivery::spam);
    CHECK(outcome_of(result.verdict, IpRole::ordinary) == Delivery::spam);
    CHECK(outcome_of(result.verdict, IpRole::bulk) == Delivery::spam);
    CHECK(result.status == DomainStatus::problem);
    CHECK(report::exit_code(result.status) == 1);
  }

  SUBCASE("rejected: only the bulk stream, exit 1")
  {
    auto zone = make_zone("v=spf1 ip4:90.190.150.210/31 ip4:90.190.150.212/31 -all", "v=DMARC1; p=none");
    const auto result = check(zone);
    CHECK(outcome_of(result.verdict, IpRole::ordinary) == Delivery::delivered);
    CHECK(outcome_of(result.verdict, IpRole::bulk) == Delivery::rejected);
    CHECK(result.verdict.overall == Delivery::rejected);
    CHECK(report::exit_code(result.status) == 1);
  }

  SUBCASE("unknown: the SPF lookup times out, exit 3")
  {
    dns::ZoneResolver zone("test data");
    zone.add_apex("example.ee");
    zone.add_apex("gate.ee");
    zone.add_apex("directo.ee");
    zone.add_address("directo.gate.ee", ip("90.190.150.212"));
    zone.add_txt("_dmarc.example.ee", {"v=DMARC1; p=reject; rua=mailto:d@example.ee"});
    zone.add_failure("example.ee", dns::Status::timeout);
    const auto result = check(zone);
    CHECK(result.verdict.overall == Delivery::unknown);
    CHECK(outcome_of(result.verdict, IpRole::ordinary) == Delivery::unknown);
    CHECK(outcome_of(result.verdict, IpRole::bulk) == Delivery::unknown);
    CHECK(result.status == DomainStatus::dns_error);
    CHECK(report::exit_code(result.status) == 3);
  }

  SUBCASE("each address with its role, in the profile's order; one on both lists sends ordinary mail")
  {
    auto zone = make_zone(good_spf, "");
    SenderProfile profile = directo_profile();
    profile.bulk_ips = {ip("192.0.2.1"), profile.ordinary_ips[2], ip("192.0.2.2")};
    for (const bool bulk : {true, false}) {
      INFO("bulk ", bulk);
      report::CheckOptions options;
      options.profile = std::make_shared<SenderProfile>(profile);
      options.bulk = bulk;
      const auto result = dns::run_sync(zone, report::check_domain(zone, "example.ee", options));
      const auto expected = profile.all_ips(bulk);
      REQUIRE(result.ips.size() == expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        CHECK(result.ips[i].ip == expected[i]);
        const bool is_bulk = i >= profile.ordinary_ips.size() && expected[i] != profile.ordinary_ips[2];
        CHECK(result.ips[i].role == (is_bulk ? IpRole::bulk : IpRole::ordinary));
        CHECK(result.ips[i].evaluation->result
              == (expected[i].to_string().starts_with("90.") ? SpfResult::pass : SpfResult::fail));
      }
    }
  }

  SUBCASE("--only spf: DKIM and DMARC are neither asked nor counted")
  {
    auto zone = make_zone("v=spf1 ~all", "");
    zone.add_failure("_dmarc.example.ee", dns::Status::timeout);
    zone.add_failure("directo._domainkey.example.ee", dns::Status::servfail);
    const auto full = check(zone);
    CHECK(full.status == DomainStatus::problem);
    CHECK(full.verdict.overall == Delivery::unknown); // the DMARC lookup failed

    const auto only_spf = check(zone, report::CheckSet{false, false});
    CHECK_FALSE(only_spf.checks.dkim);
    CHECK_FALSE(only_spf.checks.dmarc);
    CHECK(only_spf.verdict.overall == Delivery::spam);
    CHECK(stream_of(only_spf.verdict, IpRole::ordinary).reason
          == "Ordinary mail: 0 of 4 addresses pass SPF (the worst gets 'softfail') and DMARC was not checked.");
    CHECK(only_spf.status == DomainStatus::problem);
    for (const auto& finding : only_spf.findings) {
      CHECK_MESSAGE(finding.code.rfind("spf.", 0) == 0, finding.code);
    }
  }

  SUBCASE("--only spf: a failing DMARC lookup does not make a passing domain a DNS error")
  {
    auto zone = make_zone(good_spf, "");
    zone.add_failure("_dmarc.example.ee", dns::Status::timeout);
    CHECK(check(zone).status == DomainStatus::dns_error);
    const auto only_spf = check(zone, report::CheckSet{false, false});
    CHECK(only_spf.verdict.overall == Delivery::delivered);
    CHECK(only_spf.status == DomainStatus::good);
  }

  SUBCASE("--only spf,dmarc: the DMARC policy still decides")
  {
    auto zone = make_zone("v=spf1 ~all", "v=DMARC1; p=reject; rua=mailto:d@example.ee");
    const auto result = check(zone, report::CheckSet{false, true});
    CHECK(result.verdict.overall == Delivery::rejected);
  }
}

TEST_CASE("report::decide_verdict remembers its sentences per thread")
{
  // decide_verdict keeps the sentences that name no domain, and the words around the domain per sender, from one
  // call to the next. Random reports for three senders (two share a name) and a few domains, in one thread, must get
  // the verdict a fresh thread (nothing remembered) makes of each alone.
  SenderProfile acme = directo_profile();
  acme.name = "Acme";
  acme.reply_to_sender = "<company>@reply.acme.test";
  SenderProfile directo_other_reply = directo_profile();
  directo_other_reply.reply_to_sender = "<company>@other.directo.test";
  const std::vector<const SenderProfile*> profiles = {&directo_profile(), &acme, &directo_other_reply};
  const std::vector<std::string> domains = {"example.ee", "a.example", "very-long-name.example.co.uk"};
  const std::vector<SpfResult> results = {SpfResult::none,     SpfResult::neutral,  SpfResult::pass,
                                          SpfResult::fail,     SpfResult::softfail, SpfResult::temperror,
                                          SpfResult::permerror};

  std::mt19937 random(20261130);
  const auto pick = [&](size_t count) { return std::uniform_int_distribution<size_t>(0, count - 1)(random); };
  for (int round = 0; round < 300; ++round) {
    const SenderProfile& profile = *profiles[pick(profiles.size())];
    DomainReport report;
    report.domain = domains[pick(domains.size())];
    report.checks = report::CheckSet{pick(2) == 0, pick(2) == 0};
    // Most rounds fail a few addresses, like the bench zone; some have no bulk address or no address at all.
    const size_t ips = pick(8) == 0 ? pick(3) : profile.ordinary_ips.size() + 1;
    for (size_t i = 0; i < ips; ++i) {
      report::IpResult entry;
      entry.role = i < profile.ordinary_ips.size() ? IpRole::ordinary : IpRole::bulk;
      entry.evaluation = evaluation_with(pick(3) == 0 ? results[pick(results.size())] : SpfResult::pass);
      report.ips.push_back(entry);
    }
    if (pick(4) == 0) {
      report.dkim.status = dkim::DkimStatus::valid;
      report.dkim.comparison = dkim::Comparison::same_key;
    }
    report.dmarc.status = pick(5) == 0 ? dmarc::DmarcStatus::temperror : dmarc::DmarcStatus::ok;
    if (pick(2) == 0) {
      report.dmarc.policy = static_cast<dmarc::Policy>(pick(3));
    }

    const auto remembered = report::decide_verdict(report, profile);
    report::Verdict fresh;
    std::thread([&] { fresh = report::decide_verdict(report, profile); }).join();

    CAPTURE(round);
    CHECK(remembered.summary == fresh.summary);
    CHECK(remembered.overall == fresh.overall);
    REQUIRE(remembered.streams.size() == fresh.streams.size());
    for (size_t i = 0; i < fresh.streams.size(); ++i) {
      CHECK(remembered.streams[i].role == fresh.streams[i].role);
      CHECK(remembered.streams[i].outcome == fresh.streams[i].outcome);
      CHECK(remembered.streams[i].reason == fresh.streams[i].reason);
      CHECK(remembered.streams[i].fix == fresh.streams[i].fix);
    }
    // The sentences name this round's sender and domain (not a remembered one's).
    CHECK(remembered.summary.starts_with(profile.name + "'s mail as " + report.domain + ": "));
    for (const auto& stream : remembered.streams) {
      if (stream.outcome == Delivery::rejected || stream.outcome == Delivery::spam) {
        CHECK(stream.fix.view().find("--suggest " + report.domain + "'") != std::string::npos);
        CHECK(stream.fix.view().find("(From: " + profile.reply_to_sender + ",") != std::string::npos);
      }
    }
  }
}

TEST_CASE("report::check_domain remembers the sender findings' sentences per thread")
{
  // The sender findings' sentences that name no domain are kept per thread from one domain to the next, by what they
  // are made of. Domains whose records authorize different subsets of the addresses, checked for three senders (one
  // with an address fewer) in one thread, must get the findings a fresh thread (nothing remembered) makes.
  dns::ZoneResolver zone("test data");
  zone.add_apex("example.ee");
  zone.add_apex("gate.ee");
  zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  const std::vector<std::string> records = {
    "v=spf1 -all",
    "v=spf1 a:directo.gate.ee -all",
    "v=spf1 ip4:90.190.150.210 ~all",
    "v=spf1 ip4:90.190.150.82 a:directo.gate.ee -all",
    "v=spf1 ip4:90.190.150.210/31 ip4:90.190.150.212/31 ip4:90.190.150.82 -all",
    "v=spf1 ip4:90.190.150.211 ip4:90.190.150.213 ?all",
    "v=spf1 include:directo.gate.ee -all",
  };
  std::vector<std::string> domains;
  for (size_t i = 0; i < records.size(); ++i) {
    domains.push_back(fmt::format("d{}.example.ee", i));
    zone.add_txt(domains.back(), {records[i]});
  }
  auto acme = std::make_shared<SenderProfile>(directo_profile());
  acme->name = "Acme";
  auto fewer = std::make_shared<SenderProfile>(directo_profile());
  fewer->ordinary_ips.pop_back();
  const std::vector<std::shared_ptr<const SenderProfile>> profiles = {
    std::make_shared<SenderProfile>(directo_profile()), acme, fewer};

  std::mt19937 random(7208);
  for (int round = 0; round < 80; ++round) {
    report::CheckOptions options;
    options.profile = profiles[random() % profiles.size()];
    options.checks = report::CheckSet{false, false};
    const std::string domain = domains[random() % domains.size()];
    const auto remembered = dns::run_sync(zone, report::check_domain(zone, domain, options));
    DomainReport fresh;
    std::thread([&] { fresh = dns::run_sync(zone, report::check_domain(zone, domain, options)); }).join();

    CAPTURE(round);
    CAPTURE(domain);
    CAPTURE(options.profile->name);
    REQUIRE(remembered.findings.size() == fresh.findings.size());
    for (size_t i = 0; i < fresh.findings.size(); ++i) {
      CHECK(remembered.findings[i].code == fresh.findings[i].code);
      CHECK(remembered.findings[i].severity == fresh.findings[i].severity);
      CHECK(remembered.findings[i].message == fresh.findings[i].message);
      CHECK(remembered.findings[i].fix == fresh.findings[i].fix);
      CHECK(remembered.findings[i].detail == fresh.findings[i].detail);
    }
    CHECK(remembered.verdict.summary == fresh.verdict.summary);
  }
}

TEST_CASE("report::SharedText")
{
  using report::SharedText;

  SUBCASE("empty")
  {
    const SharedText empty;
    CHECK(empty.empty());
    CHECK(empty == "");
    CHECK(SharedText::concat({"", ""}).empty());
    CHECK(SharedText(std::string()).empty());
  }

  SUBCASE("concat puts the parts one after the other")
  {
    const std::string domain = "example.ee";
    const SharedText text = SharedText::concat({"Authorize ", "", domain, std::string_view("x", 1), "."});
    CHECK(text == "Authorize example.eex.");
    CHECK(text.view().size() == 22);
    CHECK(!text.empty());
    CHECK(SharedText(std::string_view("one")) == "one");
  }

  SUBCASE("copies share the characters; equal texts compare equal")
  {
    const SharedText text("Check that the domain's DNS servers answer.");
    SharedText copy = text;
    CHECK(copy.view().data() == text.view().data());
    CHECK(copy == text);
    CHECK(SharedText(text.view()) == text);
    CHECK(SharedText(text.view()).view().data() != text.view().data());
    CHECK(!(SharedText("other") == text));
    copy = SharedText();
    CHECK(text == "Check that the domain's DNS servers answer."); // the original outlives a dropped copy
  }
}
