#include <sendcheck/dmarc/check.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
#include <libpsl.h>

#include <algorithm>

namespace sendcheck::dmarc {

namespace {

/// DMARCbis tree walk: a name with more labels than this is shortened to this many before walking up.
constexpr size_t k_max_walk_labels = 7;

Finding
finding(std::string_view code, Severity severity, std::string message, std::string fix = {}, std::string detail = {})
{
  return Finding{std::string(code), severity, std::move(message), std::move(fix), std::move(detail)};
}

/// `domain` without its first `count` labels.
std::string
drop_labels(const std::vector<std::string_view>& labels, size_t count)
{
  std::string out;
  for (size_t i = count; i < labels.size(); ++i) {
    if (!out.empty()) {
      out += '.';
    }
    out += labels[i]; // appended, not ("." + label): GCC 12 -O3 took that for an overlapping copy (-Werror=restrict)
  }
  return out;
}

/// The names whose `_dmarc.` record is looked for, in order: the domain, then (DMARCbis tree walk) its parents,
/// starting from at most 7 labels, down to the top-level domain.
std::vector<std::string>
walk_names(const std::string& domain)
{
  const auto labels = util::split(domain, '.');
  std::vector<std::string> names = {domain};
  size_t first = 1;
  if (labels.size() > k_max_walk_labels + 1) {
    first = labels.size() - k_max_walk_labels;
  }
  for (size_t drop = first; drop < labels.size(); ++drop) {
    names.push_back(drop_labels(labels, drop));
  }
  return names;
}

void
add_record_findings(DmarcReport& report)
{
  const DmarcRecord& record = *report.record;
  for (const auto& issue : record.issues) {
    std::string_view code = codes::k_unknown_tag;
    Severity severity = Severity::info;
    switch (issue.kind) {
    case IssueKind::unknown_tag:
      break;
    case IssueKind::bad_value:
      code = codes::k_bad_value;
      severity = Severity::warning;
      break;
    case IssueKind::retired:
      if (record.find("pct") != nullptr && issue.message.find("pct") != std::string::npos && record.percent < 100) {
        continue; // reported below as dmarc.pct_retired
      }
      code = codes::k_retired_tag;
      break;
    case IssueKind::missing_policy:
      code = codes::k_missing_policy;
      severity = Severity::warning;
      break;
    case IssueKind::style:
      code = codes::k_style;
      break;
    }
    report.findings.push_back(finding(code, severity,
                                      fmt::format("In the DMARC record at {}: {}", report.record_name, issue.message),
                                      {}, fmt::format("offset {}", issue.position)));
  }

  const Policy policy = *report.policy;
  const std::string where = report.source == PolicySource::domain
                              ? fmt::format("p={} at {}", to_string(policy), report.record_name)
                              : fmt::format("{}={} at {}", record.subdomain_policy ? "sp" : "p", to_string(policy),
                                            report.record_name);
  report.findings.push_back(finding(
    codes::k_policy, Severity::info,
    fmt::format("The DMARC policy for {} is {} ({}); alignment: DKIM {}, SPF {}", report.domain, to_string(policy),
                where, to_string(report.adkim), to_string(report.aspf))));
  if (report.source == PolicySource::ancestor) {
    std::string message = fmt::format(
      "{} has no DMARC record of its own; the policy comes from its parent domain {} (DMARCbis DNS tree walk)",
      report.domain, report.policy_domain);
    if (report.policy_domain != report.organizational_domain) {
      message += fmt::format("; RFC 7489 would have looked only at the organizational domain {}",
                             report.organizational_domain);
    }
    report.findings.push_back(finding(codes::k_inherited, Severity::info, std::move(message)));
  }
  if (policy == Policy::none) {
    report.findings.push_back(finding(
      codes::k_monitoring_only, Severity::info,
      fmt::format("p=none: DMARC only monitors {}; mail that fails SPF and DKIM is not rejected or quarantined "
                  "because of DMARC",
                  report.domain)));
  }
  if (record.percent_given && record.percent < 100) {
    report.findings.push_back(finding(
      codes::k_pct_retired, Severity::warning,
      fmt::format("pct={}: the policy is asked for only {}% of failing mail; DMARCbis retired pct, so receivers "
                  "following it apply the policy to all failing mail",
                  record.percent, record.percent),
      "Remove 'pct=' and choose the policy you want for all mail (p=none while testing)."));
  }
  if (record.rua.empty()) {
    report.findings.push_back(finding(
      codes::k_no_rua, Severity::info,
      fmt::format("The DMARC record at {} asks for no aggregate reports (rua=), so nobody learns which mail fails",
                  report.record_name),
      fmt::format("Add rua=mailto:dmarc-reports@{} (an address you read).", report.organizational_domain)));
  }
  if (report.adkim == Alignment::strict || report.aspf == Alignment::strict) {
    report.findings.push_back(finding(
      codes::k_strict_alignment, Severity::info,
      fmt::format("Strict alignment ({}{}): the signing and envelope domains must equal {} exactly, not just share "
                  "its organizational domain",
                  report.adkim == Alignment::strict ? "adkim=s" : "",
                  report.aspf == Alignment::strict ? (report.adkim == Alignment::strict ? ", aspf=s" : "aspf=s") : "",
                  report.domain)));
  }
  if (record.test_mode) {
    report.findings.push_back(finding(codes::k_test_mode, Severity::info,
                                      "t=y: the domain owner asks receivers to treat the policy as a test (DMARCbis), "
                                      "applying one level less strict handling"));
  }
}

} // namespace

std::string_view
to_string(PolicySource source)
{
  switch (source) {
  case PolicySource::domain:
    return "domain";
  case PolicySource::ancestor:
    return "ancestor";
  case PolicySource::none:
    return "none";
  }
  return "?";
}

std::string_view
to_string(DmarcStatus status)
{
  switch (status) {
  case DmarcStatus::ok:
    return "ok";
  case DmarcStatus::none:
    return "none";
  case DmarcStatus::invalid:
    return "invalid";
  case DmarcStatus::temperror:
    return "temperror";
  }
  return "?";
}

std::string
organizational_domain(std::string_view domain)
{
  const std::string normalized = util::normalize_name(domain);
  const psl_ctx_t* psl = psl_builtin();
  if (psl == nullptr || normalized.empty()) {
    return normalized;
  }
  const char* registrable = psl_registrable_domain(psl, normalized.c_str());
  return registrable != nullptr ? std::string(registrable) : normalized;
}

bool
aligned(std::string_view a, std::string_view b, Alignment mode)
{
  if (mode == Alignment::strict) {
    return util::normalize_name(a) == util::normalize_name(b);
  }
  return organizational_domain(a) == organizational_domain(b);
}

util::Task<DmarcReport>
check_dmarc(dns::Resolver& resolver, std::string domain)
{
  DmarcReport report;
  report.domain = util::normalize_name(domain);
  report.organizational_domain = organizational_domain(report.domain);

  for (const auto& name : walk_names(report.domain)) {
    const std::string record_name = "_dmarc." + name;
    report.queried.push_back(record_name);
    const dns::AnswerPtr answer = co_await dns::lookup(resolver, record_name, dns::RRType::txt);
    report.server = answer->server;
    if (dns::is_failure(answer->status)) {
      report.status = DmarcStatus::temperror;
      report.findings.push_back(finding(
        codes::k_temperror, Severity::error,
        fmt::format("The DNS lookup of {} failed ({}{}{}); the DMARC policy is unknown", record_name,
                    dns::to_string(answer->status), answer->server.empty() ? "" : " from " + answer->server,
                    answer->detail.empty() ? "" : ", " + answer->detail),
        "Try again later; if it persists, the domain's DNS servers need attention.", answer->server));
      co_return report;
    }
    std::vector<std::string> records;
    for (const auto& txt : answer->txt) {
      const std::string joined = txt.joined();
      if (looks_like_dmarc(joined)) {
        records.push_back(joined);
      } else if (name == report.domain) {
        report.findings.push_back(finding(codes::k_other_txt, Severity::info,
                                          fmt::format("{} has a TXT record that is not a DMARC record; it is ignored",
                                                      record_name),
                                          {}, util::escape_for_display(joined)));
      }
    }
    if (records.empty()) {
      continue;
    }

    report.policy_domain = name;
    report.record_name = record_name;
    report.records = records;
    report.source = name == report.domain ? PolicySource::domain : PolicySource::ancestor;
    if (records.size() > 1) {
      report.status = DmarcStatus::invalid;
      std::string detail;
      for (const auto& record : records) {
        detail += (detail.empty() ? "" : " | ") + util::escape_for_display(record);
      }
      report.findings.push_back(finding(
        codes::k_multiple_records, Severity::error,
        fmt::format("{} has {} DMARC records; receivers then apply no DMARC policy at all (RFC 7489 §6.6.3)",
                    record_name, records.size()),
        "Keep exactly one record starting with v=DMARC1.", std::move(detail)));
      co_return report;
    }
    auto parsed = parse_dmarc_record(records.front());
    if (!parsed) {
      report.status = DmarcStatus::invalid;
      const auto& error = parsed.error();
      report.findings.push_back(finding(
        codes::k_syntax, Severity::error,
        fmt::format("The DMARC record at {} is not valid: {} (offset {})", record_name, error.message, error.position),
        "Publish for example: v=DMARC1; p=none; rua=mailto:dmarc-reports@" + report.organizational_domain,
        fmt::format("{}\n{}^", util::escape_for_display(records.front()), std::string(error.position, ' '))));
      co_return report;
    }
    report.record = std::move(*parsed);
    report.status = DmarcStatus::ok;
    report.policy = report.source == PolicySource::domain ? report.record->effective_policy()
                                                          : report.record->subdomain_effective_policy();
    report.adkim = report.record->adkim;
    report.aspf = report.record->aspf;
    add_record_findings(report);
    co_return report;
  }

  report.status = DmarcStatus::none;
  report.source = PolicySource::none;
  report.findings.push_back(finding(
    codes::k_none, Severity::warning,
    fmt::format("{} has no DMARC record (nor has any parent domain): receivers judge mail that fails SPF and DKIM by "
                "their own rules",
                report.domain),
    fmt::format("Start with TXT at _dmarc.{}: v=DMARC1; p=none; rua=mailto:dmarc-reports@{}",
                report.organizational_domain, report.organizational_domain)));
  co_return report;
}

} // namespace sendcheck::dmarc
