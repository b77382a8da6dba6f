#include <sendcheck/spf/lint.hpp>

#include <sendcheck/util/strings.hpp>

#include "ask.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace sendcheck::spf {

namespace {

constexpr size_t k_max_string_length = 255;

Finding
make(std::string code, Severity severity, std::string message, std::string fix, std::string detail = {})
{
  return Finding{std::move(code), severity, std::move(message), std::move(fix), std::move(detail)};
}

/// Whether `text` looks like an attempt at an SPF record that does not start with exactly `v=spf1 `.
bool
looks_like_spf(std::string_view text)
{
  const auto trimmed = util::trim(text);
  std::string_view unquoted = trimmed;
  if (!unquoted.empty() && (unquoted.front() == '"' || unquoted.front() == '\'')) {
    unquoted.remove_prefix(1);
  }
  return util::istarts_with(unquoted, "v=spf") || util::istarts_with(unquoted, "spf1")
         || util::istarts_with(unquoted, "v = spf") || util::istarts_with(unquoted, "v=sfp");
}

void
lint_bytes(std::string_view text, Findings& findings)
{
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == ' ' || (byte > 0x20 && byte < 0x7f)) {
      continue;
    }
    const bool control = byte < 0x20 || byte == 0x7f;
    findings.push_back(make(
      "spf.non_ascii", Severity::error,
      fmt::format("The SPF record contains {} ({}) at position {}. Receivers reject the whole record, as if it "
                  "were not there.",
                  control ? "an invisible control character" : "a non-English (non-ASCII) character",
                  util::escape_for_display(text.substr(i, 1)), i),
      "Retype the record by hand in the DNS editor (characters copied from documents or web pages can carry "
      "invisible bytes); use only plain letters, digits, spaces and . : / - ~ + ?",
      fmt::format("offset {}: {}", i, util::escape_for_display(text))));
    return; // one is enough: the fix is the same
  }
}

void
lint_whitespace(std::string_view text, Findings& findings)
{
  const bool leading = !text.empty() && (text.front() == ' ' || text.front() == '\t');
  const bool trailing = !text.empty() && (text.back() == ' ' || text.back() == '\t');
  const bool doubled = text.find("  ") != std::string_view::npos;
  const bool tab = text.find('\t') != std::string_view::npos;
  if (!leading && !trailing && !doubled && !tab) {
    return;
  }
  std::string what = leading ? "spaces before 'v=spf1'"
                     : tab   ? "a tab character"
                     : trailing ? "spaces at the end"
                                : "two or more spaces in a row";
  const Severity severity = (leading || tab) ? Severity::error : Severity::warning;
  findings.push_back(make("spf.whitespace", severity,
                          fmt::format("The SPF record has {}.{}", what,
                                      severity == Severity::error ? " Receivers will not accept it as SPF."
                                                                  : " It works, but some checkers complain."),
                          "Separate the parts of the record with exactly one space and remove spaces at the start "
                          "and end."));
}

/// Whether neither lint_bytes nor lint_whitespace can find anything in `text`: only printable ASCII and single
/// spaces, none at either end. Cheap enough to clear the usual record; the two scans run only when it fails.
bool
is_plain(std::string_view text)
{
  if (!text.empty() && (text.front() == ' ' || text.back() == ' ')) {
    return false;
  }
  // Two passes that take a maximum and a minimum over the bytes, without an early exit: the compiler then tests many
  // bytes at once (records are mostly plain, so an early exit would rarely be taken anyway).
  unsigned char highest = 0; // Printable ASCII is 0x20 to 0x7e: less 0x20, at most 0x5e; other bytes wrap above it.
  for (const char c : text) {
    highest = std::max(highest, static_cast<unsigned char>(c - 0x20));
  }
  unsigned char lowest = 0xff; // 0 exactly where a space follows a space
  for (size_t i = 1; i < text.size(); ++i) {
    lowest = std::min(lowest, static_cast<unsigned char>((text[i] ^ ' ') | (text[i - 1] ^ ' ')));
  }
  return highest <= 0x5e && lowest != 0;
}

/// lint_bytes and lint_whitespace, skipped when `text` is plain.
void
lint_characters(std::string_view text, Findings& findings)
{
  if (is_plain(text)) {
    return;
  }
  lint_bytes(text, findings);
  lint_whitespace(text, findings);
}

} // namespace

std::optional<size_t>
syntax_offset(const Finding& finding)
{
  constexpr std::string_view k_prefix = "offset ";
  if (finding.detail.rfind(k_prefix, 0) != 0) {
    return std::nullopt;
  }
  const char* begin = finding.detail.data() + k_prefix.size();
  const char* end = finding.detail.data() + finding.detail.size();
  size_t value = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return std::nullopt;
  }
  return value;
}

namespace {

/// The parse result of a record text: `cache`'s entry, or parsed now when there is no cache.
RecordCache::Entry
parse_entry(std::string_view text, RecordCache* cache)
{
  if (cache) {
    return cache->parse(text);
  }
  return std::make_shared<const util::Result<Record, ParseError>>(parse_record(text));
}

/// `lint_record_text`, appending to `findings`; `parsed` is the parse result of `text` when the caller has it
/// (null: parsed here only if needed).
void
lint_text(std::string_view text, const std::vector<std::string>* strings,
          const util::Result<Record, ParseError>* parsed, Findings& findings)
{
  if (util::istarts_with(util::trim(text), "spf2.0/")) {
    findings.push_back(make("spf.sender_id", Severity::info,
                            "An old Sender ID record (spf2.0) is published. Receivers ignore it; only the record "
                            "starting with v=spf1 counts.",
                            "You may delete the spf2.0 record; keep exactly one v=spf1 record."));
    return;
  }
  if (!is_spf_record(text)) {
    if (!looks_like_spf(text)) {
      return; // some other TXT record: none of our business
    }
    lint_characters(text, findings);
    const auto trimmed = util::trim(text);
    const bool quoted = !trimmed.empty() && (trimmed.front() == '"' || trimmed.front() == '\'');
    findings.push_back(make(
      "spf.spf_version", Severity::error,
      quoted ? "The SPF record is published with quote marks as part of its text, so receivers do not see it as SPF."
             : fmt::format("The record '{}' looks like SPF but does not start with exactly 'v=spf1' and a space, so "
                           "receivers ignore it.",
                           util::escape_for_display(text.substr(0, std::min<size_t>(text.size(), 40)))),
      quoted ? "Remove the quote marks in the DNS editor (most editors add them themselves), so that the value "
               "starts with v=spf1."
             : "Make the record start with v=spf1 followed by a space.",
      "offset 0: " + util::escape_for_display(text)));
    return;
  }

  lint_characters(text, findings);
  if (strings) {
    for (const auto& piece : *strings) {
      if (piece.size() > k_max_string_length) {
        findings.push_back(make("spf.string_too_long", Severity::error,
                                fmt::format("One text string of the SPF record is {} characters long; DNS allows "
                                            "at most 255 per string.",
                                            piece.size()),
                                "Split the record into several quoted strings of at most 255 characters each "
                                "(\"v=spf1 ... \" \"...\"), or shorten it."));
        break;
      }
    }
  } else if (text.size() > k_max_string_length) {
    findings.push_back(make("spf.string_too_long", Severity::warning,
                            fmt::format("The SPF record is {} characters long; one DNS text string holds at most "
                                        "255.",
                                        text.size()),
                            "Publish it as several quoted strings of at most 255 characters each "
                            "(\"v=spf1 ... \" \"...\"), or shorten it."));
  }

  std::optional<util::Result<Record, ParseError>> local;
  if (!parsed) {
    local.emplace(parse_record(text));
    parsed = &*local;
  }
  if (!parsed->has_value()) {
    const auto& error = parsed->error();
    findings.push_back(make("spf.syntax", Severity::error,
                            fmt::format("The SPF record has an error, so receivers treat it as broken "
                                        "(permerror) and may reject the mail: {}.",
                                        error.message),
                            "Correct the marked part of the record; every part must be one of: ip4:, ip6:, a, mx, "
                            "include:, exists:, all, redirect=, exp=.",
                            fmt::format("offset {}: {}", error.offset, error.term)));
    return;
  }

  const Record& record = parsed->value();
  const Term* all = record.all();
  if (all) {
    if (all->qualifier == Qualifier::pass) {
      findings.push_back(make("spf.plus_all", Severity::error,
                              fmt::format("The record ends with '{}', which allows every server in the world to "
                                          "send mail as this domain.",
                                          all->text),
                              "Replace it with -all (reject others) or ~all (mark others as suspicious).",
                              fmt::format("offset {}: {}", all->offset, all->text)));
    } else if (all->qualifier == Qualifier::neutral) {
      findings.push_back(make("spf.neutral_all", Severity::warning,
                              "The record ends with '?all', which says nothing about servers it does not list, so "
                              "it gives little protection.",
                              "Use ~all or -all once every server that sends your mail is listed.",
                              fmt::format("offset {}: {}", all->offset, all->text)));
    }
    bool after = false;
    for (const auto& term : record.terms) {
      if (&term == all) {
        after = true;
        continue;
      }
      if (after && term.kind == TermKind::mechanism) {
        findings.push_back(make("spf.terms_after_all", Severity::warning,
                                fmt::format("'{}' comes after '{}', so receivers never look at it.", term.text,
                                            all->text),
                                fmt::format("Move '{}' in front of '{}'.", term.text, all->text),
                                fmt::format("offset {}: {}", term.offset, term.text)));
        break;
      }
    }
    if (const Term* redirect = record.redirect()) {
      findings.push_back(make("spf.redirect_with_all", Severity::warning,
                              fmt::format("'{}' is ignored because the record also has '{}'.", redirect->text,
                                          all->text),
                              "Keep either the redirect= or the 'all' part, not both.",
                              fmt::format("offset {}: {}", redirect->offset, redirect->text)));
    }
  } else if (!record.redirect()) {
    findings.push_back(make("spf.no_all", Severity::info,
                            "The record does not end with an 'all' part, so servers it does not list get a neutral "
                            "result.",
                            "End the record with ~all or -all."));
  }
  for (const auto& term : record.terms) {
    if (term.kind == TermKind::mechanism && term.mechanism == MechanismKind::ptr) {
      findings.push_back(make("spf.ptr_used", Severity::warning,
                              fmt::format("'{}' uses the 'ptr' mechanism, which RFC 7208 says not to use: it is "
                                          "slow, unreliable, and some receivers ignore it.",
                                          term.text),
                              "Replace it with ip4:/ip6: entries or a: names of the sending servers.",
                              fmt::format("offset {}: {}", term.offset, term.text)));
    }
    if (term.kind == TermKind::modifier && term.modifier == ModifierKind::unknown) {
      findings.push_back(make("spf.unknown_modifier", Severity::info,
                              fmt::format("'{}' is not a standard SPF part; receivers ignore it.", term.text),
                              "Remove it unless you know why it is there.",
                              fmt::format("offset {}: {}", term.offset, term.text)));
    }
  }
}

} // namespace

Findings
lint_record_text(std::string_view text, const std::vector<std::string>* strings)
{
  Findings findings;
  lint_text(text, strings, nullptr, findings);
  return findings;
}

namespace {

/// The findings of `node` itself (an mx term with too many MX records; a broken include, named by its term `via`, ""
/// for the root), then those below it: the last child's subtree first, the order of the stack these were once
/// gathered with. Recursive: the tree is at most 20 levels deep.
void
lint_nodes(const CostReport& report, const CostNode& node, std::string_view via, Findings& findings)
{
  for (const auto& term : node.too_many_mx) {
    findings.push_back(make("spf.too_many_mx", Severity::error,
                            fmt::format("'{}' in the record of {} points to more than {} mail servers; receivers "
                                        "treat this as an error.",
                                        term, node.domain, report.limits.mx_names),
                            "Replace the mx part with ip4: entries of the servers that really send mail."));
  }
  if (!via.empty() && !node.loop) {
    if (node.selection == SelectionStatus::none) {
      findings.push_back(make("spf.include_no_record", Severity::error,
                              fmt::format("'{}' names {}, which has no SPF record, so receivers treat the whole "
                                          "record as broken (permerror).",
                                          via, node.domain),
                              fmt::format("Check the spelling of '{}' with the service's documentation, or "
                                          "remove it if you no longer use that service.",
                                          via)));
    } else if (!node.errors.empty() && node.too_many_mx.empty()) {
      findings.push_back(make("spf.include_error", Severity::error,
                              fmt::format("'{}' points to a broken record: {}.", via, node.errors.front()),
                              "Ask the owner of that domain to fix it, or remove the include.", node.record));
    }
  }
  for (auto child = node.children.rbegin(); child != node.children.rend(); ++child) {
    lint_nodes(report, *child->node, child->via, findings);
  }
}

/// `lint_cost`, appending to `findings`.
void
lint_cost_into(const CostReport& report, Findings& findings)
{
  if (report.over_term_limit()) {
    std::string costly;
    for (const CostChild* include : most_costly_includes(report, 3)) {
      const CostNode& node = *include->node;
      if (node.subtree_terms == 0) {
        continue;
      }
      costly += fmt::format("{}{} ({} lookups)", costly.empty() ? "" : ", ", node.domain, node.subtree_terms);
    }
    findings.push_back(make(
      "spf.too_many_lookups", Severity::error,
      fmt::format("The SPF record needs {} DNS lookups, but receivers allow at most {}; beyond that they treat the "
                  "record as broken (permerror).{}",
                  report.total_terms, report.limits.dns_terms,
                  costly.empty() ? std::string() : fmt::format(" The most costly parts: {}.", costly)),
      "Remove includes of services you no longer use, or replace an include/a/mx part with the ip4: addresses it "
      "stands for."));
  }
  if (report.over_void_limit()) {
    findings.push_back(make("spf.void_lookups", Severity::error,
                            fmt::format("{} names in the SPF record do not exist or have no addresses; receivers "
                                        "allow at most {} such lookups and then treat the record as broken.",
                                        report.void_lookups, report.limits.void_lookups),
                            "Remove the a:, mx:, include: or exists: parts that point to names that no longer "
                            "exist."));
  }
  for (const auto& loop : report.loops) {
    findings.push_back(make("spf.include_loop", Severity::error,
                            fmt::format("The SPF records include each other in a loop: {}.", loop),
                            "Remove the include or redirect that points back.", loop));
  }

  lint_nodes(report, report.root, "", findings);
}

} // namespace

Findings
lint_cost(const CostReport& report)
{
  Findings findings;
  lint_cost_into(report, findings);
  return findings;
}

util::Task<DomainLint>
lint_domain(dns::Resolver& resolver, std::string domain, LintOptions options)
{
  DomainLint result;
  // The answer stays alive for the whole lint: the record's published strings are read from it, not copied.
  dns::AnswerPtr answer;
  const std::vector<std::string>* strings_ptr = nullptr;
  if (options.record_override) {
    result.record = *options.record_override;
  } else {
    if (options.txt) {
      answer = std::move(options.txt);
    } else {
      answer = co_await detail::ask(resolver, domain, dns::RRType::txt);
    }
    if (dns::is_failure(answer->status)) {
      result.findings.push_back(make(
        "spf.dns_failure", Severity::warning,
        fmt::format("The SPF record of {} could not be read: the DNS lookup ended with '{}'.", domain,
                    dns::to_string(answer->status)),
        "Try again later; if it persists, ask whoever hosts the domain's DNS to check the name servers.",
        fmt::format("{} {}", answer->server, answer->detail)));
      co_return result;
    }
    const dns::TxtRecord* first_spf = nullptr;
    size_t spf_count = 0;
    for (const auto& txt : answer->txt) {
      if (is_spf_record(txt)) {
        if (++spf_count == 1) {
          first_spf = &txt;
          result.record = txt.joined();
        }
      } else {
        std::string storage;
        lint_text(txt.text(storage), &txt.strings, nullptr, result.findings);
      }
    }
    if (spf_count == 0) {
      result.findings.push_back(make("spf.no_record", Severity::error,
                                     fmt::format("{} publishes no SPF record.", domain),
                                     "Publish one TXT record starting with v=spf1 that lists every server "
                                     "sending mail for the domain."));
      co_return result;
    }
    if (spf_count > 1) {
      std::string all;
      for (const auto& txt : answer->txt) {
        auto joined = txt.joined();
        if (!is_spf_record(joined)) {
          continue;
        }
        all += fmt::format("{}\"{}\"", all.empty() ? "" : " and ", util::escape_for_display(joined));
      }
      result.record.clear();
      result.findings.push_back(make("spf.multiple_records", Severity::error,
                                     fmt::format("{} publishes {} SPF records; receivers then treat SPF as broken "
                                                 "(permerror).",
                                                 domain, spf_count),
                                     "Merge them into one record that starts with v=spf1 and delete the others.",
                                     all));
      co_return result;
    }
    strings_ptr = &first_spf->strings;
  }

  // Parsed once (through the shared cache when there is one) for both the text lint and the cost analysis.
  const RecordCache::Entry parsed = parse_entry(result.record, options.cache.get());
  lint_text(result.record, strings_ptr, parsed.get(), result.findings);
  if (!parsed->has_value()) {
    co_return result;
  }
  CostOptions cost_options;
  cost_options.limits = options.limits;
  // The record and its parse are handed on: the cost walk then neither asks for the root's TXT again nor parses it.
  cost_options.record_override = result.record;
  cost_options.record_parsed = parsed;
  cost_options.cache = std::move(options.cache);
  cost_options.memo = std::move(options.memo);
  result.cost = co_await analyze_cost(resolver, std::move(domain), std::move(cost_options));
  lint_cost_into(*result.cost, result.findings);
  co_return result;
}

} // namespace sendcheck::spf
