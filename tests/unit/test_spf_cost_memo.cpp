// spf::CostMemo (CostOptions::memo): reusing walked include/redirect subtrees must change no field of any CostReport.
// Every scenario analyses a domain with the memo off and on and compares the two reports field by field over the
// whole tree, and checks the memo's counters to show which path ran.

#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/cost.hpp>
#include <sendcheck/spf/lint.hpp>

#include "../support/counting_resolver.hpp"

#include <fmt/format.h>

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace sendcheck;

namespace {

/// The first difference between two string lists, or "".
std::string
list_difference(const std::string& what, const std::vector<std::string>& a, const std::vector<std::string>& b)
{
  if (a == b) {
    return {};
  }
  return fmt::format("{}: [{}] vs [{}]", what, fmt::join(a, ", "), fmt::join(b, ", "));
}

/// The first difference between two cost trees (every field, recursively), or "" when they are equal.
std::string
node_difference(const spf::CostNode& a, const spf::CostNode& b, const std::string& where = "root")
{
  const std::string at = where + " (" + a.domain + ")";
  if (a.domain != b.domain) {
    return fmt::format("{}: domain {} vs {}", at, a.domain, b.domain);
  }
  if (a.record != b.record) {
    return fmt::format("{}: record '{}' vs '{}'", at, a.record, b.record);
  }
  if (a.selection != b.selection) {
    return fmt::format("{}: selection {} vs {}", at, static_cast<int>(a.selection), static_cast<int>(b.selection));
  }
  if (a.own_terms != b.own_terms || a.own_void_lookups != b.own_void_lookups || a.subtree_terms != b.subtree_terms
      || a.mx_host_lookups != b.mx_host_lookups) {
    return fmt::format("{}: counts {}/{}/{}/{} vs {}/{}/{}/{}", at, a.own_terms, a.own_void_lookups,
                       a.subtree_terms, a.mx_host_lookups, b.own_terms, b.own_void_lookups, b.subtree_terms,
                       b.mx_host_lookups);
  }
  for (const auto& difference : {list_difference(at + ": macro_terms", a.macro_terms, b.macro_terms),
                                 list_difference(at + ": too_many_mx", a.too_many_mx, b.too_many_mx),
                                 list_difference(at + ": ptr_terms", a.ptr_terms, b.ptr_terms),
                                 list_difference(at + ": errors", a.errors, b.errors)}) {
    if (!difference.empty()) {
      return difference;
    }
  }
  if (a.parse_error.has_value() != b.parse_error.has_value()) {
    return fmt::format("{}: parse error present {} vs {}", at, a.parse_error.has_value(), b.parse_error.has_value());
  }
  if (a.parse_error
      && (a.parse_error->offset != b.parse_error->offset || a.parse_error->term != b.parse_error->term
          || a.parse_error->message != b.parse_error->message)) {
    return fmt::format("{}: parse error '{}' vs '{}'", at, a.parse_error->message, b.parse_error->message);
  }
  if (a.loop != b.loop) {
    return fmt::format("{}: loop {} vs {}", at, a.loop, b.loop);
  }
  if (a.children.size() != b.children.size()) {
    return fmt::format("{}: {} children vs {}", at, a.children.size(), b.children.size());
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    const std::string child_at = fmt::format("{} > {}", at, i);
    if (a.children[i].via != b.children[i].via) {
      return fmt::format("{}: via '{}' vs '{}'", child_at, a.children[i].via, b.children[i].via);
    }
    auto difference = node_difference(*a.children[i].node, *b.children[i].node, child_at);
    if (!difference.empty()) {
      return difference;
    }
  }
  return {};
}

/// The first difference between two cost reports (totals, loops, limits and the whole tree), or "".
std::string
report_difference(const spf::CostReport& a, const spf::CostReport& b)
{
  if (a.total_terms != b.total_terms || a.void_lookups != b.void_lookups || a.mx_host_lookups != b.mx_host_lookups) {
    return fmt::format("totals {}/{}/{} vs {}/{}/{}", a.total_terms, a.void_lookups, a.mx_host_lookups,
                       b.total_terms, b.void_lookups, b.mx_host_lookups);
  }
  if (auto difference = list_difference("loops", a.loops, b.loops); !difference.empty()) {
    return difference;
  }
  if (a.limits.dns_terms != b.limits.dns_terms || a.limits.void_lookups != b.limits.void_lookups
      || a.limits.mx_names != b.limits.mx_names || a.limits.ptr_names != b.limits.ptr_names) {
    return "limits";
  }
  return node_difference(a.root, b.root);
}

/// analyze_cost() of `domain` with `memo` (null: without one), through a parse cache as the CLI has.
spf::CostReport
analyze(dns::Resolver& resolver, const std::string& domain, const std::shared_ptr<spf::CostMemo>& memo,
        const std::optional<std::string>& record_override = std::nullopt, const spf::Limits& limits = {})
{
  spf::CostOptions options;
  options.limits = limits;
  options.record_override = record_override;
  options.cache = std::make_shared<spf::RecordCache>();
  options.memo = memo;
  return dns::run_sync(resolver, spf::analyze_cost(resolver, domain, options));
}

/// Analyses with the memo off and then on (sharing `memo`), checks that every field agrees and returns the report.
spf::CostReport
same_with_memo(dns::Resolver& resolver, const std::string& domain, const std::shared_ptr<spf::CostMemo>& memo,
               const std::optional<std::string>& record_override = std::nullopt, const spf::Limits& limits = {})
{
  const auto off = analyze(resolver, domain, nullptr, record_override, limits);
  const auto on = analyze(resolver, domain, memo, record_override, limits);
  INFO(domain, record_override ? " with record " + *record_override : std::string());
  CHECK(report_difference(off, on) == "");
  return on;
}

/// Two providers with include trees (a top record including netblock records with a, mx and exists terms, void
/// lookups among them), a chain of 26 includes, loops, names without SPF, broken records and DNS failures.
dns::ZoneResolver
make_zone()
{
  dns::ZoneResolver zone("cost memo test");
  zone.add_txt("_spf.prov.example", {"v=spf1 include:_nb1.prov.example include:_nb2.prov.example "
                                     "include:_nb3.prov.example ~all"});
  zone.add_txt("_nb1.prov.example", {"v=spf1 ip4:198.51.100.0/24 a:out.prov.example -all"});
  zone.add_txt("_nb2.prov.example", {"v=spf1 ip6:2001:db8::/32 mx:prov.example a:gone.prov.example ~all"});
  zone.add_txt("_nb3.prov.example", {"v=spf1 exists:%{i}.x.prov.example exists:none.prov.example ptr ?all"});
  zone.add_address("out.prov.example", *dns::IpAddress::parse("198.51.100.25"));
  zone.add_mx("prov.example", 10, "mx1.prov.example");
  zone.add_mx("prov.example", 20, "mx2.prov.example");
  zone.add_txt("spf.other.example", {"v=spf1 include:_spf.prov.example ip4:203.0.113.0/24 -all"});
  for (int i = 0; i < 20; ++i) {
    const std::string name = fmt::format("c{}.example", i);
    switch (i % 4) {
    case 0:
      zone.add_txt(name, {"v=spf1 mx include:_spf.prov.example -all"});
      break;
    case 1:
      zone.add_txt(name, {"v=spf1 ip4:192.0.2.1 include:spf.other.example include:_spf.prov.example ~all"});
      break;
    case 2:
      zone.add_txt(name, {"v=spf1 a redirect=_spf.prov.example"});
      break;
    default:
      zone.add_txt(name, {"v=spf1 include:_nb2.prov.example include:_SPF.Prov.Example. -all"});
      break;
    }
  }
  // A chain d0 -> d1 -> ... -> d25: deeper than the depth cap from its top.
  for (int i = 0; i < 25; ++i) {
    zone.add_txt(fmt::format("d{}.example", i), {fmt::format("v=spf1 include:d{}.example -all", i + 1)});
  }
  zone.add_txt("d25.example", {"v=spf1 ip4:192.0.2.25 -all"});
  // A short branch and the chain's tail side by side: the height is the longest branch's.
  zone.add_txt("wide.example", {"v=spf1 include:leaf.example include:d18.example include:leaf.example -all"});
  zone.add_txt("leaf.example", {"v=spf1 ip4:192.0.2.30 -all"});
  // w0 -> ... -> w12 -> wide: from w0, d25 is beyond the cap although leaf.example is not.
  for (int i = 0; i < 12; ++i) {
    zone.add_txt(fmt::format("w{}.example", i), {fmt::format("v=spf1 include:w{}.example -all", i + 1)});
  }
  zone.add_txt("w12.example", {"v=spf1 include:wide.example -all"});
  // A -> B -> A, and B reached from C.
  zone.add_txt("loop-a.example", {"v=spf1 include:loop-b.example -all"});
  zone.add_txt("loop-b.example", {"v=spf1 include:loop-a.example ip4:192.0.2.40 -all"});
  zone.add_txt("loop-c.example", {"v=spf1 include:loop-b.example -all"});
  zone.add_txt("loop-d.example", {"v=spf1 include:loop-a.example include:loop-b.example -all"});
  // include: and redirect= of one target, and a record that includes itself through a redirect.
  zone.add_txt("both.example", {"v=spf1 include:_spf.prov.example redirect=_spf.prov.example"});
  zone.add_txt("self.example", {"v=spf1 include:_nb1.prov.example redirect=self.example"});
  // Names without SPF, broken records.
  zone.add_txt("nospf.example", {"google-site-verification=abc"});
  zone.add_txt("two.example", {"v=spf1 -all"});
  zone.add_txt("two.example", {"v=spf1 ~all"});
  zone.add_txt("syntax.example", {"v=spf1 ip4:192.0.2.300 -all"});
  zone.add_txt("broken.example", {"v=spf1 include:nothing.example include:nospf.example include:two.example "
                                  "include:syntax.example redirect=nothing.example"});
  zone.add_txt("broken2.example", {"v=spf1 include:syntax.example include:two.example include:nothing.example -all"});
  // DNS failures: a TXT timeout, an MX SERVFAIL and an A timeout, each in a subtree of its own.
  zone.add_failure("slow.example", dns::Status::timeout);
  zone.add_txt("_spf.flakymx.example", {"v=spf1 mx:flakymx.example ip4:192.0.2.50 -all"});
  zone.add_failure("flakymx.example", dns::Status::servfail);
  zone.add_txt("_spf.flakya.example", {"v=spf1 a:flakya.example -all"});
  zone.add_failure("flakya.example", dns::Status::timeout);
  zone.add_txt("fail1.example",
               {"v=spf1 include:slow.example include:_spf.flakymx.example include:_spf.flakya.example -all"});
  zone.add_txt("fail2.example",
               {"v=spf1 include:_spf.flakya.example include:_spf.flakymx.example include:slow.example -all"});
  // Reached with a --record candidate at its root: its published record is plain, and y.example includes it.
  zone.add_txt("ovr.example", {"v=spf1 ip4:192.0.2.60 -all"});
  zone.add_txt("y.example", {"v=spf1 include:ovr.example include:_nb1.prov.example -all"});
  zone.add_txt("via-y.example", {"v=spf1 include:y.example -all"});
  zone.add_txt("via-ovr.example", {"v=spf1 include:ovr.example -all"});
  // An mx target with more MX records than a low limit allows.
  zone.add_txt("manymx.example", {"v=spf1 include:_mx.prov.example -all"});
  zone.add_txt("_mx.prov.example", {"v=spf1 mx:prov.example -all"});
  return zone;
}

} // namespace

TEST_CASE("spf::CostMemo: shared include trees give the same reports and are walked once")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>();
  for (int i = 0; i < 20; ++i) {
    same_with_memo(zone, fmt::format("c{}.example", i), memo);
  }
  const auto stats = memo->stats();
  CHECK(stats.hits >= 19);
  CHECK(stats.stored >= 4);
  CHECK(stats.unusable == 0);
  CHECK(memo->size() == stats.stored);
}

TEST_CASE("spf::CostMemo: an entry never hides a loop")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>();
  SUBCASE("A -> B -> A walked from A, then B walked from C")
  {
    CHECK(same_with_memo(zone, "loop-a.example", memo).loops.size() == 1);
    CHECK(same_with_memo(zone, "loop-c.example", memo).loops.size() == 1);
    CHECK(same_with_memo(zone, "loop-b.example", memo).loops.size() == 1);
    CHECK(same_with_memo(zone, "loop-d.example", memo).loops.size() == 2);
    CHECK(same_with_memo(zone, "self.example", memo).loops.size() == 1);
    CHECK(memo->stats().hits == 0);
  }
  SUBCASE("a subtree that contains the root of a --record candidate")
  {
    same_with_memo(zone, "via-y.example", memo); // stores y.example's subtree, which holds ovr.example
    CHECK(memo->stats().stored >= 2);
    const auto report = same_with_memo(zone, "ovr.example", memo, "v=spf1 include:y.example -all");
    CHECK(report.loops.size() == 1);
    CHECK(memo->stats().unusable >= 1);
    // The children of the candidate come from DNS: its subtrees are stored and reused under a published root.
    same_with_memo(zone, "ovr.example", memo, "v=spf1 include:_spf.prov.example -all");
    const auto hits = memo->stats().hits;
    same_with_memo(zone, "c0.example", memo);
    CHECK(memo->stats().hits > hits);
    // The candidate's record never stands for the published one.
    CHECK(same_with_memo(zone, "via-ovr.example", memo).root.children.at(0).node->record
          == "v=spf1 ip4:192.0.2.60 -all");
  }
}

TEST_CASE("spf::CostMemo: a chain near the depth cap reached at different depths")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>();
  SUBCASE("from the top first: nothing that reached the cap is stored")
  {
    const auto top = same_with_memo(zone, "d0.example", memo);
    CHECK(memo->stats().stored == 0);
    for (int i = 1; i <= 8; ++i) {
      same_with_memo(zone, fmt::format("d{}.example", i), memo);
    }
  }
  SUBCASE("from the bottom first: reused only where the cap stays out of reach")
  {
    same_with_memo(zone, "d10.example", memo);
    CHECK(memo->stats().stored == 15);
    same_with_memo(zone, "d5.example", memo); // every entry would end exactly at the cap
    CHECK(memo->stats().hits == 0);
    CHECK(memo->stats().unusable >= 1);
    same_with_memo(zone, "d6.example", memo); // d11 at depth 5 with 14 levels below it: the deepest is at 19
    CHECK(memo->stats().hits == 1);
    for (int i = 0; i <= 25; ++i) {
      same_with_memo(zone, fmt::format("d{}.example", i), memo);
    }
  }
  SUBCASE("a short branch beside a long one")
  {
    same_with_memo(zone, "wide.example", memo);
    CHECK(memo->stats().hits == 1); // the second include:leaf.example
    for (int i = 12; i >= 0; --i) {
      same_with_memo(zone, fmt::format("w{}.example", i), memo);
    }
    CHECK(memo->stats().hits > 1);
    CHECK(memo->stats().unusable > 0);
  }
}

TEST_CASE("spf::CostMemo: include and redirect= of one target, names without SPF, broken records")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>();
  const auto both = same_with_memo(zone, "both.example", memo);
  REQUIRE(both.root.children.size() == 2);
  CHECK(both.root.children[0].via == "include:_spf.prov.example");
  CHECK(both.root.children[1].via == "redirect=_spf.prov.example");
  CHECK(memo->stats().hits == 1);
  // The redirect= reuses the include's subtree: the two edges share one node, each with its own term.
  CHECK(both.root.children[0].node == both.root.children[1].node);
  // Another domain's tree shares it too, and the memo's sharing changes nothing in the first tree.
  zone.add_txt("again.example", {"v=spf1 include:_spf.prov.example -all"});
  const auto again = same_with_memo(zone, "again.example", memo);
  REQUIRE(again.root.children.size() == 1);
  CHECK(again.root.children[0].node == both.root.children[0].node);
  CHECK(again.root.children[0].via == "include:_spf.prov.example");
  CHECK(report_difference(both, analyze(zone, "both.example", nullptr)) == "");
  same_with_memo(zone, "broken.example", memo);
  same_with_memo(zone, "broken2.example", memo);
  same_with_memo(zone, "c2.example", memo);
  CHECK(memo->stats().hits >= 5);
}

TEST_CASE("spf::CostMemo: subtrees with DNS failures are not stored")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>();
  same_with_memo(zone, "fail1.example", memo);
  same_with_memo(zone, "fail2.example", memo);
  const auto stats = memo->stats();
  CHECK(stats.stored == 0);
  CHECK(stats.not_stored == 6);
  CHECK(stats.hits == 0);
}

TEST_CASE("spf::CostMemo: entries are kept apart by the MX name limit")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>();
  spf::Limits low;
  low.mx_names = 1;
  const auto normal = same_with_memo(zone, "manymx.example", memo);
  const auto limited = same_with_memo(zone, "manymx.example", memo, std::nullopt, low);
  CHECK(normal.mx_host_lookups == 2);
  CHECK(limited.mx_host_lookups == 1);
  CHECK(limited.root.children.at(0).node->too_many_mx.size() == 1);
}

TEST_CASE("spf::CostMemo: bounded by its capacity; lint_domain passes it on")
{
  auto zone = make_zone();
  const auto memo = std::make_shared<spf::CostMemo>(2);
  for (int i = 0; i < 20; ++i) {
    same_with_memo(zone, fmt::format("c{}.example", i), memo);
  }
  CHECK(memo->size() <= 2);
  CHECK(memo->stats().clears > 0);

  const auto lint_memo = std::make_shared<spf::CostMemo>();
  spf::LintOptions options;
  options.memo = lint_memo;
  dns::run_sync(zone, spf::lint_domain(zone, "c0.example", options));
  dns::run_sync(zone, spf::lint_domain(zone, "c4.example", options));
  CHECK(lint_memo->stats().hits == 1);
}

TEST_CASE("spf::lint_domain: the cost walk takes the record lint fetched and parsed; a TXT answer handed in")
{
  // lint_domain hands its record and parse to analyze_cost (CostOptions::record_override and record_parsed), which
  // then neither asks for the root's TXT again nor parses it: the report must be the one analyze_cost makes alone,
  // for every shape of tree (loops, the depth cap, broken includes, DNS failures), with and without a parse cache.
  auto zone = make_zone();
  std::vector<std::string> domains = {"loop-a.example", "loop-d.example", "both.example",    "self.example",
                                      "broken.example", "broken2.example", "fail1.example", "fail2.example",
                                      "via-y.example",  "manymx.example",  "d0.example",    "w0.example",
                                      "wide.example",   "syntax.example",  "two.example",   "nospf.example",
                                      "slow.example",   "missing.example"};
  for (int i = 0; i < 20; ++i) {
    domains.push_back(fmt::format("c{}.example", i));
  }
  for (const bool with_cache : {false, true}) {
    const auto cache = with_cache ? std::make_shared<spf::RecordCache>() : nullptr;
    for (const auto& domain : domains) {
      INFO(domain, with_cache ? " with a parse cache" : " without a parse cache");
      spf::CostOptions cost_options;
      cost_options.cache = cache;
      const auto alone = dns::run_sync(zone, spf::analyze_cost(zone, domain, cost_options));

      test::CountingResolver counting(zone);
      spf::LintOptions options;
      options.cache = cache;
      const auto lint = dns::run_sync(counting, spf::lint_domain(counting, domain, options));
      CHECK(counting.queries(domain, dns::RRType::txt) == 1);

      // The TXT answer handed in (LintOptions::txt, as check_domain has it): not asked for, the same lint.
      test::CountingResolver handed_counting(zone);
      options.txt = zone.answer(domain, dns::RRType::txt);
      const auto handed = dns::run_sync(handed_counting, spf::lint_domain(handed_counting, domain, options));
      CHECK(handed_counting.queries(domain, dns::RRType::txt) == 0);
      CHECK(handed.record == lint.record);
      REQUIRE(handed.findings.size() == lint.findings.size());
      for (size_t i = 0; i < lint.findings.size(); ++i) {
        const auto& a = lint.findings[i];
        const auto& b = handed.findings[i];
        CHECK((a.code == b.code && a.severity == b.severity && a.message == b.message && a.fix == b.fix
               && a.detail == b.detail));
      }
      REQUIRE(handed.cost.has_value() == lint.cost.has_value());
      if (!lint.cost) {
        // No single record that parses: nothing to analyse (and analyze_cost alone says why in the root).
        CHECK((alone.root.selection != spf::SelectionStatus::one || alone.root.parse_error));
        continue;
      }
      CHECK(report_difference(alone, *lint.cost) == "");
      CHECK(report_difference(alone, *handed.cost) == "");
      REQUIRE(lint.cost->parsed);
      REQUIRE(lint.cost->parsed->has_value());
      CHECK(lint.cost->parsed->value().terms.size() == spf::parse_record(lint.record)->terms.size());
      if (cache) {
        CHECK(lint.cost->parsed == cache->parse(lint.record));
      }
    }
  }
}

TEST_CASE("spf::analyze_cost: CostOptions::record_parsed is taken for the root")
{
  auto zone = make_zone();
  const std::string text = "v=spf1 include:_spf.prov.example a:out.prov.example -all";
  spf::CostOptions options;
  options.record_override = text;
  const auto plain = dns::run_sync(zone, spf::analyze_cost(zone, "c0.example", options));
  CHECK_FALSE(plain.parsed); // parsed here without a cache: nothing shared to keep

  options.record_parsed = std::make_shared<const util::Result<spf::Record, spf::ParseError>>(spf::parse_record(text));
  const auto handed = dns::run_sync(zone, spf::analyze_cost(zone, "c0.example", options));
  CHECK(handed.parsed == options.record_parsed);
  CHECK(report_difference(plain, handed) == "");

  options.record_parsed = nullptr;
  options.cache = std::make_shared<spf::RecordCache>();
  const auto cached = dns::run_sync(zone, spf::analyze_cost(zone, "c0.example", options));
  CHECK(cached.parsed == options.cache->parse(text));
  CHECK(report_difference(plain, cached) == "");
}
