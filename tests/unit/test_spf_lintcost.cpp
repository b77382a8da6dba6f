#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/report/domain_check.hpp>
#include <sendcheck/spf/cost.hpp>
#include <sendcheck/spf/lint.hpp>
#include <sendcheck/util/strings.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

// lint_domain with the shared parse cache (the record parsed once for the text lint and the cost walk) gives exactly
// the findings it gives without one; the cost tree keeps each node's record and normalized domain; check_domain's
// sender findings name the addresses and the sending host exactly.

using namespace sendcheck;

namespace {

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// Domains covering every lint path: clean, broken syntax, +all, several records, a look-alike, long strings, an
/// include chain with a loop, a void lookup and an include without a record.
dns::ZoneResolver
make_zone()
{
  dns::ZoneResolver zone("lintcost test");
  zone.add_txt("clean.example", {"v=spf1 ip4:192.0.2.1 include:_spf.provider.example -all"});
  zone.add_txt("_spf.provider.example", {"v=spf1 ip4:198.51.100.0/24 include:_spf2.provider.example ~all"});
  zone.add_txt("_spf2.provider.example", {"v=spf1 ip4:203.0.113.0/24 a:gone.provider.example -all"});
  zone.add_txt("syntax.example", {"v=spf1 ip4:192.0.2.300 -all"});
  zone.add_txt("plus.example", {"v=spf1 ptr +all include:_spf.provider.example"});
  zone.add_txt("two.example", {"v=spf1 -all"});
  zone.add_txt("two.example", {"v=spf1 ~all"});
  zone.add_txt("lookalike.example", {"v=spf2 -all"});
  zone.add_txt("lookalike.example", {"v=spf1 ?all"});
  zone.add_txt("long.example", {"v=spf1 " + std::string(250, ' ') + "-all"});
  zone.add_txt("split.example", {"v=spf1 ip4:192.0.2.1 ", "include:_spf.provider.example -all"});
  zone.add_txt("loop-a.example", {"v=spf1 include:LOOP-B.example. -all"});
  zone.add_txt("loop-b.example", {"v=spf1 include:loop-a.example -all"});
  zone.add_txt("noinclude.example", {"v=spf1 include:nothing.example redirect=x.example"});
  zone.add_txt("void.example", {"v=spf1 a:none1.example mx:none2.example exists:none3.example -all"});
  return zone;
}

const std::vector<std::string> k_domains = {"clean.example", "syntax.example",   "plus.example",  "two.example",
                                            "lookalike.example", "long.example", "split.example", "loop-a.example",
                                            "noinclude.example", "void.example", "absent.example"};

std::vector<std::string>
describe(const spf::DomainLint& lint)
{
  std::vector<std::string> out;
  for (const auto& finding : lint.findings) {
    out.push_back(fmt::format("{}|{}|{}|{}|{}", finding.code, static_cast<int>(finding.severity), finding.message,
                              finding.fix, finding.detail));
  }
  out.push_back("record=" + lint.record);
  if (lint.cost) {
    out.push_back(fmt::format("cost={} {} {} {}", lint.cost->total_terms, lint.cost->void_lookups,
                              lint.cost->mx_host_lookups, lint.cost->loops.size()));
  }
  return out;
}

std::vector<std::string>
codes(const Findings& findings)
{
  std::vector<std::string> out;
  for (const auto& finding : findings) {
    out.push_back(finding.code);
  }
  return out;
}

const Finding*
find(const Findings& findings, std::string_view code)
{
  const auto it = std::find_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.code == code; });
  return it == findings.end() ? nullptr : &*it;
}

/// check_domain of example.ee publishing `spf`, for `profile`'s sender (SPF only), in a zone where directo.gate.ee
/// resolves to 90.190.150.212.
report::DomainReport
check_sender(const std::string& spf, const std::shared_ptr<const SenderProfile>& profile, bool bulk)
{
  dns::ZoneResolver zone("sender test");
  zone.add_apex("example.ee");
  zone.add_apex("gate.ee");
  zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  zone.add_txt("example.ee", {spf});
  report::CheckOptions options;
  options.profile = profile;
  options.bulk = bulk;
  options.checks.dkim = false;
  options.checks.dmarc = false;
  options.cache = std::make_shared<spf::RecordCache>();
  return dns::run_sync(zone, report::check_domain(zone, "example.ee", options));
}

} // namespace

TEST_CASE("spf::lint_domain")
{
  auto zone = make_zone();

  SUBCASE("the shared parse cache changes no finding, record or cost (first use and cache hits)")
  {
    spf::LintOptions cached;
    cached.cache = std::make_shared<spf::RecordCache>();
    for (int round = 0; round < 2; ++round) {
      for (const auto& domain : k_domains) {
        CAPTURE(domain);
        CAPTURE(round);
        const auto plain = dns::run_sync(zone, spf::lint_domain(zone, domain, {}));
        const auto shared = dns::run_sync(zone, spf::lint_domain(zone, domain, cached));
        CHECK(describe(plain) == describe(shared));
      }
    }
    CHECK(cached.cache->size() > 0);
  }

  SUBCASE("the record's own findings equal lint_record_text's, then the cost findings")
  {
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "plus.example", {}));
    CHECK(lint.record == "v=spf1 ptr +all include:_spf.provider.example");
    const auto text = spf::lint_record_text(lint.record);
    REQUIRE(lint.findings.size() >= text.size());
    CHECK(codes(text) == std::vector<std::string>{"spf.plus_all", "spf.terms_after_all", "spf.ptr_used"});
    for (size_t i = 0; i < text.size(); ++i) {
      CHECK(lint.findings[i].message == text[i].message);
      CHECK(lint.findings[i].detail == text[i].detail);
    }
    REQUIRE(lint.cost);
    CHECK(lint.cost->total_terms == 4); // ptr, include, include, a
  }

  SUBCASE("a syntax error: no cost analysis, the offset in the detail")
  {
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "syntax.example", {}));
    CHECK(codes(lint.findings) == std::vector<std::string>{"spf.syntax"});
    CHECK_FALSE(lint.cost);
    CHECK(lint.findings.front().detail == "offset 11: ip4:192.0.2.300");
    CHECK(spf::syntax_offset(lint.findings.front()) == 11u);
  }

  SUBCASE("several records: named in the detail, no record selected")
  {
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "two.example", {}));
    REQUIRE(lint.findings.size() == 1);
    CHECK(lint.findings[0].code == "spf.multiple_records");
    CHECK(lint.findings[0].message
          == "two.example publishes 2 SPF records; receivers then treat SPF as broken (permerror).");
    CHECK(lint.findings[0].detail == "\"v=spf1 -all\" and \"v=spf1 ~all\"");
    CHECK(lint.record.empty());
    CHECK_FALSE(lint.cost);
  }

  SUBCASE("a look-alike TXT record is linted beside the real one")
  {
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "lookalike.example", {}));
    CHECK(codes(lint.findings) == std::vector<std::string>{"spf.spf_version", "spf.neutral_all"});
    CHECK(lint.record == "v=spf1 ?all");
  }

  SUBCASE("the 255-octet rule reads the published strings")
  {
    const auto one = dns::run_sync(zone, spf::lint_domain(zone, "long.example", {}));
    const auto* too_long = find(one.findings, "spf.string_too_long");
    REQUIRE(too_long);
    CHECK(too_long->severity == Severity::error);
    CHECK(too_long->message
          == "One text string of the SPF record is 261 characters long; DNS allows at most 255 per string.");
    const auto split = dns::run_sync(zone, spf::lint_domain(zone, "split.example", {}));
    CHECK_FALSE(find(split.findings, "spf.string_too_long"));
    CHECK(split.record == "v=spf1 ip4:192.0.2.1 include:_spf.provider.example -all");
  }

  SUBCASE("a --record override is linted and walked instead of the published record")
  {
    spf::LintOptions options;
    options.record_override = "v=spf1 include:_spf.provider.example +all";
    options.cache = std::make_shared<spf::RecordCache>();
    const auto lint = dns::run_sync(zone, spf::lint_domain(zone, "two.example", options));
    CHECK(codes(lint.findings) == std::vector<std::string>{"spf.plus_all"});
    REQUIRE(lint.cost);
    CHECK(lint.cost->root.record == "v=spf1 include:_spf.provider.example +all");
    CHECK(lint.cost->total_terms == 3);
  }
}

TEST_CASE("spf::analyze_cost")
{
  auto zone = make_zone();

  SUBCASE("each node keeps its record; include targets are normalized; the loop is reported")
  {
    spf::CostOptions options;
    options.cache = std::make_shared<spf::RecordCache>();
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "loop-a.example", options));
    CHECK(report.root.record == "v=spf1 include:LOOP-B.example. -all");
    REQUIRE(report.root.children.size() == 1);
    CHECK(report.root.children[0].via == "include:LOOP-B.example.");
    const auto& b = *report.root.children[0].node;
    CHECK(b.domain == "loop-b.example");
    CHECK(b.record == "v=spf1 include:loop-a.example -all");
    REQUIRE(b.children.size() == 1);
    CHECK(b.children[0].node->loop);
    CHECK(b.children[0].node->record.empty());
    CHECK(report.loops == std::vector<std::string>{"loop-a.example -> loop-b.example -> loop-a.example"});
  }

  SUBCASE("an include without a record and a redirect: errors in the nodes, record empty")
  {
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "noinclude.example", {}));
    REQUIRE(report.root.children.size() == 2);
    CHECK(report.root.children[0].node->selection == spf::SelectionStatus::none);
    CHECK(report.root.children[0].node->errors == std::vector<std::string>{"nothing.example has no SPF record"});
    CHECK(report.root.children[0].node->record.empty());
    CHECK(report.root.children[1].via == "redirect=x.example");
    CHECK(report.total_terms == 2);
  }

  SUBCASE("void lookups: a with neither A nor AAAA, mx and exists without data")
  {
    const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "void.example", {}));
    CHECK(report.void_lookups == 3);
    CHECK(report.over_void_limit());
    CHECK(report.root.record == "v=spf1 a:none1.example mx:none2.example exists:none3.example -all");
  }
}

TEST_CASE("report::check_domain sender findings")
{
  const SenderProfile& profile = directo_profile();
  const auto shared_profile = std::make_shared<SenderProfile>(profile);
  auto check = [&](const std::string& spf) { return check_sender(spf, shared_profile, true); };

  SUBCASE("partial: the failing addresses and what a: covers (host written in capitals with a final dot)")
  {
    const auto report = check("v=spf1 ip4:90.190.150.210/31 a:Directo.Gate.EE. ~all");
    const auto* finding = find(report.findings, "spf.directo_partial");
    REQUIRE(finding);
    CHECK(finding->message
          == fmt::format("SPF authorizes only 3 of {}'s 4 ordinary addresses; mail from 90.190.150.213 fails SPF.",
                         profile.name));
    CHECK(finding->detail == "'a:directo.gate.ee' covers only what directo.gate.ee resolves to now: 90.190.150.212.");
    CHECK(finding->fix
          == "Add 'ip4:90.190.150.213' to the SPF record before the 'all' term; 'sendcheck --suggest example.ee' "
             "prints the whole record.");
    const auto* bulk = find(report.findings, "spf.directo_bulk_missing");
    REQUIRE(bulk);
    CHECK(bulk->message.find("bulk-mail address 90.190.150.82 (") != std::string::npos);
  }

  SUBCASE("missing everywhere: the compacted terms to add")
  {
    const std::string fix = "Add 'ip4:90.190.150.210/31 ip4:90.190.150.212/31' to the SPF record before the 'all' "
                            "term; 'sendcheck --suggest example.ee' prints the whole record.";
    // Twice: the second time the compacted terms come from the per-thread memo.
    for (int round = 0; round < 2; ++round) {
      const auto report = check("v=spf1 ip4:192.0.2.1 -all");
      const auto* finding = find(report.findings, "spf.directo_missing");
      REQUIRE(finding);
      CHECK(finding->detail.empty());
      CHECK(finding->fix == fix);
      const auto* bulk = find(report.findings, "spf.directo_bulk_missing");
      REQUIRE(bulk);
      CHECK(bulk->fix == "Add 'ip4:90.190.150.82' to the SPF record before the 'all' term.");
    }
  }

  SUBCASE("include of the sending host: one specific finding instead of the generic one")
  {
    const auto report = check("v=spf1 include:directo.gate.ee -all");
    CHECK(find(report.findings, "spf.include_sending_host"));
    CHECK_FALSE(find(report.findings, "spf.include_no_record"));
  }

  SUBCASE("a broken record still gets the include advice from its text")
  {
    const auto report = check("v=spf1 include:directo.gate.ee ip4:1.2.3.999 -all");
    CHECK(find(report.findings, "spf.include_sending_host"));
  }
}

TEST_CASE("report::check_domain sender findings: the address texts of many different lists")
{
  // Six ordinary addresses give 63 different failing lists: more than the per-thread memo of address texts holds, so
  // it is emptied and filled again, and every list must still get its own texts, the first time and the second.
  SenderProfile profile = directo_profile();
  profile.ordinary_ips.clear();
  for (int i = 0; i < 6; ++i) {
    profile.ordinary_ips.push_back(ip(fmt::format("192.0.2.{}", 10 + 3 * i)));
  }
  const auto shared_profile = std::make_shared<SenderProfile>(profile);
  auto join = [](const std::vector<dns::IpAddress>& ips) {
    std::string out;
    for (const auto& address : ips) {
      out += (out.empty() ? "" : ", ") + address.to_string();
    }
    return out;
  };
  for (int round = 0; round < 2; ++round) {
    for (unsigned passing = 0; passing < 63; ++passing) {
      std::string spf = "v=spf1";
      std::vector<dns::IpAddress> failing;
      for (size_t i = 0; i < profile.ordinary_ips.size(); ++i) {
        if ((passing >> i) & 1U) {
          spf += " ip4:" + profile.ordinary_ips[i].to_string();
        } else {
          failing.push_back(profile.ordinary_ips[i]);
        }
      }
      spf += " a:directo.gate.ee -all";
      const auto report = check_sender(spf, shared_profile, false);
      INFO("round ", round, ": ", spf);
      const auto* finding = find(report.findings, passing == 0 ? "spf.directo_missing" : "spf.directo_partial");
      REQUIRE(finding);
      if (passing != 0) {
        CHECK(finding->message.find("; mail from " + join(failing) + " fails SPF.") != std::string::npos);
      }
      CHECK(finding->detail
            == "'a:directo.gate.ee' covers only what directo.gate.ee resolves to now: 90.190.150.212.");
      const auto terms = compact_ip_terms(failing);
      std::string joined_terms;
      for (const auto& term : terms) {
        joined_terms += (joined_terms.empty() ? "" : " ") + term;
      }
      CHECK(finding->fix.rfind("Add '" + joined_terms + "' to the SPF record", 0) == 0);
    }
  }
}

TEST_CASE("spf::lint_record_text: the character findings on random records")
{
  // A plain record skips the byte and whitespace scans: on random records that start like SPF, spf.non_ascii and
  // spf.whitespace must come exactly when a byte outside printable ASCII, a tab, two spaces in a row or a space at
  // either end is there.
  const std::vector<std::string> pieces = {" ",   "  ",   "\t",   "ip4:192.0.2.1", "-all",       "a",     "~",
                                           "\x7f", "\x1f", "\x80", "\xc3\xa9",      "mx:x.example", "\x01", "}"};
  std::mt19937 random(7208);
  for (int i = 0; i < 3000; ++i) {
    std::string text = random() % 4 == 0 ? std::string(random() % 2 == 0 ? " " : "\t") : std::string();
    text += "v=spf1";
    const size_t count = random() % 8;
    for (size_t j = 0; j < count; ++j) {
      text += pieces[random() % pieces.size()];
    }
    const bool odd_byte = std::any_of(text.begin(), text.end(), [](char c) {
      const auto byte = static_cast<unsigned char>(c);
      return byte != ' ' && (byte <= 0x20 || byte >= 0x7f);
    });
    const bool odd_space = text.front() == ' ' || text.front() == '\t' || text.back() == ' ' || text.back() == '\t'
                           || text.find("  ") != std::string::npos || text.find('\t') != std::string::npos;
    const auto findings = spf::lint_record_text(text);
    INFO(util::escape_for_display(text));
    CHECK((find(findings, "spf.non_ascii") != nullptr) == odd_byte);
    CHECK((find(findings, "spf.whitespace") != nullptr) == odd_space);
  }
}

TEST_CASE("spf::lint_cost: the order of the per-node findings")
{
  // Each node's findings, then the subtrees below it, the last child's first: b's subtree before a's.
  dns::ZoneResolver zone("order test");
  zone.add_txt("root.example", {"v=spf1 include:a.example include:b.example -all"});
  zone.add_txt("a.example", {"v=spf1 include:nothing1.example include:bad-a.example -all"});
  zone.add_txt("b.example", {"v=spf1 include:nothing2.example -all"});
  zone.add_txt("bad-a.example", {"v=spf1 ip4:192.0.2.999 -all"});
  const auto report = dns::run_sync(zone, spf::analyze_cost(zone, "root.example", {}));
  std::vector<std::string> order;
  for (const auto& finding : spf::lint_cost(report)) {
    order.push_back(finding.code + " " + finding.message.substr(0, finding.message.find(' ')));
  }
  CHECK(order
        == std::vector<std::string>{"spf.include_no_record 'include:nothing2.example'",
                                    "spf.include_error 'include:bad-a.example'",
                                    "spf.include_no_record 'include:nothing1.example'"});
}
