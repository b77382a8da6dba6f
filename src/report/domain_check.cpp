#include <sendcheck/report/domain_check.hpp>

#include <sendcheck/spf/lint.hpp>
#include <sendcheck/util/strings.hpp>

#include "concat.hpp"
#include "memo.hpp"

#include <algorithm>
#include <iterator>
#include <memory>
#include <set>
#include <span>

namespace sendcheck::report {

namespace {

using detail::concat;
using detail::Decimal;

/// Codes of findings that say DNS failed (and so lead to exit 3 rather than 1 when nothing else is wrong).
bool
is_dns_failure_code(std::string_view code)
{
  return code == "spf.dns_failure" || code == dkim::codes::k_temperror || code == dmarc::codes::k_temperror
         || code == "domain.dns_failure";
}

std::string
join_ips(const std::vector<dns::IpAddress>& ips)
{
  std::string out;
  for (const auto& ip : ips) {
    if (!out.empty()) {
      out += ", ";
    }
    ip.append_to(out);
  }
  return out;
}

std::string
join_terms(const std::vector<std::string>& terms)
{
  std::string out;
  for (const auto& term : terms) {
    out += out.empty() ? term : " " + term;
  }
  return out;
}

/// The texts of one list of addresses that the sender findings show.
struct IpTexts
{
  std::string joined; ///< `join_ips`: "90.190.150.210, 90.190.150.211".
  std::string terms;  ///< `join_terms(compact_ip_terms(...))`: the SPF terms that authorize exactly those addresses.
};

/// The texts of `ips`, remembered per thread for the last few address lists: the failing addresses are subsets of one
/// profile's few addresses and the sending host's addresses are the same for every domain, so the same lists come
/// back domain after domain (both texts are pure functions of the list). Shared, so that texts stay valid when a later
/// call forgets their entry.
std::shared_ptr<const IpTexts>
ip_texts(std::span<const dns::IpAddress> ips)
{
  struct Entry
  {
    std::vector<dns::IpAddress> ips;
    std::shared_ptr<const IpTexts> texts;
  };
  thread_local std::vector<Entry> memo;
  return detail::remembered(
           memo, 32, [&ips](const Entry& entry) { return std::ranges::equal(entry.ips, ips); },
           [&ips] {
             Entry entry{{ips.begin(), ips.end()}, nullptr};
             IpTexts texts{join_ips(entry.ips), join_terms(compact_ip_terms(entry.ips))};
             entry.texts = std::make_shared<const IpTexts>(std::move(texts));
             return entry;
           })
    .texts;
}

/// The sentences of the sender findings that name no domain.
enum class SenderSentence : uint8_t {
  authorized,      ///< "SPF authorizes all <count> of <sender>'s sending addresses."
  partial,         ///< "SPF authorizes only <n> of <sender>'s <count> ordinary addresses; mail from <ips> fails SPF."
  host_covers,     ///< "'a:<host>' covers only what <host> resolves to now: <ips>."
  bulk_missing,    ///< "SPF does not authorize <sender>'s bulk-mail address <ips> (...)."
  bulk_fix,        ///< "Add '<terms of ips>' to the SPF record before the 'all' term."
};

/// Everything a SenderSentence is made from: equal keys give equal sentences.
struct SentenceKey
{
  SenderSentence kind = SenderSentence::authorized;
  size_t count = 0;                             ///< `authorized`: the addresses; `partial`: the ordinary ones.
  std::span<const dns::IpAddress> ips;          ///< The addresses the sentence lists (`authorized`: none).
  std::string_view sender;                      ///< The sender's name (`host_covers`, `bulk_fix`: empty).
  std::string_view host;                        ///< The sending host (`host_covers` only).
};

/// The sentence of `key`.
std::string
make_sentence(const SentenceKey& key)
{
  switch (key.kind) {
  case SenderSentence::authorized:
    return concat({"SPF authorizes all ", Decimal(key.count), " of ", key.sender, "'s sending addresses."});
  case SenderSentence::partial:
    return concat({"SPF authorizes only ", Decimal(key.count - key.ips.size()), " of ", key.sender, "'s ",
                   Decimal(key.count), " ordinary addresses; mail from ", ip_texts(key.ips)->joined, " fails SPF."});
  case SenderSentence::host_covers:
    return concat({"'a:", key.host, "' covers only what ", key.host, " resolves to now: ",
                   key.ips.empty() ? std::string_view("nothing") : ip_texts(key.ips)->joined, "."});
  case SenderSentence::bulk_missing:
    return concat({"SPF does not authorize ", key.sender, "'s bulk-mail address ", ip_texts(key.ips)->joined,
                   " (invoices and customer e-mails sent by the mass-mail module)."});
  case SenderSentence::bulk_fix:
    return concat({"Add '", ip_texts(key.ips)->terms, "' to the SPF record before the 'all' term."});
  }
  return {};
}

/// `make_sentence(key)`, remembered per thread: these sentences come back domain after domain (one sender, its
/// sending host's addresses, a few subsets of its addresses), and a copy costs a third of putting one together. The
/// reference is valid until the next call.
const std::string&
sender_sentence(const SentenceKey& key)
{
  struct Entry
  {
    SenderSentence kind;
    size_t count;
    std::vector<dns::IpAddress> ips;
    std::string sender; ///< Owned copies of the key's names.
    std::string host;
    std::string sentence;

    bool
    matches(const SentenceKey& other) const
    {
      return kind == other.kind && count == other.count && std::ranges::equal(ips, other.ips)
             && sender == other.sender && host == other.host;
    }
  };
  thread_local std::vector<Entry> memo;
  return detail::remembered(
           memo, 64, [&key](const Entry& entry) { return entry.matches(key); },
           [&key] {
             return Entry{key.kind,           key.count,           {key.ips.begin(), key.ips.end()},
                          std::string(key.sender), std::string(key.host), make_sentence(key)};
           })
    .sentence;
}

/// Whether `name` (as written in a record) names `host` (a normalized name): `util::normalize_name(name) == host`
/// without building the normalized copy.
bool
names_host(std::string_view name, std::string_view host)
{
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.size() != host.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != host[i]) {
      return false;
    }
  }
  return true;
}

/// The parse result of `record` (through `cache` when it is not null).
spf::RecordCache::Entry
parse_entry(const std::string& record, spf::RecordCache* cache)
{
  return cache ? cache->parse(record)
               : std::make_shared<const util::Result<spf::Record, spf::ParseError>>(spf::parse_record(record));
}

/// Whether the record (text `record`, parse result `parsed`) has a mechanism `kind` whose written target is `host`.
bool
record_targets(const std::string& record, const util::Result<spf::Record, spf::ParseError>& parsed,
               spf::MechanismKind kind, const std::string& host)
{
  if (!parsed) {
    // Fall back on the text, so that a broken record still gets the sender-specific advice.
    const std::string needle = concat({to_string(kind), ":", host});
    return util::to_lower(record).find(needle) != std::string::npos;
  }
  for (const auto& term : parsed->terms) {
    if (term.kind == spf::TermKind::mechanism && term.mechanism == kind && term.domain_spec
        && names_host(term.domain_spec->text, host)) {
      return true;
    }
  }
  return false;
}

/// Findings about the sender's addresses: are they authorized, and if not, what to add (records parsed through
/// `cache` when it is not null).
void
add_sender_findings(DomainReport& report, const SenderProfile& profile, spf::RecordCache* cache)
{
  // The addresses that fail SPF, ordinary then bulk, in one vector sized once (growing two vectors address by
  // address allocated up to three times for one profile's four ordinary addresses).
  std::vector<dns::IpAddress> failing;
  size_t failing_ordinary_count = 0;
  size_t passing = 0;
  bool any_error_result = false;
  for (const auto role : {IpRole::ordinary, IpRole::bulk}) {
    for (const auto& ip : report.ips) {
      if (ip.role != role) {
        continue;
      }
      const auto result = ip.evaluation->result;
      if (result == spf::SpfResult::pass) {
        ++passing;
      } else if (result == spf::SpfResult::temperror || result == spf::SpfResult::permerror) {
        any_error_result = true;
      } else {
        if (failing.empty()) {
          failing.reserve(report.ips.size());
        }
        failing.push_back(ip.ip);
      }
    }
    if (role == IpRole::ordinary) {
      failing_ordinary_count = failing.size();
    }
  }
  const std::span<const dns::IpAddress> failing_ordinary(failing.data(), failing_ordinary_count);
  const std::span<const dns::IpAddress> failing_bulk(failing.data() + failing_ordinary_count,
                                                     failing.size() - failing_ordinary_count);

  // Errors that stopped the evaluation: surface each distinct reason once (lint may have said it already).
  for (const auto& ip : report.ips) {
    const auto& evaluation = *ip.evaluation;
    if (evaluation.result != spf::SpfResult::temperror && evaluation.result != spf::SpfResult::permerror) {
      continue;
    }
    if (evaluation.error_code.empty() || has_finding(report.findings, evaluation.error_code)) {
      continue;
    }
    Finding finding;
    finding.code = evaluation.error_code;
    finding.severity = Severity::error;
    finding.message =
      concat({"SPF gives ", to_string(evaluation.result), " for ", ip.ip.to_string(), ": ", evaluation.reason});
    if (evaluation.result == spf::SpfResult::temperror) {
      finding.fix = "Check that the domain's DNS servers answer; run the check again in a few minutes.";
      if (evaluation.dns_failure) {
        const auto& failure = *evaluation.dns_failure;
        finding.detail = concat({failure.name, " ", dns::to_string(failure.type), ": ", dns::to_string(failure.status),
                                 " from ", failure.server});
      }
    } else {
      finding.fix =
        concat({"Correct the SPF record; 'sendcheck --suggest ", report.domain, "' prints a corrected one."});
    }
    report.findings.push_back(std::move(finding));
  }

  const std::string& host = profile.sending_host;
  spf::RecordCache::Entry parsed;
  if (report.cost && report.cost->parsed && report.cost->root.record == report.record) {
    parsed = report.cost->parsed; // the lint's parse of the same record
  } else if (!report.record.empty()) {
    parsed = parse_entry(report.record, cache);
  }
  if (parsed && record_targets(report.record, *parsed, spf::MechanismKind::include, host)) {
    // The generic "include of a name without SPF" says less than the finding below; keep one.
    const std::string term = "'include:" + host + "'";
    std::erase_if(report.findings, [&](const Finding& f) {
      return f.code == "spf.include_no_record" && f.message.find(term) != std::string::npos;
    });
    report.findings.push_back(
      {"spf.include_sending_host", Severity::error,
       concat({"The record has 'include:", host, "', but ", host,
               " publishes no SPF record, so the include is a permanent error and SPF fails for every sender."}),
       concat({"Replace 'include:", host, "' with 'a:", host, "' (or the ip4: terms); 'sendcheck --suggest ",
               report.domain, "' prints the whole record."}),
       ""});
  }

  // The findings below (one or two for nearly every domain) are made in place in the report's list, which has room
  // for them: no temporary Finding to fill, move and destroy, and the sentences are put straight into their fields.
  const size_t total = report.ips.size();
  if (passing == total && total > 0) {
    Finding& finding = report.findings.emplace_back();
    finding.code = "spf.sender_authorized";
    finding.severity = Severity::info;
    finding.message = sender_sentence({SenderSentence::authorized, total, {}, profile.name, ""});
    return;
  }
  if (report.selection != spf::SelectionStatus::one || any_error_result) {
    return; // No record, several, or an error: the findings above and lint's say what to do.
  }

  const auto ordinary_count = profile.ordinary_ips.size();
  if (!failing_ordinary.empty()) {
    const auto failing_texts = ip_texts(failing_ordinary);
    Finding& finding = report.findings.emplace_back();
    finding.severity = Severity::error;
    if (failing_ordinary.size() == ordinary_count) {
      finding.code = "spf.directo_missing";
      detail::append(finding.message,
                     {"SPF does not authorize ", profile.name, ": mail it sends as ", report.domain, " fails SPF."});
    } else {
      finding.code = "spf.directo_partial";
      finding.message =
        sender_sentence({SenderSentence::partial, ordinary_count, failing_ordinary, profile.name, ""});
    }
    if (parsed && record_targets(report.record, *parsed, spf::MechanismKind::a, host)) {
      finding.detail = sender_sentence({SenderSentence::host_covers, 0, report.sending_host.addresses, "", host});
    }
    detail::append(finding.fix, {"Add '", failing_texts->terms,
                                 "' to the SPF record before the 'all' term; 'sendcheck --suggest ", report.domain,
                                 "' prints the whole record."});
  }
  if (!failing_bulk.empty()) {
    Finding& finding = report.findings.emplace_back();
    finding.code = "spf.directo_bulk_missing";
    finding.severity = Severity::error;
    finding.message = sender_sentence({SenderSentence::bulk_missing, 0, failing_bulk, profile.name, ""});
    finding.fix = sender_sentence({SenderSentence::bulk_fix, 0, failing_bulk, "", ""});
  }
}

/// Moves the findings of `from` to the end of `to`, leaving `from` empty.
void
move_findings(Findings& from, Findings& to)
{
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  from.clear();
}

/// Errors first, then warnings, then notes; the order within a severity is kept. Findings often come in that order
/// already, and then nothing is moved (stable_sort would allocate a buffer and move every finding through it).
void
sort_findings(Findings& findings)
{
  const auto more_severe = [](const Finding& a, const Finding& b) { return a.severity > b.severity; };
  if (!std::is_sorted(findings.begin(), findings.end(), more_severe)) {
    std::stable_sort(findings.begin(), findings.end(), more_severe);
  }
}

DomainStatus
decide_status(const DomainReport& report)
{
  bool dns_failure = report.verdict.overall == Delivery::unknown;
  for (const auto& finding : report.findings) {
    if (finding.severity != Severity::error) {
      continue;
    }
    if (is_dns_failure_code(finding.code)) {
      dns_failure = true;
    } else {
      return DomainStatus::problem;
    }
  }
  if (report.verdict.overall == Delivery::rejected || report.verdict.overall == Delivery::spam) {
    return DomainStatus::problem;
  }
  return dns_failure ? DomainStatus::dns_error : DomainStatus::good;
}

} // namespace

std::string_view
to_string(IpRole role)
{
  return role == IpRole::ordinary ? "ordinary" : "bulk";
}

std::string_view
to_string(Delivery delivery)
{
  switch (delivery) {
  case Delivery::delivered:
    return "delivered";
  case Delivery::spam:
    return "spam";
  case Delivery::rejected:
    return "rejected";
  case Delivery::unknown:
    return "unknown";
  }
  return "?";
}

std::string_view
to_string(DomainStatus status)
{
  switch (status) {
  case DomainStatus::good:
    return "good";
  case DomainStatus::problem:
    return "problem";
  case DomainStatus::dns_error:
    return "dns_error";
  case DomainStatus::not_found:
    return "not_found";
  }
  return "?";
}

int
exit_code(DomainStatus status)
{
  switch (status) {
  case DomainStatus::good:
    return 0;
  case DomainStatus::dns_error:
    return 3;
  case DomainStatus::problem:
  case DomainStatus::not_found:
    return 1;
  }
  return 1;
}

util::Task<DomainReport>
check_domain(dns::Resolver& resolver, std::string domain, const CheckOptions& options)
{
  const SenderProfile& profile = *options.profile;
  // Views of the options' and the profile's names, which outlive the check (a copy is made only to normalize).
  const std::string& selector = options.selector.empty() ? profile.dkim_selector : options.selector;
  std::string normalized_reference;
  const std::string_view reference = options.dkim_reference.empty()
                                       ? std::string_view(profile.dkim_reference_domain)
                                       : util::normalize_name(options.dkim_reference, normalized_reference);

  // Built where the task keeps its result: `co_return report;` then leaves it there instead of moving dozens of
  // strings, vectors and optionals into the task and destroying the emptied local (about 2% of a run).
  DomainReport& report = co_await util::result_in_place<DomainReport>();
  report.domain = util::is_normalized_name(domain) ? std::move(domain) : util::normalize_name(domain);
  report.unicode = report.domain;
  report.checks = options.checks;

  // Everything known up front goes out at once; the awaits below then mostly find answers waiting.
  resolver.prefetch(report.domain, dns::RRType::txt);
  resolver.prefetch(profile.sending_host, dns::RRType::a);
  if (options.checks.dkim) {
    resolver.prefetch(concat({selector, "._domainkey.", report.domain}), dns::RRType::txt);
    resolver.prefetch(concat({selector, "._domainkey.", reference}), dns::RRType::txt);
  }
  if (options.checks.dmarc) {
    resolver.prefetch(concat({"_dmarc.", report.domain}), dns::RRType::txt);
  }

  const auto txt = co_await dns::lookup(resolver, report.domain, dns::RRType::txt);
  report.txt_status = txt->status;
  report.txt_server = txt->server;
  report.txt = txt; // the SPF records stay in it, so the report need not copy them
  std::string joined; // for a record of several strings (rare)
  for (const auto& record : txt->txt) {
    if (spf::is_spf_record(record.text(joined))) {
      report.spf_records.push_back(&record);
    }
  }
  auto selection = spf::select_record(*txt);
  report.selection = selection.status;
  if (selection.status == spf::SelectionStatus::one) {
    report.record = std::move(selection.record);
  }

  if (txt->status == dns::Status::nxdomain) {
    report.findings.push_back(
      {"domain.not_found", Severity::error,
       concat({"The domain ", report.domain, " does not exist in DNS (NXDOMAIN)."}),
       "Check the spelling. A newly registered domain can take a few hours to appear.",
       txt->server.empty() ? std::string() : "answered by " + txt->server});
    report.status = DomainStatus::not_found;
    report.verdict.overall = Delivery::rejected;
    report.verdict.summary = concat({report.domain, " does not exist: mail in its name cannot be delivered."});
    if (options.suggest) {
      suggest::Suggestion none;
      none.domain = report.domain;
      none.status = suggest::SuggestStatus::impossible;
      none.failure = concat({report.domain, " does not exist in DNS; check the spelling"});
      report.suggestion = std::move(none);
    }
    co_return report;
  }

  // DKIM and DMARC run alongside the SPF evaluation: their follow-up lookups (the key at a doubled name, the
  // organizational domain's policy) then overlap with SPF's include chain instead of waiting for its end.
  std::optional<util::Started<dkim::DkimReport>> dkim_check;
  if (options.checks.dkim) {
    dkim_check.emplace(
      util::start(dkim::check_dkim(resolver, report.domain, selector, std::string(reference),
                                   profile.default_signing_domain)));
  }
  std::optional<util::Started<dmarc::DmarcReport>> dmarc_check;
  if (options.checks.dmarc) {
    dmarc_check.emplace(util::start(dmarc::check_dmarc(resolver, report.domain)));
  }

  const auto host = co_await dns::lookup(resolver, profile.sending_host, dns::RRType::a);
  report.sending_host.name = profile.sending_host;
  report.sending_host.status = host->status;
  report.sending_host.answer = host;
  report.sending_host.addresses = host->addresses;
  report.sending_host.server = host->server;

  spf::Options spf_options;
  spf_options.cache = options.cache;
  spf_options.memo = options.memo;
  spf_options.helo = report.domain;
  spf_options.default_explanation.clear(); // only a published exp= is worth showing
  spf_options.trace = options.keep_trace ? spf::Trace::on : spf::Trace::off;
  spf_options.prefetch_share = spf::make_prefetch_share(); // the addresses' evaluations walk each record once
  // The ordinary addresses, then the bulk ones (all_ips): the lists tell each address's role, without a search.
  auto ips = profile.all_ips(options.bulk);
  const size_t ip_count = ips.size();
  // One evaluation serves every address it cannot tell apart (usually the four ordinary ones).
  // Made before the co_await: GCC 12 cannot keep an initializer list in a coroutine's awaited expression.
  std::string sender = concat({"postmaster@", report.domain});
  auto evaluations =
    co_await spf::check_hosts(resolver, std::move(ips), report.domain, std::move(sender), std::move(spf_options));
  report.ips.reserve(ip_count);
  const auto& ordinary = profile.ordinary_ips;
  for (size_t i = 0; i < ip_count; ++i) {
    const bool listed_bulk = i >= ordinary.size();
    const auto& ip = listed_bulk ? profile.bulk_ips[i - ordinary.size()] : ordinary[i];
    // An address on both lists sends ordinary mail.
    const bool bulk = listed_bulk && std::find(ordinary.begin(), ordinary.end(), ip) == ordinary.end();
    // Built in place, not assigned over a default one (which would make an empty evaluation first).
    report.ips.emplace_back(ip, bulk ? IpRole::bulk : IpRole::ordinary, std::move(evaluations[i]));
  }

  spf::LintOptions lint_options;
  lint_options.cache = options.cache;
  lint_options.memo = options.cost_memo;
  lint_options.txt = txt; // the TXT answer asked above: lint_domain need not ask for it again
  auto lint = co_await spf::lint_domain(resolver, report.domain, std::move(lint_options));
  report.cost = std::move(lint.cost);
  report.findings = std::move(lint.findings);
  // Room for the sender's findings and, usually, DKIM's and DMARC's: the vector would otherwise grow (and move every
  // finding) up to three times.
  report.findings.reserve(report.findings.size() + 6);
  add_sender_findings(report, profile, options.cache.get());

  // DKIM's and DMARC's findings are moved over, not copied: the report's list is the one renderers read.
  if (dkim_check) {
    report.dkim = co_await std::move(*dkim_check);
    move_findings(report.dkim.findings, report.findings);
  }
  if (dmarc_check) {
    report.dmarc = co_await std::move(*dmarc_check);
    move_findings(report.dmarc.findings, report.findings);
  }
  sort_findings(report.findings);

  report.verdict = decide_verdict(report, profile);
  report.status = decide_status(report);
  if (options.suggest) {
    report.suggestion = co_await suggest::suggest_record(resolver, report.domain, *options.suggest);
  }
  co_return report;
}

} // namespace sendcheck::report
