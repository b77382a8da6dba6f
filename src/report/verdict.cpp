#include <sendcheck/report/domain_check.hpp>

#include "concat.hpp"

#include <array>

namespace sendcheck::report {

namespace {

using detail::concat;
using detail::Decimal;

/// How bad an outcome is, for taking the worst of several.
int
badness(Delivery delivery)
{
  switch (delivery) {
  case Delivery::delivered:
    return 0;
  case Delivery::spam:
    return 1;
  case Delivery::unknown:
    return 2;
  case Delivery::rejected:
    return 3;
  }
  return 3;
}

/// What happens to one message from an address with SPF `result`, given DKIM and DMARC.
Delivery
outcome_for(spf::SpfResult result, bool dkim_aligned, const std::optional<dmarc::Policy>& policy, bool dmarc_unknown)
{
  if (result == spf::SpfResult::pass || dkim_aligned) {
    return Delivery::delivered;
  }
  if (result == spf::SpfResult::temperror || dmarc_unknown) {
    return Delivery::unknown;
  }
  if (policy == dmarc::Policy::reject) {
    return Delivery::rejected;
  }
  if (result == spf::SpfResult::fail) {
    return Delivery::rejected; // An SPF hard fail is refused by many receivers whatever DMARC says.
  }
  return Delivery::spam;
}

/// What DMARC says, in pieces to put one after the other ("DMARC says '", the policy, "'").
std::array<std::string_view, 3>
policy_words(const DomainReport& domain)
{
  if (!domain.checks.dmarc) {
    return {"DMARC was not checked", "", ""};
  }
  const auto& report = domain.dmarc;
  if (report.status == dmarc::DmarcStatus::temperror) {
    return {"the DMARC policy could not be fetched", "", ""};
  }
  if (!report.policy) {
    return {"there is no DMARC policy", "", ""};
  }
  return {"DMARC says '", dmarc::to_string(*report.policy), "'"};
}

} // namespace

Verdict
decide_verdict(const DomainReport& report, const SenderProfile& profile)
{
  Verdict verdict;
  // A check left out with --only counts as nothing found: no aligned DKIM signature, no DMARC policy.
  const bool dkim_aligned = report.checks.dkim && report.dkim.status == dkim::DkimStatus::valid
                            && report.dkim.comparison == dkim::Comparison::same_key;
  const bool dmarc_unknown = report.checks.dmarc && report.dmarc.status == dmarc::DmarcStatus::temperror;
  std::optional<dmarc::Policy> policy;
  if (report.checks.dmarc) {
    policy = report.dmarc.policy;
  }

  verdict.streams.reserve(2);
  // The fix for a stream that is not delivered names only the sender and the domain: made once, copied for the other.
  const std::string* authorize_fix = nullptr;
  for (const auto role : {IpRole::ordinary, IpRole::bulk}) {
    StreamVerdict stream;
    stream.role = role;
    stream.outcome = Delivery::delivered;
    spf::SpfResult worst_result = spf::SpfResult::pass;
    for (const auto& ip : report.ips) {
      if (ip.role != role) {
        continue;
      }
      ++stream.total;
      if (ip.evaluation.result == spf::SpfResult::pass) {
        ++stream.passing;
      }
      const auto outcome = outcome_for(ip.evaluation.result, dkim_aligned, policy, dmarc_unknown);
      const bool worse = badness(outcome) > badness(stream.outcome);
      if (worse || (worst_result == spf::SpfResult::pass && ip.evaluation.result != spf::SpfResult::pass)) {
        worst_result = ip.evaluation.result;
      }
      if (worse) {
        stream.outcome = outcome;
      }
    }
    if (stream.total == 0) {
      continue;
    }

    const std::string_view what = role == IpRole::ordinary ? "Ordinary mail" : "Bulk mail";
    if (stream.outcome == Delivery::delivered) {
      stream.reason = stream.passing == stream.total
                        ? concat({what, ": all ", Decimal(stream.total), " of ", profile.name,
                                  "'s addresses pass SPF."})
                        : concat({what, ": ", Decimal(stream.passing), " of ", Decimal(stream.total),
                                  " addresses pass SPF; the rest are saved by the domain's own DKIM signature."});
    } else if (stream.outcome == Delivery::unknown) {
      stream.reason = concat({what, ": DNS did not answer (", dmarc_unknown ? "DMARC lookup" : "SPF lookup",
                              "), so the outcome is unknown."});
      stream.fix = "Check that the domain's DNS servers answer, then run the check again.";
    } else {
      const auto dmarc_words = policy_words(report);
      stream.reason = concat({what, ": ", Decimal(stream.passing), " of ", Decimal(stream.total),
                              " addresses pass SPF (the worst gets '", spf::to_string(worst_result), "') and ",
                              dmarc_words[0], dmarc_words[1], dmarc_words[2], "."});
      if (authorize_fix) {
        stream.fix = *authorize_fix;
      } else {
        stream.fix = concat({"Authorize ", profile.name, " in SPF: 'sendcheck --suggest ", report.domain,
                             "' prints the record to publish. If you cannot change DNS, switch ", profile.name,
                             " to the \"", profile.name, "-Reply-To\" sender mode (From: ", profile.reply_to_sender,
                             ", Reply-To: your address)."});
      }
    }
    verdict.streams.push_back(std::move(stream));
    if (!authorize_fix && verdict.streams.back().outcome != Delivery::delivered
        && verdict.streams.back().outcome != Delivery::unknown) {
      authorize_fix = &verdict.streams.back().fix; // the vector has room for both streams: it does not move
    }
  }

  verdict.overall = Delivery::delivered;
  for (const auto& stream : verdict.streams) {
    if (badness(stream.outcome) > badness(verdict.overall)) {
      verdict.overall = stream.outcome;
    }
  }

  auto phrase = [](Delivery delivery) -> std::string_view {
    switch (delivery) {
    case Delivery::delivered:
      return "delivered";
    case Delivery::spam:
      return "likely to land in spam";
    case Delivery::rejected:
      return "rejected";
    case Delivery::unknown:
      return "unknown (DNS did not answer)";
    }
    return "?";
  };
  // "<sender>'s mail as <domain>: ordinary mail: <phrase>; bulk mail: <phrase>."
  std::string& summary = verdict.summary;
  summary.reserve(profile.name.size() + report.domain.size() + 100); // the words around them take at most 98
  detail::append(summary, {profile.name, "'s mail as ", report.domain, ": "});
  for (const auto& stream : verdict.streams) {
    detail::append(summary, {&stream == &verdict.streams.front() ? "" : "; ",
                             stream.role == IpRole::ordinary ? "ordinary" : "bulk", " mail: ",
                             phrase(stream.outcome)});
  }
  summary += '.';
  return verdict;
}

} // namespace sendcheck::report
