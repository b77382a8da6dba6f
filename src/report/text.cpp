#include <sendcheck/report/text.hpp>

#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck::report {

namespace {

constexpr const char* k_red = "\x1b[31m";
constexpr const char* k_green = "\x1b[32m";
constexpr const char* k_yellow = "\x1b[33m";
constexpr const char* k_magenta = "\x1b[35m";
constexpr const char* k_bold = "\x1b[1m";
constexpr const char* k_dim = "\x1b[2m";
constexpr const char* k_reset = "\x1b[0m";

class Painter
{
public:
  explicit Painter(Color color) : m_on(color == Color::on) {}

  std::string
  operator()(std::string_view text, const char* code) const
  {
    return m_on ? fmt::format("{}{}{}", code, text, k_reset) : std::string(text);
  }

private:
  bool m_on;
};

const char*
result_color(spf::SpfResult result)
{
  switch (result) {
  case spf::SpfResult::pass:
    return k_green;
  case spf::SpfResult::fail:
  case spf::SpfResult::permerror:
    return k_red;
  case spf::SpfResult::temperror:
    return k_magenta;
  case spf::SpfResult::softfail:
  case spf::SpfResult::neutral:
  case spf::SpfResult::none:
    return k_yellow;
  }
  return k_reset;
}

const char*
delivery_color(Delivery delivery)
{
  switch (delivery) {
  case Delivery::delivered:
    return k_green;
  case Delivery::spam:
    return k_yellow;
  case Delivery::rejected:
    return k_red;
  case Delivery::unknown:
    return k_magenta;
  }
  return k_reset;
}

std::string
severity_label(Severity severity, const Painter& paint)
{
  switch (severity) {
  case Severity::error:
    return paint("ERROR  ", k_red);
  case Severity::warning:
    return paint("WARNING", k_yellow);
  case Severity::info:
    return paint("note   ", k_dim);
  }
  return "?      ";
}

/// A few words for an SPF error code, for the per-address table (the findings below give the whole story).
std::string_view
short_reason(std::string_view code)
{
  static const std::pair<std::string_view, std::string_view> k_reasons[] = {
    {"spf.too_many_lookups", "over 10 DNS lookups"},
    {"spf.void_lookups", "over 2 lookups that found nothing"},
    {"spf.multiple_records", "several SPF records"},
    {"spf.no_record", "no SPF record"},
    {"spf.include_no_record", "include of a name without SPF"},
    {"spf.redirect_no_record", "redirect to a name without SPF"},
    {"spf.syntax", "syntax error"},
    {"spf.dns_failure", "DNS did not answer"},
    {"spf.too_many_mx", "over 10 MX names"},
    {"spf.invalid_domain", "invalid domain name"},
    {"spf.macro", "bad macro"},
  };
  for (const auto& [known, words] : k_reasons) {
    if (known == code) {
      return words;
    }
  }
  return code;
}

/// Text from DNS or from a finding, made safe for the terminal (text escaped already stays as it is). Printable
/// ASCII, nearly all text, is what terminal_safe leaves as it is: copied without going through it byte by byte.
std::string
safe(std::string_view text)
{
  const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f;
  });
  return printable ? std::string(text) : util::terminal_safe(text);
}

void
render_spf(std::string& out, const DomainReport& report, const TextOptions& options, const Painter& paint)
{
  const size_t label = 16;
  const std::string pad(label, ' ');
  const size_t room = options.width > label + 20 ? options.width - label : 60;
  if (report.spf_records.empty()) {
    out += fmt::format("  {:<{}}{}\n", "SPF record:", label - 2,
                       dns::is_failure(report.txt_status)
                         ? fmt::format("could not be fetched ({})", dns::to_string(report.txt_status))
                         : std::string("none published"));
  }
  for (size_t i = 0; i < report.spf_records.size(); ++i) {
    const auto& record = *report.spf_records[i];
    const std::string title =
      report.spf_records.size() == 1 ? "SPF record:" : fmt::format("SPF record {}:", i + 1);
    out += fmt::format("  {:<{}}{}\n", title, label - 2, wrap(safe(record.joined()), room, label));
    std::string split;
    if (record.strings.size() == 1) {
      split = fmt::format("1 string, {} characters", record.strings.front().size());
    } else {
      split = fmt::format("{} strings:", record.strings.size());
      for (const auto& piece : record.strings) {
        split += fmt::format(" {}", piece.size());
      }
      split += " characters";
    }
    out += fmt::format("{}{}\n", pad, paint(fmt::format("({}{})", split,
                                                        report.record_is_candidate ? ", candidate from --record" : ""),
                                            k_dim));
  }
  if (report.cost) {
    const auto& cost = *report.cost;
    const std::string lookups = fmt::format("{}/{}", cost.total_terms, cost.limits.dns_terms);
    out += fmt::format("  {:<{}}{} DNS lookups, {}/{} void lookups\n", "Lookups:", label - 2,
                       cost.over_term_limit() ? paint(lookups, k_red) : lookups, cost.void_lookups,
                       cost.limits.void_lookups);
  }
  const auto& host = report.sending_host;
  if (!host.name.empty()) {
    std::string addresses;
    for (const auto& ip : host.addresses) {
      addresses += addresses.empty() ? ip.to_string() : ", " + ip.to_string();
    }
    if (addresses.empty()) {
      addresses = fmt::format("nothing ({})", dns::to_string(host.status));
    }
    out += fmt::format("  {} resolves to {}\n", host.name, addresses);
  }

  if (!report.ips.empty()) {
    out += fmt::format("\n  {:<22} {:<10} {}\n", "Sending address", "SPF", "decided by");
    for (const auto& ip : report.ips) {
      const auto& evaluation = *ip.evaluation;
      std::string decided;
      std::string where;
      if (evaluation.deciding_term) {
        where = safe(evaluation.deciding_term->text);
        if (evaluation.deciding_domain != report.domain && !evaluation.deciding_domain.empty()) {
          where += fmt::format(" in {}", safe(evaluation.deciding_domain));
        }
      }
      if (!evaluation.error_code.empty()) {
        decided = std::string(short_reason(evaluation.error_code));
        if (!where.empty()) {
          decided += fmt::format(" (at {})", where);
        }
      } else if (!where.empty()) {
        decided = where;
      } else {
        decided = "no term matched";
      }
      const std::string address = ip.ip.to_string() + (ip.role == IpRole::bulk ? " (bulk)" : "");
      const std::string result(spf::to_string(evaluation.result));
      out += fmt::format("  {:<22} {}{} {}\n", address, paint(result, result_color(evaluation.result)),
                         std::string(result.size() < 10 ? 10 - result.size() : 0, ' '),
                         wrap(decided, options.width > 36 ? options.width - 36 : 40, 36));
      if (options.detail == Detail::verbose) {
        for (const auto& step : evaluation.trace) {
          std::string line = fmt::format("{}{}: {}", std::string(step.depth * 2, ' '), safe(step.domain),
                                         safe(step.term));
          if (!step.target.empty()) {
            line += fmt::format(" -> {}", safe(step.target));
          }
          for (const auto& lookup : step.lookups) {
            line += fmt::format(" [{} {} {}]", safe(lookup.name), dns::to_string(lookup.type),
                                dns::to_string(lookup.status));
          }
          if (step.matched) {
            line += " MATCH";
          }
          if (!step.note.empty()) {
            line += fmt::format(" ({})", safe(step.note));
          }
          out += fmt::format("      {}\n", paint(line, k_dim));
        }
      }
    }
  }
}

/// One line on the DKIM key: what is published and how it compares with the sender's key.
std::string
dkim_summary(const dkim::DkimReport& dkim)
{
  std::string line;
  switch (dkim.status) {
  case dkim::DkimStatus::valid:
    line = dkim.key ? fmt::format("{} key, {} bits", dkim::to_string(dkim.key->type), dkim.key->bits)
                    : std::string("key published");
    if (dkim.comparison == dkim::Comparison::same_key) {
      line += ", the same key Directo publishes";
    } else if (dkim.comparison == dkim::Comparison::different_key) {
      line += ", NOT the key Directo publishes";
    }
    break;
  case dkim::DkimStatus::no_record:
    line = fmt::format("no key published (mail is signed as {})", dkim.signing_domain);
    break;
  case dkim::DkimStatus::revoked:
    line = "key revoked (empty p=)";
    break;
  case dkim::DkimStatus::invalid:
    line = "the record is broken (see below)";
    break;
  case dkim::DkimStatus::temperror:
    line = "could not be fetched (DNS error)";
    break;
  }
  return fmt::format("{}: {}", safe(dkim.name), line);
}

/// One line on the DMARC policy in effect and where it comes from.
std::string
dmarc_summary(const dmarc::DmarcReport& dmarc)
{
  switch (dmarc.status) {
  case dmarc::DmarcStatus::ok:
    return fmt::format("policy '{}' ({}{})", dmarc.policy ? dmarc::to_string(*dmarc.policy) : "none",
                       dmarc.source == dmarc::PolicySource::ancestor ? "inherited from " : "",
                       safe(dmarc.record_name));
  case dmarc::DmarcStatus::none:
    return "no DMARC record";
  case dmarc::DmarcStatus::invalid:
    return "the record is broken (see below)";
  case dmarc::DmarcStatus::temperror:
    return "could not be fetched (DNS error)";
  }
  return "?";
}

void
render_dkim_dmarc(std::string& out, const DomainReport& report)
{
  constexpr std::string_view k_not_checked = "not checked (--only)";
  const std::string dkim_line = report.checks.dkim ? dkim_summary(report.dkim) : std::string(k_not_checked);
  out += fmt::format("\n  {:<14}{}\n", "DKIM:", wrap(dkim_line, 64, 16));
  const std::string dmarc_line = report.checks.dmarc ? dmarc_summary(report.dmarc) : std::string(k_not_checked);
  out += fmt::format("  {:<14}{}\n", "DMARC:", wrap(dmarc_line, 64, 16));
}

} // namespace

std::string
wrap(std::string_view text, size_t width, size_t indent)
{
  if (width < 10) {
    width = 10;
  }
  std::string out;
  out.reserve(text.size());
  size_t column = 0;
  // The words between single spaces, taken in place (runs of spaces give empty words, which add nothing).
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find(' ', start), text.size());
    auto word = text.substr(start, end - start);
    start = end + 1;
    while (!word.empty()) {
      if (column > 0 && column + 1 + word.size() > width) {
        out += '\n';
        out.append(indent, ' ');
        column = 0;
      } else if (column > 0) {
        out += ' ';
        ++column;
      }
      const auto piece = word.substr(0, width - column);
      out += piece;
      column += piece.size();
      word.remove_prefix(piece.size());
    }
  }
  return out;
}

std::string
render_text(const DomainReport& report, const TextOptions& options)
{
  std::string out;
  render_text(out, report, options);
  return out;
}

void
render_text(std::string& out, const DomainReport& report, const TextOptions& options)
{
  const Painter paint(options.color);

  if (options.detail == Detail::quiet) {
    if (report.status == DomainStatus::not_found) {
      out += fmt::format("{}: {} (the domain does not exist)\n", safe(report.unicode), paint("not found", k_red));
      return;
    }
    std::string streams;
    for (const auto& stream : report.verdict.streams) {
      streams += fmt::format("{}{} mail {}", streams.empty() ? "" : ", ", to_string(stream.role),
                             to_string(stream.outcome));
    }
    const auto errors = std::count_if(report.findings.begin(), report.findings.end(),
                                      [](const Finding& f) { return f.severity == Severity::error; });
    const std::string problems = errors == 0 ? std::string()
                                 : errors == 1 ? std::string("; 1 problem to fix")
                                               : fmt::format("; {} problems to fix", errors);
    out += fmt::format("{}: {} ({}{})\n", safe(report.unicode),
                       paint(to_string(report.verdict.overall), delivery_color(report.verdict.overall)), streams,
                       problems);
    return;
  }

  std::string title = report.unicode == report.domain ? report.domain
                                                      : fmt::format("{} ({})", report.unicode, report.domain);
  out += paint(title, k_bold) + "\n";
  if (!report.note.empty()) {
    out += fmt::format("  ({})\n", safe(report.note));
  }
  if (report.status != DomainStatus::not_found) {
    render_spf(out, report, options, paint);
    render_dkim_dmarc(out, report);
  }

  bool first = true;
  for (const auto& finding : report.findings) {
    if (options.detail != Detail::verbose && finding.severity == Severity::info
        && finding.code != "spf.sender_authorized") {
      continue;
    }
    if (first) {
      out += "\n";
      first = false;
    }
    const size_t indent = 12;
    const size_t room = options.width > indent + 10 ? options.width - indent : 60;
    out += fmt::format("  {}   {}\n", severity_label(finding.severity, paint),
                       wrap(safe(finding.message), room, indent));
    for (const auto line : util::split(finding.detail, '\n')) {
      if (!line.empty()) {
        out += fmt::format("{}{}\n", std::string(indent, ' '), wrap(safe(line), room, indent));
      }
    }
    if (!finding.fix.empty()) {
      out += fmt::format("{}{}\n", std::string(indent, ' '), wrap("Fix: " + safe(finding.fix), room, indent));
    }
    out += fmt::format("{}{}\n", std::string(indent, ' '), paint(fmt::format("[{}]", finding.code), k_dim));
  }

  out += "\n  Verdict: ";
  out += paint(wrap(safe(report.verdict.summary), options.width - 11, 11), delivery_color(report.verdict.overall));
  out += "\n";
  std::vector<std::string_view> fixes;
  for (const auto& stream : report.verdict.streams) {
    if (stream.outcome == Delivery::delivered) {
      continue;
    }
    out += fmt::format("  {} {}\n", paint(fmt::format("{:<8}", to_string(stream.outcome)), delivery_color(stream.outcome)),
                       wrap(safe(stream.reason), options.width - 11, 11));
    if (!stream.fix.empty() && std::find(fixes.begin(), fixes.end(), stream.fix) == fixes.end()) {
      fixes.push_back(stream.fix);
    }
  }
  for (const auto& fix : fixes) {
    out += fmt::format("{}{}\n", std::string(11, ' '), wrap("Fix: " + safe(fix), options.width - 11, 11));
  }
}

std::string
render_invalid_input(const std::string& input, const std::string& error, const TextOptions& options)
{
  const Painter paint(options.color);
  return fmt::format("{}\n  {}   {}\n", safe(input), paint("ERROR  ", k_red), safe(error));
}

} // namespace sendcheck::report
