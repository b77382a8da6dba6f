#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/cost.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/lint.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <random>

using namespace sendcheck;
using spf::SpfResult;

namespace {

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// A customer domain that includes a provider and names Directo's host, plus a few broken neighbours.
dns::ZoneResolver
make_zone()
{
  dns::ZoneResolver zone("unit test");
  zone.add_txt("example.lt", {"v=spf1 mx a:directo.gate.ee include:_spf.provider.example -all"});
  zone.add_mx("example.lt", 10, "mail.example.lt");
  zone.add_mx("example.lt", 20, "backup.example.lt");
  zone.add_address("mail.example.lt", ip("192.0.2.10"));
  zone.add_address("backup.example.lt", ip("192.0.2.11"));
  zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  zone.add_txt("_spf.provider.example", {"v=spf1 ip4:198.51.100.0/24 include:_spf2.provider.example ~all"});
  zone.add_txt("_spf2.provider.example", {"v=spf1 ip4:203.0.113.0/24 a:gone.provider.example -all"});
  zone.add_txt("fail.example", {"v=spf1 -all exp=why.fail.example"});
  zone.add_txt("why.fail.example", {"%{i} is not allowed to send for %{d}"});
  zone.add_txt("timeout.example", {"v=spf1 a:slow.example -all"});
  zone.add_failure("slow.example", dns::Status::timeout);
  zone.add_txt("loop-a.example", {"v=spf1 include:loop-b.example -all"});
  zone.add_txt("loop-b.example", {"v=spf1 include:loop-a.example -all"});
  zone.add_txt("noinclude.example", {"v=spf1 include:nothing.example -all"});
  return zone;
}

spf::Evaluation
check(dns::Resolver& resolver, std::string_view address, std::string domain, spf::Options options = {})
{
  options.helo = "mail.example.net";
  return dns::run_sync(resolver,
                       spf::check_host(resolver, ip(address), domain, "someone@" + domain, std::move(options)));
}

const Finding&
find_code(const Findings& findings, std::string_view code)
{
  const auto it = std::find_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.code == code; });
  REQUIRE(it != findings.end());
  return *it;
}

} // namespace

TEST_CASE("spf::check_host")
{
  auto zone = make_zone();
  SUBCASE("pass through a:, with counts and the deciding term")
  {
    const auto evaluation = check(zone, "90.190.150.212", "example.lt");
    CHECK(evaluation.result == SpfResult::pass);
    REQUIRE(evaluation.deciding_term);
    CHECK(evaluation.deciding_term->text == "a:directo.gate.ee");
    CHECK(evaluation.deciding_domain == "example.lt");
    CHECK(evaluation.dns_terms == 2);
    CHECK(evaluation.void_lookups == 0);
    CHECK(evaluation.explanation.empty());
  }
  SUBCASE("trace of a pass through two includes")
  {
    const auto evaluation = check(zone, "203.0.113.7", "example.lt");
    CHECK(evaluation.result == SpfResult::pass);
    CHECK(evaluation.deciding_term->text == "include:_spf.provider.example");
    CHECK(evaluation.dns_terms == 4); // mx, a, include, include
    std::vector<std::string> steps;
    for (const auto& step : evaluation.trace) {
      steps.push_back(std::to_string(step.depth) + " " + step.domain + " " + step.term);
    }
    CHECK(steps
          == std::vector<std::string>{
            "0 example.lt v=spf1 mx a:directo.gate.ee include:_spf.provider.example -all",
            "0 example.lt mx",
            "0 example.lt a:directo.gate.ee",
            "0 example.lt include:_spf.provider.example",
            "1 _spf.provider.example v=spf1 ip4:198.51.100.0/24 include:_spf2.provider.example ~all",
            "1 _spf.provider.example ip4:198.51.100.0/24",
            "1 _spf.provider.example include:_spf2.provider.example",
            "2 _spf2.provider.example v=spf1 ip4:203.0.113.0/24 a:gone.provider.example -all",
            "2 _spf2.provider.example ip4:203.0.113.0/24",
          });
    // The mx step looked up the MX and both hosts.
    CHECK(evaluation.trace[1].lookups.size() == 3);
    CHECK(evaluation.trace[1].lookups[0].type == dns::RRType::mx);
    CHECK(evaluation.trace[3].result == SpfResult::pass);
  }
  SUBCASE("fail with a void lookup inside an include, default explanation")
  {
    spf::Options options;
    options.default_explanation = "not allowed";
    const auto evaluation = check(zone, "192.0.2.99", "example.lt", options);
    CHECK(evaluation.result == SpfResult::fail);
    CHECK(evaluation.deciding_term->text == "-all");
    CHECK(evaluation.void_lookups == 1); // a:gone.provider.example
    CHECK(evaluation.dns_terms == 5);
    CHECK(evaluation.explanation == "not allowed");
  }
  SUBCASE("exp= explanation is expanded")
  {
    const auto evaluation = check(zone, "192.0.2.1", "fail.example");
    CHECK(evaluation.result == SpfResult::fail);
    CHECK(evaluation.explanation == "192.0.2.1 is not allowed to send for fail.example");
  }
  SUBCASE("temperror carries the failed lookup")
  {
    const auto evaluation = check(zone, "192.0.2.1", "timeout.example");
    CHECK(evaluation.result == SpfResult::temperror);
    CHECK(evaluation.error_code == "spf.dns_failure");
    REQUIRE(evaluation.dns_failure);
    CHECK(evaluation.dns_failure->name == "slow.example");
    CHECK(evaluation.dns_failure->status == dns::Status::timeout);
    CHECK(evaluation.dns_failure->server == "unit test");
  }
  SUBCASE("include loop ends at the term limit")
  {
    const auto evaluation = check(zone, "192.0.2.1", "loop-a.example");
    CHECK(evaluation.result == SpfResult::permerror);
    CHECK(evaluation.error_code == "spf.too_many_lookups");
    CHECK(evaluation.dns_terms == 11);
  }
  SUBCASE("include of a name without a record")
  {
    const auto evaluation = check(zone, "192.0.2.1", "noinclude.example");
    CHECK(evaluation.result == SpfResult::permerror);
    CHECK(evaluation.error_code == "spf.include_no_record");
    CHECK(evaluation.deciding_domain == "nothing.example");
  }
  SUBCASE("no record, invalid domain, syntax error")
  {
    CHECK(check(zone, "192.0.2.1", "nothing.example").result == SpfResult::none);
    const auto invalid = check(zone, "192.0.2.1", "localhost");
    CHECK(invalid.result == SpfResult::none);
    CHECK(invalid.error_code == "spf.invalid_domain");
    zone.add_txt("broken.example", {"v=spf1 ip4:1.2.3.4/33 -all"});
    const auto broken = check(zone, "192.0.2.1", "broken.example");
    CHECK(broken.result == SpfResult::permerror);
    CHECK(broken.error_code == "spf.syntax");
    REQUIRE(broken.parse_error);
    CHECK(broken.parse_error->offset == 18);
  }
  SUBCASE("IPv4-mapped IPv6 clients are IPv4")
  {
    CHECK(check(zone, "::ffff:90.190.150.212", "example.lt").result == SpfResult::pass);
  }
  SUBCASE("configurable limits")
  {
    spf::Options options;
    options.limits.dns_terms = 2;
    const auto evaluation = check(zone, "192.0.2.99", "example.lt", options);
    CHECK(evaluation.result == SpfResult::permerror);
    CHECK(evaluation.dns_terms == 3);
  }
  SUBCASE("shared record cache gives the same results")
  {
    spf::Options options;
    options.cache = std::make_shared<spf::RecordCache>();
    CHECK(check(zone, "203.0.113.7", "example.lt", options).result == SpfResult::pass);
    CHECK(check(zone, "192.0.2.99", "example.lt", options).result == SpfResult::fail);
    CHECK(options.cache->size() == 3);
  }
}

namespace {

/// Records prefetch hints.
class HintRecorder : public dns::Resolver
{
public:
  explicit HintRecorder(dns::ZoneResolver& zone) : m_zone(zone) {}
  void query(std::string_view name, dns::RRType type, Callback done) override { m_zone.query(name, type, done); }
  void run() override {}
  void prefetch(std::string_view name, dns::RRType type) override
  {
    hints.push_back(std::string(dns::to_string(type)) + " " + std::string(name));
  }
  std::vector<std::string> hints;

private:
  dns::ZoneResolver& m_zone;
};

} // namespace

TEST_CASE("spf::check_host: a DNS failure names its own lookup after earlier terms noted failed lookups")
{
  // `ptr` notes its failed PTR lookup and goes on (no match); `a:broken.example` then fails: the temperror must
  // carry that second lookup, with or without the trace (without it, the terms share one step).
  dns::ZoneResolver zone("steps");
  zone.add_txt("steps.example", {"v=spf1 ptr a:unknown-host.example a:broken.example -all"});
  zone.add_failure("2.2.0.192.in-addr.arpa", dns::Status::servfail);
  zone.add_failure("broken.example", dns::Status::timeout);
  for (const auto trace : {spf::Trace::on, spf::Trace::off}) {
    CAPTURE(static_cast<int>(trace));
    spf::Options options;
    options.trace = trace;
    const auto evaluation = check(zone, "192.0.2.2", "steps.example", options);
    CHECK(evaluation.result == SpfResult::temperror);
    CHECK(evaluation.error_code == "spf.dns_failure");
    REQUIRE(evaluation.dns_failure);
    CHECK(evaluation.dns_failure->name == "broken.example");
    CHECK(evaluation.dns_failure->status == dns::Status::timeout);
    REQUIRE(evaluation.deciding_term);
    CHECK(evaluation.deciding_term->text == "a:broken.example");
    CHECK(evaluation.void_lookups == 1); // unknown-host.example
    if (trace == spf::Trace::on) {
      REQUIRE(evaluation.trace.size() == 4);
      CHECK(evaluation.trace[1].note == "no match: the PTR lookup failed");
      REQUIRE(evaluation.trace[3].lookups.size() == 1);
      CHECK(evaluation.trace[3].lookups[0].name == "broken.example");
    }
  }
}

TEST_CASE("spf::check_host prefetch")
{
  auto zone = make_zone();
  HintRecorder recorder(zone);
  const auto on = check(recorder, "192.0.2.99", "example.lt");
  CHECK(std::find(recorder.hints.begin(), recorder.hints.end(), "MX example.lt") != recorder.hints.end());
  CHECK(std::find(recorder.hints.begin(), recorder.hints.end(), "A directo.gate.ee") != recorder.hints.end());
  CHECK(std::find(recorder.hints.begin(), recorder.hints.end(), "TXT _spf.provider.example") != recorder.hints.end());
  recorder.hints.clear();
  spf::Options off_options;
  off_options.prefetch = spf::Prefetch::off;
  const auto off = check(recorder, "192.0.2.99", "example.lt", off_options);
  CHECK(recorder.hints.empty());
  CHECK(on.result == off.result);
  CHECK(on.dns_terms == off.dns_terms);
  CHECK(on.void_lookups == off.void_lookups);
}

TEST_CASE("spf::analyze_cost")
{
  auto zone = make_zone();
  SUBCASE("mx costs 1, includes cost their subtree, MX hosts reported separately")
  {
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "example.lt", {}));
    CHECK(report.root.own_terms == 3);
    CHECK(report.total_terms == 5);
    CHECK(report.root.mx_host_lookups == 2);
    CHECK(report.mx_host_lookups == 2);
    CHECK(report.void_lookups == 1);
    REQUIRE(report.root.children.size() == 1);
    CHECK(report.root.children[0].via == "include:_spf.provider.example");
    const auto& provider = *report.root.children[0].node;
    CHECK(provider.domain == "_spf.provider.example");
    CHECK(provider.own_terms == 1);
    CHECK(provider.subtree_terms == 2);
    CHECK(provider.children[0].node->own_void_lookups == 1);
    CHECK_FALSE(report.over_term_limit());
    const auto costly = spf::most_costly_includes(report, 1);
    REQUIRE(costly.size() == 1);
    CHECK(costly[0]->node->domain == "_spf.provider.example");
    CHECK(costly[0]->via == "include:_spf.provider.example");
  }
  SUBCASE("loops are detected, not followed")
  {
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "loop-a.example", {}));
    REQUIRE(report.loops.size() == 1);
    CHECK(report.loops[0] == "loop-a.example -> loop-b.example -> loop-a.example");
    CHECK(report.total_terms == 2);
  }
  SUBCASE("a candidate record instead of the published one")
  {
    spf::CostOptions options;
    options.record_override = "v=spf1 a:directo.gate.ee -all";
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "example.lt", options));
    CHECK(report.total_terms == 1);
    CHECK(report.root.children.empty());
  }
  SUBCASE("redirect counts only without all; macros are listed")
  {
    zone.add_txt("r.example", {"v=spf1 exists:%{i}.bl.example redirect=_spf.provider.example"});
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "r.example", {}));
    CHECK(report.root.own_terms == 2);
    CHECK(report.root.macro_terms == std::vector<std::string>{"exists:%{i}.bl.example"});
    CHECK(report.total_terms == 4);
  }
}

TEST_CASE("spf::lint_record_text")
{
  SUBCASE("a good record has no findings")
  {
    CHECK(spf::lint_record_text("v=spf1 mx a:directo.gate.ee -all").empty());
  }
  SUBCASE("syntax error with a caret-able offset")
  {
    const auto findings = spf::lint_record_text("v=spf1 mx ip4:90.190.150.212/33 -all");
    const auto& finding = find_code(findings, "spf.syntax");
    CHECK(finding.severity == Severity::error);
    CHECK(spf::syntax_offset(finding) == 28u);
    CHECK(finding.message.find("IPv4 prefix length must be 0-32") != std::string::npos);
  }
  SUBCASE("+all, ?all, ptr, terms after all, redirect with all, unknown modifier")
  {
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx +all"), "spf.plus_all"));
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx all"), "spf.plus_all"));
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx ?all"), "spf.neutral_all"));
    CHECK(has_finding(spf::lint_record_text("v=spf1 ptr -all"), "spf.ptr_used"));
    const auto after = spf::lint_record_text("v=spf1 mx -all a:directo.gate.ee");
    CHECK(find_code(after, "spf.terms_after_all").message
          == "'a:directo.gate.ee' comes after '-all', so receivers never look at it.");
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx -all redirect=x.example.com"), "spf.redirect_with_all"));
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx"), "spf.no_all"));
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx default=deny -all"), "spf.unknown_modifier"));
  }
  SUBCASE("text problems")
  {
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx\xC2\xA0-all"), "spf.non_ascii"));
    CHECK(find_code(spf::lint_record_text("v=spf1 mx\xC2\xA0-all"), "spf.non_ascii").message.find("\\xC2")
          != std::string::npos);
    CHECK(has_finding(spf::lint_record_text("v=spf1 mx  -all"), "spf.whitespace"));
    CHECK(has_finding(spf::lint_record_text("\"v=spf1 mx -all\""), "spf.spf_version"));
    CHECK(has_finding(spf::lint_record_text("v=spf2 mx -all"), "spf.spf_version"));
    CHECK(has_finding(spf::lint_record_text("spf2.0/pra mx -all"), "spf.sender_id"));
    CHECK(spf::lint_record_text("google-site-verification=abc").empty());
    const std::string long_record = "v=spf1 " + std::string(250, 'a').replace(0, 0, "a:") + ".example.com -all";
    const std::vector<std::string> one_string{long_record};
    CHECK(find_code(spf::lint_record_text(long_record, &one_string), "spf.string_too_long").severity
          == Severity::error);
  }
}

TEST_CASE("spf::lint_domain")
{
  auto zone = make_zone();
  SUBCASE("include without a record")
  {
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "noinclude.example", {}));
    CHECK(has_finding(lint.findings, "spf.include_no_record"));
    REQUIRE(lint.cost);
  }
  SUBCASE("over 10 lookups names the most costly include")
  {
    zone.add_txt("big.example", {"v=spf1 a a a a a a a a a a -all"});
    zone.add_address("big.example", ip("192.0.2.1"));
    zone.add_txt("heavy.example", {"v=spf1 mx include:big.example -all"});
    zone.add_mx("heavy.example", 10, "mail.example.lt");
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "heavy.example", {}));
    const auto& finding = find_code(lint.findings, "spf.too_many_lookups");
    CHECK(finding.message.find("needs 12 DNS lookups") != std::string::npos);
    CHECK(finding.message.find("big.example (10 lookups)") != std::string::npos);
  }
  SUBCASE("void lookups over 2")
  {
    zone.add_txt("void.example", {"v=spf1 a:x1.example a:x2.example a:x3.example -all"});
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "void.example", {}));
    CHECK(has_finding(lint.findings, "spf.void_lookups"));
  }
  SUBCASE("multiple records, no record, loops")
  {
    zone.add_txt("two.example", {"v=spf1 -all"});
    zone.add_txt("two.example", {"v=spf1 mx -all"});
    CHECK(has_finding(dns::run_sync(zone, spf::lint_domain(zone, "two.example", {})).findings, "spf.multiple_records"));
    CHECK(has_finding(dns::run_sync(zone, spf::lint_domain(zone, "nothing.example", {})).findings, "spf.no_record"));
    CHECK(has_finding(dns::run_sync(zone, spf::lint_domain(zone, "loop-a.example", {})).findings, "spf.include_loop"));
  }
  SUBCASE("candidate record")
  {
    spf::LintOptions options;
    options.record_override = "v=spf1 mx a:directo.gate.ee +all";
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "example.lt", options));
    CHECK(lint.record == "v=spf1 mx a:directo.gate.ee +all");
    CHECK(has_finding(lint.findings, "spf.plus_all"));
  }
}

namespace {

/// A broken resolver that answers every question, later from `run`, with nothing at all. (A null answer given
/// synchronously inside `query` would leave dns::Lookup waiting forever, so it is given from the event loop.)
class NullResolver : public dns::Resolver
{
public:
  void query(std::string_view, dns::RRType, Callback done) override { m_pending.push_back(std::move(done)); }
  void
  run() override
  {
    while (!m_pending.empty()) {
      auto done = std::move(m_pending.back());
      m_pending.pop_back();
      done(nullptr);
    }
  }

private:
  std::vector<Callback> m_pending;
};

} // namespace

TEST_CASE("spf::check_host with a resolver that gives no answer")
{
  NullResolver resolver;
  const auto evaluation = check(resolver, "192.0.2.1", "example.lt");
  CHECK(evaluation.result == SpfResult::temperror);
  CHECK(evaluation.error_code == "spf.dns_failure");
  REQUIRE(evaluation.dns_failure);
  CHECK(evaluation.dns_failure->detail == "the resolver gave no answer");
  const auto report = dns::run_sync(resolver, spf::analyze_cost(resolver, "example.lt", {}));
  CHECK(report.root.selection == spf::SelectionStatus::dns_failure);
}

TEST_CASE("spf::is_valid_domain: labels of 1-63 octets, at most 253 in all, two labels or more")
{
  const std::string label63(63, 'a');
  CHECK(spf::is_valid_domain("example.com"));
  CHECK(spf::is_valid_domain("example.com."));
  CHECK(spf::is_valid_domain(label63 + ".com"));
  CHECK_FALSE(spf::is_valid_domain(label63 + "a.com"));
  CHECK(spf::is_valid_domain("a.b"));
  CHECK_FALSE(spf::is_valid_domain("com"));
  CHECK_FALSE(spf::is_valid_domain(""));
  CHECK_FALSE(spf::is_valid_domain("."));
  CHECK_FALSE(spf::is_valid_domain("example..com"));
  CHECK_FALSE(spf::is_valid_domain(".example.com"));
  CHECK_FALSE(spf::is_valid_domain("example.com.."));
  CHECK_FALSE(spf::is_valid_domain("exa\\mple.com"));
  CHECK_FALSE(spf::is_valid_domain(std::string("exa\x01mple.com")));
  CHECK_FALSE(spf::is_valid_domain("exa\x7fmple.com"));
  CHECK_FALSE(spf::is_valid_domain("[192.0.2.1]"));
  std::string long_name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b'); // 253 octets
  REQUIRE(long_name.size() == 253);
  CHECK(spf::is_valid_domain(long_name));
  CHECK(spf::is_valid_domain(long_name + "."));
  CHECK_FALSE(spf::is_valid_domain(long_name + "b"));
}

TEST_CASE("spf::is_valid_domain agrees with the rule written out, on random names built to hit every edge")
{
  // The rule, one byte at a time: an optional final dot; 1-253 octets; labels of 1-63 octets from 0x20-0x7e without
  // a backslash; at least two labels; not starting with '['.
  const auto rule = [](std::string_view name) {
    if (!name.empty() && name.back() == '.') {
      name.remove_suffix(1);
    }
    if (name.empty() || name.size() > 253 || name.front() == '[') {
      return false;
    }
    size_t labels = 1;
    size_t label = 0;
    for (const char c : name) {
      const auto octet = static_cast<unsigned char>(c);
      if (c == '.') {
        if (label == 0) {
          return false;
        }
        ++labels;
        label = 0;
      } else if (octet < 0x20 || octet > 0x7e || c == '\\' || ++label > 63) {
        return false;
      }
    }
    return label != 0 && labels >= 2;
  };
  std::mt19937 random(20261130);
  const std::string odd_bytes = std::string("\\\x00\x1f\x7f\x80\xff ~[", 9);
  for (int round = 0; round < 20000; ++round) {
    std::string name;
    const size_t labels = 1 + random() % 6;
    for (size_t l = 0; l < labels; ++l) {
      const size_t length = std::array<size_t, 8>{0, 1, 2, 62, 63, 64, 5, 40}[random() % 8];
      for (size_t i = 0; i < length; ++i) {
        name += random() % 50 == 0 ? odd_bytes[random() % odd_bytes.size()] : static_cast<char>('a' + random() % 26);
      }
      if (l + 1 < labels || random() % 4 == 0) {
        name += '.';
      }
    }
    CAPTURE(name);
    CHECK(spf::is_valid_domain(name) == rule(name));
  }
}
