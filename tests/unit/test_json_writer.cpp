#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/report/domain_check.hpp>
#include <sendcheck/report/json.hpp>
#include <sendcheck/util/text_buffer.hpp>

#include <doctest/doctest.h>

#include <algorithm>

#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

// report::write_domain_json against the DOM path it replaces: for every report, its bytes must be exactly
// indented_json(domain_to_json(report, options), 4), i.e. what nlohmann's serializer printed (key order, indentation,
// numbers, null/true/false, escaping of quotes, backslashes, control characters, non-ASCII and invalid UTF-8).
// Reports come from the real checks over in-memory zones (the demo zone, hostile TXT records, DNS failures;
// with and without --verbose traces and --suggest) and from hand-made reports with every field set to odd bytes.

using namespace sendcheck;

namespace {

/// The bytes both ways.
struct Rendered
{
  std::string dom;
  std::string writer;
};

Rendered
render(const report::DomainReport& report, const report::JsonOptions& options)
{
  Rendered out;
  out.dom = report::entry_json(report::domain_to_json(report, options), options.layout);
  report::write_domain_json(out.writer, report, options);
  return out;
}

/// Requires identical bytes; on a difference, shows where (the reports are several KB long).
void
require_same(const report::DomainReport& report, const report::JsonOptions& options)
{
  const Rendered rendered = render(report, options);
  if (rendered.dom == rendered.writer) {
    CHECK(rendered.writer.size() > 0);
    return;
  }
  size_t at = 0;
  while (at < rendered.dom.size() && at < rendered.writer.size() && rendered.dom[at] == rendered.writer[at]) {
    ++at;
  }
  const size_t from = at > 120 ? at - 120 : 0;
  INFO("domain: ", report.domain, "; first difference at byte ", at);
  INFO("nlohmann: ", rendered.dom.substr(from, 200));
  INFO("writer:   ", rendered.writer.substr(from, 200));
  FAIL("write_domain_json differs from domain_to_json");
}

/// Both with and without traces, in both layouts.
void
require_same_both_ways(const report::DomainReport& report)
{
  for (const auto layout : {report::JsonLayout::indented, report::JsonLayout::lines}) {
    require_same(report, report::JsonOptions{.include_trace = false, .layout = layout});
    require_same(report, report::JsonOptions{.include_trace = true, .layout = layout});
  }
}

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

enum class Verbose : uint8_t { off, on };
enum class Suggest : uint8_t { off, on };

report::DomainReport
check(dns::ZoneResolver& zone, const std::string& domain, Verbose verbose, Suggest suggest,
      report::CheckSet checks = {})
{
  report::CheckOptions options;
  options.profile = std::make_shared<SenderProfile>(directo_profile());
  options.checks = checks;
  options.keep_trace = verbose == Verbose::on;
  if (suggest == Suggest::on) {
    suggest::SuggestOptions suggest_options;
    suggest_options.profile = options.profile;
    options.suggest = suggest_options;
  }
  return dns::run_sync(zone, report::check_domain(zone, domain, options));
}

/// Checks `domain` in every mode and requires identical bytes for each report.
void
require_same_for_domain(dns::ZoneResolver& zone, const std::string& domain)
{
  for (const auto verbose : {Verbose::off, Verbose::on}) {
    for (const auto suggest : {Suggest::off, Suggest::on}) {
      INFO("domain ", domain, verbose == Verbose::on ? " --verbose" : "", suggest == Suggest::on ? " --suggest" : "");
      const auto report = check(zone, domain, verbose, suggest);
      require_same(report, report::JsonOptions{.include_trace = verbose == Verbose::on});
    }
  }
}

/// The names of the zones (`$ORIGIN` lines) in a zone file: every demo case.
std::vector<std::string>
origins_of(const std::string& path)
{
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("$ORIGIN ", 0) == 0) {
      std::string name = line.substr(8);
      while (!name.empty() && (name.back() == '.' || name.back() == ' ' || name.back() == '\r')) {
        name.pop_back();
      }
      out.push_back(name);
    }
  }
  return out;
}

/// Strings with every kind of byte that needs care in JSON.
const std::vector<std::string>&
hostile_strings()
{
  static const std::vector<std::string> strings = {
    "plain",
    "",
    "a \"quoted\" word",
    "back\\slash \\\\ and \\\"",
    std::string("nul \0 inside", 12),
    "tab\there, newline\n, return\r, form feed\f, backspace\b, bell\a, escape\x1b, unit separator\x1f",
    "delete \x7f",
    "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\xa7 \xe6\xbc\xa2",
    "invalid \xff byte",
    "truncated \xc3",
    "truncated at the end \xe2\x80",
    "overlong \xc0\xaf slash",
    "surrogate \xed\xa0\x80 half",
    "lone continuation \x80\x80 bytes",
    "above U+10FFFF \xf4\x90\x80\x80",
    "mixed \"\\\x01\xc3\xa9\xff\n",
    "\xef\xbf\xbd replacement character itself",
    "/slash/ is not escaped",
  };
  return strings;
}

/// A report with every field and every optional part set, its strings taken from `text` (with variations).
report::DomainReport
full_report(const std::string& text)
{
  report::DomainReport out;
  out.domain = "x" + text;
  out.unicode = text + "u";
  out.note = text;
  out.txt_status = dns::Status::servfail;
  out.txt_server = text;
  auto txt = std::make_shared<dns::Answer>();
  txt->txt = {dns::TxtRecord{{text, "v=spf1 -all", ""}}, dns::TxtRecord{}};
  out.spf_records = {&txt->txt[0], &txt->txt[1]};
  out.txt = std::move(txt);
  out.record = text;
  out.record_is_candidate = true;

  spf::LookupInfo lookup;
  lookup.name = text;
  lookup.type = dns::RRType::mx;
  lookup.status = dns::Status::timeout;
  lookup.record_count = 12345678901ULL;
  lookup.server = text;
  lookup.detail = text;
  lookup.counted_void = true;

  spf::Evaluation evaluation;
  evaluation.result = spf::SpfResult::temperror;
  evaluation.explanation = text;
  spf::Term term;
  term.text = text;
  evaluation.deciding_term = std::make_shared<const spf::Term>(term);
  evaluation.deciding_domain = text;
  evaluation.reason = text;
  evaluation.error_code = "spf.dns_failure";
  evaluation.dns_failure = lookup;
  evaluation.dns_terms = 4294967295U;
  evaluation.void_lookups = 0;
  spf::TraceStep step;
  step.depth = 3;
  step.domain = text;
  step.term = text;
  step.target = text;
  step.lookups = {lookup, spf::LookupInfo{}};
  step.matched = true;
  step.result = spf::SpfResult::permerror;
  step.note = text;
  evaluation.trace = {step, spf::TraceStep{}};
  report::IpResult first(ip("90.190.150.212"), report::IpRole::ordinary, std::move(evaluation));
  report::IpResult second;
  second.ip = ip("2001:db8::1");
  second.role = report::IpRole::bulk;
  out.ips = {first, second};

  spf::CostReport cost;
  cost.root.domain = text;
  cost.root.record = text;
  cost.root.own_terms = 2;
  cost.root.subtree_terms = 11;
  cost.root.mx_host_lookups = 7;
  cost.root.errors = {text, "second error"};
  spf::CostNode child;
  child.domain = "child";
  child.loop = true;
  spf::CostNode grandchild;
  grandchild.domain = text;
  grandchild.errors = {text};
  child.children = {spf::CostChild("", std::make_shared<const spf::CostNode>(grandchild)),
                    spf::CostChild("", std::make_shared<const spf::CostNode>())};
  cost.root.children = {spf::CostChild(text, std::make_shared<const spf::CostNode>(child))};
  cost.total_terms = 11;
  cost.void_lookups = 3;
  cost.mx_host_lookups = 7;
  out.cost = cost;

  out.sending_host.name = text;
  out.sending_host.status = dns::Status::nxdomain;
  auto host = std::make_shared<dns::Answer>();
  host->addresses = {ip("90.190.150.212"), ip("2001:db8::2")};
  out.sending_host.addresses = host->addresses;
  out.sending_host.answer = std::move(host);

  out.dkim.name = text;
  out.dkim.status = dkim::DkimStatus::valid;
  out.dkim.found_at = text;
  out.dkim.records = {dns::TxtRecord{{text, text}}};
  out.dkim.key = dkim::KeyInfo{dkim::KeyType::ed25519, -1, 32, text};
  out.dkim.testing = true;
  out.dkim.reference_domain = text;
  out.dkim.comparison = dkim::Comparison::different_key;

  out.dmarc.status = dmarc::DmarcStatus::ok;
  out.dmarc.source = dmarc::PolicySource::ancestor;
  out.dmarc.record_name = text;
  out.dmarc.records = {text, "second"};
  out.dmarc.policy = dmarc::Policy::quarantine;
  out.dmarc.adkim = dmarc::Alignment::strict;
  out.dmarc.organizational_domain = text;

  out.findings = {Finding{"spf.x", Severity::error, text, text, text}, Finding{"dkim.y", Severity::info, text, "", ""}};
  out.verdict.overall = report::Delivery::spam;
  out.verdict.summary = text;
  out.verdict.streams = {report::StreamVerdict{report::IpRole::ordinary, report::Delivery::spam, 3, 4,
                                               report::SharedText(text), report::SharedText(text)},
                         report::StreamVerdict{}};
  out.status = report::DomainStatus::dns_error;

  suggest::Suggestion suggestion;
  suggestion.status = suggest::SuggestStatus::changed;
  suggestion.record = "v=spf1 " + text + " -all";
  suggestion.changes = {suggest::Change{"suggest.x", text}};
  suggestion.warnings = {text, ""};
  suggestion.failure = text;
  suggestion.verification.ran = true;
  suggestion.verification.total_dns_terms = 9;
  suggestion.verification.total_void_lookups = 1;
  out.suggestion = suggestion;
  return out;
}

} // namespace

TEST_CASE("report::write_domain_json")
{
  SUBCASE("the demo zone, every case, with and without --verbose and --suggest")
  {
    const std::string path = std::string(SENDCHECK_SOURCE_DIR) + "/examples/demo.zone";
    dns::ZoneResolver zone("demo \"zone\"");
    REQUIRE(dns::load_zone_file(zone, path));
    auto domains = origins_of(path);
    REQUIRE(domains.size() >= 10);
    domains.push_back("mail.good-shop.example"); // through a CNAME
    domains.push_back("missing.example");        // no such domain
    domains.push_back("nothing.good-shop.example");
    for (const auto& domain : domains) {
      require_same_for_domain(zone, domain);
    }
  }

  SUBCASE("--only: DKIM or DMARC left out")
  {
    const std::string path = std::string(SENDCHECK_SOURCE_DIR) + "/examples/demo.zone";
    dns::ZoneResolver zone;
    REQUIRE(dns::load_zone_file(zone, path));
    for (const auto& checks : {report::CheckSet{.dkim = false, .dmarc = false},
                               report::CheckSet{.dkim = true, .dmarc = false},
                               report::CheckSet{.dkim = false, .dmarc = true}}) {
      for (const auto& domain : {"good-shop.example", "no-directo.example", "missing.example"}) {
        INFO("domain ", domain, " dkim ", checks.dkim, " dmarc ", checks.dmarc);
        const auto report = check(zone, domain, Verbose::on, Suggest::off, checks);
        require_same(report, report::JsonOptions{.include_trace = true});
      }
    }
  }

  SUBCASE("hostile TXT records: quotes, backslashes, control characters, non-ASCII, invalid UTF-8")
  {
    // The resolver's name is reported as the answering server: hostile too.
    dns::ZoneResolver zone("server \"\\\x01 caf\xc3\xa9 \xff");
    zone.add_apex("gate.ee");
    zone.add_apex("directo.ee");
    zone.add_apex("hostile.example");
    zone.add_address("directo.gate.ee", ip("90.190.150.212"));
    zone.add_txt("inc.hostile.example", {"v=spf1 ip4:192.0.2.0/24 \"\\ \x01\xc3\xa9\xff ~all"});
    zone.add_txt("exp.hostile.example", {"Not allowed: \"%{i}\" \\ \x02 caf\xc3\xa9 \xfe\n"});
    zone.add_failure("broken.hostile.example", dns::Status::servfail);
    int index = 0;
    for (const auto& text : hostile_strings()) {
      const std::string domain = "d" + std::to_string(index++) + ".hostile.example";
      // Where the bytes sit decides where they show: the record, a term (syntax error), an include target, the
      // explanation, the DKIM and DMARC records, a record split into strings.
      zone.add_txt(domain, {"v=spf1 include:inc.hostile.example a:" + text + ".example ip4:90.190.150.210/31 ",
                            text, " exp=exp.hostile.example -all"});
      zone.add_txt(domain, {"unrelated " + text});
      zone.add_txt("_dmarc." + domain, {"v=DMARC1; p=reject; rua=mailto:" + text});
      zone.add_txt("directo._domainkey." + domain, {"k=rsa; p=" + text});
      const std::string second = "e" + std::to_string(index) + ".hostile.example";
      zone.add_txt(second, {"v=spf1 ip4:90.190.150.212 include:broken.hostile.example -all " + text});
      const std::string third = "f" + std::to_string(index) + ".hostile.example";
      zone.add_txt(third, {"v=spf1 mx:" + text + " exists:%{l}" + text + " -all"});
      for (const auto& name : {domain, second, third}) {
        require_same_for_domain(zone, name);
      }
    }
  }

  SUBCASE("every field set, to each hostile string")
  {
    for (const auto& text : hostile_strings()) {
      INFO("text: ", text);
      require_same_both_ways(full_report(text));
    }
  }

  SUBCASE("every value of every enum, named as a word (the writer copies enum names without escaping them)")
  {
    // Past the named values too: to_string then gives its fallback. nlohmann escapes them all, so any name that
    // needed escaping would differ (and fail the writer's assertion in a debug build).
    for (unsigned value = 0; value < 32; ++value) {
      INFO("value ", value);
      auto report = full_report("x");
      const auto as = [value]<typename E>(E& field) { field = static_cast<E>(value); };
      as(report.status);
      as(report.txt_status);
      for (auto& entry : report.ips) {
        as(entry.role);
        spf::Evaluation evaluation = *entry.evaluation;
        as(evaluation.result);
        if (evaluation.dns_failure) {
          as(evaluation.dns_failure->type);
          as(evaluation.dns_failure->status);
        }
        for (auto& step : evaluation.trace) {
          step.result = static_cast<spf::SpfResult>(value);
          for (auto& lookup : step.lookups) {
            as(lookup.type);
            as(lookup.status);
          }
        }
        entry.evaluation = std::make_shared<const spf::Evaluation>(std::move(evaluation));
      }
      as(report.sending_host.status);
      as(report.dkim.status);
      as(report.dkim.comparison);
      as(report.dkim.key->type);
      as(report.dmarc.status);
      as(report.dmarc.source);
      as(report.dmarc.adkim);
      as(report.dmarc.aspf);
      for (auto& finding : report.findings) {
        as(finding.severity);
      }
      as(report.verdict.overall);
      for (auto& stream : report.verdict.streams) {
        as(stream.role);
        as(stream.outcome);
      }
      as(report.suggestion->status);
      require_same_both_ways(report);
    }
  }

  SUBCASE("an empty report: nulls and empty arrays")
  {
    require_same_both_ways(report::DomainReport{});
    report::DomainReport report;
    report.suggestion = suggest::Suggestion{};
    report.cost = spf::CostReport{};
    report.ips.resize(2);
    require_same_both_ways(report);
  }

  SUBCASE("addresses with the same evaluation, and with evaluations that differ in one written field")
  {
    // The writer writes an evaluation's members once and copies them for the next address whose evaluation agrees
    // in every written field: each field changed alone must be written anew, and a copy must not be reused for it.
    const report::DomainReport full = full_report("v=spf1 \"quoted\" caf\xc3\xa9 -all");
    const auto base = full.ips.front().evaluation;
    using Change = void (*)(spf::Evaluation&);
    const std::vector<Change> changes = {
      [](spf::Evaluation& e) { e.result = spf::SpfResult::pass; },
      [](spf::Evaluation& e) { e.explanation += "x"; },
      [](spf::Evaluation& e) { e.deciding_term.reset(); },
      [](spf::Evaluation& e) {
        spf::Term term = *e.deciding_term; // another term with the same text: the same bytes
        e.deciding_term = std::make_shared<const spf::Term>(term);
      },
      [](spf::Evaluation& e) {
        spf::Term term = *e.deciding_term;
        term.text += "x";
        e.deciding_term = std::make_shared<const spf::Term>(term);
      },
      [](spf::Evaluation& e) { e.deciding_domain = "other.example"; },
      [](spf::Evaluation& e) { e.reason.clear(); },
      [](spf::Evaluation& e) { e.error_code = "spf.other"; },
      [](spf::Evaluation& e) { e.dns_failure.reset(); },
      [](spf::Evaluation& e) { e.dns_failure->name += "x"; },
      [](spf::Evaluation& e) { e.dns_failure->type = dns::RRType::a; },
      [](spf::Evaluation& e) { e.dns_failure->status = dns::Status::servfail; },
      [](spf::Evaluation& e) { e.dns_failure->record_count = 1; },
      [](spf::Evaluation& e) { e.dns_failure->server = "other"; },
      [](spf::Evaluation& e) { e.dns_failure->detail.clear(); },
      [](spf::Evaluation& e) { e.dns_failure->counted_void = false; },
      [](spf::Evaluation& e) { e.dns_terms = 3; },
      [](spf::Evaluation& e) { e.void_lookups = 1; },
      [](spf::Evaluation& e) { e.trace.clear(); }, // not written without --verbose: may be copied then
    };
    for (size_t i = 0; i < changes.size(); ++i) {
      INFO("change ", i);
      spf::Evaluation changed_copy = *base;
      changes[i](changed_copy);
      const auto changed = std::make_shared<const spf::Evaluation>(std::move(changed_copy));
      // Each as its own copy too: equal evaluations that are not the same object are compared field by field.
      const auto base_copy = std::make_shared<const spf::Evaluation>(*base);
      const auto changed_again = std::make_shared<const spf::Evaluation>(*changed);
      report::DomainReport report = full;
      // Same, changed, same, changed, and a bulk address after them: the writer keeps several earlier ones.
      report.ips.clear();
      for (const auto& evaluation : {base, changed, base_copy, changed, changed_again, base}) {
        report::IpResult& entry = report.ips.emplace_back();
        entry.ip = ip("90.190.150." + std::to_string(210 + report.ips.size()));
        entry.role = report.ips.size() == 6 ? report::IpRole::bulk : report::IpRole::ordinary;
        entry.evaluation = evaluation;
      }
      require_same_both_ways(report);
    }
  }

  SUBCASE("more different evaluations than the writer keeps, each coming back")
  {
    report::DomainReport report;
    for (unsigned round = 0; round < 3; ++round) {
      for (unsigned i = 0; i < 7; ++i) {
        spf::Evaluation evaluation;
        evaluation.result = spf::SpfResult::fail;
        evaluation.dns_terms = i;
        // Long enough that the writer's buffer grows while it copies.
        evaluation.reason = std::string(3000, static_cast<char>('a' + i));
        report.ips.emplace_back(ip("192.0.2." + std::to_string(report.ips.size() + 1)), report::IpRole::ordinary,
                                std::move(evaluation));
      }
    }
    require_same_both_ways(report);
  }

  SUBCASE("a cost tree 140 containers deep, a second child after each deep one")
  {
    // Each node is two levels (its object and its children). The writer keeps only whether the innermost container
    // is empty: after a deep child closes, the comma before the next one must still come.
    report::DomainReport report;
    report.cost = spf::CostReport{};
    spf::CostNode* node = &report.cost->root;
    for (int depth = 0; depth < 70; ++depth) {
      node->domain = std::to_string(depth);
      auto first = std::make_shared<spf::CostNode>();
      spf::CostNode* next = first.get(); // filled in by the next round, through the pointer kept here
      node->children.emplace_back("", std::move(first));
      if (depth % 3 != 0) {
        node->children.emplace_back("", std::make_shared<const spf::CostNode>());
      }
      node = next;
    }
    require_same_both_ways(report);
  }

  SUBCASE("every single byte, and random byte strings")
  {
    for (int byte = 0; byte < 256; ++byte) {
      const std::string text = "<" + std::string(1, static_cast<char>(byte)) + ">";
      INFO("byte ", byte);
      require_same(full_report(text), report::JsonOptions{});
    }
    // Random strings weighted toward the bytes that need care, and valid multi-byte sequences cut anywhere.
    std::mt19937 random(20260807);
    const std::string pieces[] = {"\"", "\\", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                  "\xc3", "\xe2\x82", "\xf0\x9f", "\x80", "\xff", "\xed\xb0\x80", "ab", " "};
    for (int round = 0; round < 300; ++round) {
      std::string text;
      const auto length = random() % 24;
      for (size_t i = 0; i < length; ++i) {
        if (random() % 3 == 0) {
          text += static_cast<char>(random() % 256);
        } else {
          text += pieces[random() % std::size(pieces)];
        }
      }
      INFO("round ", round);
      require_same(full_report(text), report::JsonOptions{.include_trace = true});
    }
  }

  SUBCASE("every byte at every position of a long string (the writer looks at eight bytes at a time)")
  {
    for (int byte = 0; byte < 256; ++byte) {
      for (size_t position = 0; position < 19; ++position) {
        std::string text(19, 'a');
        text[position] = static_cast<char>(byte);
        report::DomainReport report;
        report.note = text;
        report.domain = text + text; // two lanes apart
        INFO("byte ", byte, " at ", position);
        require_same(report, report::JsonOptions{});
      }
    }
  }

  SUBCASE("a byte that needs care at every position of strings around the block sizes")
  {
    // With SSE2 the writer copies plain bytes 32 at a time (two blocks), then 16, then the last ones through the 16
    // bytes that end the string; fewer than 16 (a short string, or the rest after an escaped byte) as the first and
    // last 8, or read in pieces when fewer than 8. Without SSE2, 8 at a time, then the last ones through the word
    // that ends the string, or read in pieces. The strings here are as long as one to eight blocks, one shorter, one
    // longer and more, so that every such path sees the byte at each place (in either block of a pair); with two
    // escaped bytes too, the second one after the first.
    const unsigned char bytes[] = {'"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff};
    const size_t lengths[] = {1,  2,  3,  4,  5,  7,  8,  9,  15, 16, 17, 23, 24,  25,  31,  32,  33,
                              47, 48, 49, 63, 64, 65, 79, 80, 81, 95, 96, 97, 127, 128, 129};
    for (const size_t length : lengths) {
      for (size_t position = 0; position < length; ++position) {
        for (const unsigned char byte : bytes) {
          std::string text(length, 'a');
          text[position] = static_cast<char>(byte);
          report::DomainReport report;
          report.domain = text;
          report.note = "x" + text; // another alignment
          INFO("length ", length, ": byte ", int{byte}, " at ", position);
          require_same(report, report::JsonOptions{.layout = report::JsonLayout::lines});
        }
        for (size_t second = position; second < length; ++second) {
          std::string text(length, 'b');
          text[position] = '"';
          text[second] = '\\';
          report::DomainReport report;
          report.domain = text;
          INFO("length ", length, ": a quote at ", position, " and a backslash at ", second);
          require_same(report, report::JsonOptions{.layout = report::JsonLayout::lines});
        }
      }
    }
  }

  SUBCASE("entries far larger than the writer's buffer, and small ones after them")
  {
    // The writer writes into a buffer of the thread's that it keeps from one entry to the next (and lets go of
    // after a huge one): what one entry left there must not show in the next, and growing it in the middle of a
    // string, plain or escaped by nlohmann, must keep what was written.
    const std::string plain(3 << 20, 'p');
    const std::string careful = std::string(1 << 20, 'c') + "\xc3\xa9\x01\xff" + std::string(100, 'd');
    for (const auto& text : {plain, careful, std::string("short"), careful, std::string("\x01")}) {
      report::DomainReport report;
      report.domain = "big.example";
      report.note = text;
      report.verdict.summary = text.substr(0, 10);
      for (const auto layout : {report::JsonLayout::indented, report::JsonLayout::lines}) {
        INFO("size ", text.size());
        require_same(report, report::JsonOptions{.layout = layout});
      }
    }
  }

  SUBCASE("appends to what the string already holds")
  {
    std::string out = "before\n";
    const auto report = full_report("text");
    report::write_domain_json(out, report, report::JsonOptions{});
    CHECK(out == "before\n" + report::indented_json(report::domain_to_json(report, report::JsonOptions{}), 4));
    CHECK(out.substr(7, 6) == "    {\n");
    CHECK(out.substr(out.size() - 6) == "\n    }");
  }

  SUBCASE("into a reused TextBuffer: only this report's bytes, whatever the buffer held before")
  {
    // The CLI renders each domain into a buffer from a pool: the room left by a longer report must never show.
    const auto long_report = full_report(std::string(5000, 'x'));
    const auto short_report = full_report("text");
    for (const auto layout : {report::JsonLayout::indented, report::JsonLayout::lines}) {
      const report::JsonOptions options{.layout = layout};
      std::string fresh_long;
      std::string fresh_short;
      report::write_domain_json(fresh_long, long_report, options);
      report::write_domain_json(fresh_short, short_report, options);
      util::TextBuffer buffer;
      for (int round = 0; round < 3; ++round) {
        buffer.clear();
        buffer.append(",\n");
        report::write_domain_json(buffer, long_report, options);
        CHECK(buffer.view() == ",\n" + fresh_long);
        buffer.clear();
        report::write_domain_json(buffer, short_report, options);
        CHECK(buffer.view() == fresh_short);
      }
    }
  }

  SUBCASE("in lines: the whole object on one line, without spaces between tokens")
  {
    std::string out = "before\n";
    const auto report = full_report("text");
    const report::JsonOptions options{.layout = report::JsonLayout::lines};
    report::write_domain_json(out, report, options);
    CHECK(out == "before\n" + report::domain_to_json(report, options).dump());
    CHECK(out.substr(7, 11) == "{\"domain\":\"");
    CHECK(out.find('\n', 7) == std::string::npos);
  }
}

TEST_CASE("report::json_document_start and json_document_end: both layouts make the same document")
{
  report::RunSummary summary;
  summary.domains = 1;
  summary.good = 1;
  const auto entry = report::domain_to_json(full_report("text"), report::JsonOptions{});
  nlohmann::ordered_json documents[2];
  size_t index = 0;
  for (const auto layout : {report::JsonLayout::indented, report::JsonLayout::lines}) {
    const std::string text = report::json_document_start(directo_profile(), layout) + "\n"
                             + report::entry_json(entry, layout)
                             + report::json_document_end(summary, {"a note"}, layout);
    if (layout == report::JsonLayout::lines) {
      CHECK(std::count(text.begin(), text.end(), '\n') == 3); // the head, the domain, the tail
    }
    documents[index++] = nlohmann::ordered_json::parse(text);
  }
  CHECK(documents[0] == documents[1]);
  CHECK(documents[1]["domains"][0] == entry);
  CHECK(documents[1]["notes"][0] == "a note");
  CHECK(documents[1]["summary"]["good"] == 1);
}

TEST_CASE("report::indented_json")
{
  nlohmann::ordered_json json = {{"a", 1}, {"b", nlohmann::ordered_json::array()}, {"c", {true, nullptr, "\xff"}}};
  CHECK(report::indented_json(json, 4)
        == "    {\n      \"a\": 1,\n      \"b\": [],\n      \"c\": [\n        true,\n        null,\n"
           "        \"\xef\xbf\xbd\"\n      ]\n    }");
  CHECK(report::indented_json(json, 0) == json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}
