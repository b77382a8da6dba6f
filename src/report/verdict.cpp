#include <sendcheck/report/domain_check.hpp>

#include "concat.hpp"
#include "memo.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// What the verdict reads of DMARC.
struct DmarcState
{
  bool checked = false;   ///< DMARC was checked (not left out with --only).
  bool temperror = false; ///< Its lookup failed.
  std::optional<dmarc::Policy> policy;

  bool operator==(const DmarcState&) const = default;
};

/// What the verdict reads of DMARC in `domain` (nothing when DMARC was not checked).
DmarcState
dmarc_state(const DomainReport& domain)
{
  if (!domain.checks.dmarc) {
    return {};
  }
  return {true, domain.dmarc.status == dmarc::DmarcStatus::temperror, domain.dmarc.policy};
}

/// What DMARC says, in pieces to put one after the other ("DMARC says '", the policy, "'").
std::array<std::string_view, 3>
policy_words(const DmarcState& state)
{
  if (!state.checked) {
    return {"DMARC was not checked", "", ""};
  }
  if (state.temperror) {
    return {"the DMARC policy could not be fetched", "", ""};
  }
  if (!state.policy) {
    return {"there is no DMARC policy", "", ""};
  }
  return {"DMARC says '", dmarc::to_string(*state.policy), "'"};
}

/// What a stream's reason is made of besides the sender's name (which the memo below compares apart). Every value
/// any of the sentences reads is here, so that equal keys give equal sentences.
struct ReasonKey
{
  IpRole role = IpRole::ordinary;
  Delivery outcome = Delivery::unknown;
  unsigned passing = 0;
  unsigned total = 0;
  spf::SpfResult worst_result = spf::SpfResult::pass;
  DmarcState dmarc;

  bool operator==(const ReasonKey&) const = default;
};

/// One sentence: why the stream of `key` has its outcome.
SharedText
make_reason(const ReasonKey& key, std::string_view sender)
{
  const std::string_view what = key.role == IpRole::ordinary ? "Ordinary mail" : "Bulk mail";
  if (key.outcome == Delivery::delivered) {
    return key.passing == key.total
             ? SharedText::concat({what, ": all ", Decimal(key.total), " of ", sender, "'s addresses pass SPF."})
             : SharedText::concat({what, ": ", Decimal(key.passing), " of ", Decimal(key.total),
                                   " addresses pass SPF; the rest are saved by the domain's own DKIM signature."});
  }
  if (key.outcome == Delivery::unknown) {
    return SharedText::concat({what, ": DNS did not answer (", key.dmarc.temperror ? "DMARC lookup" : "SPF lookup",
                               "), so the outcome is unknown."});
  }
  const auto dmarc_words = policy_words(key.dmarc);
  return SharedText::concat({what, ": ", Decimal(key.passing), " of ", Decimal(key.total),
                             " addresses pass SPF (the worst gets '", spf::to_string(key.worst_result), "') and ",
                             dmarc_words[0], dmarc_words[1], dmarc_words[2], "."});
}

/// `make_reason(key, sender)`, remembered per thread: a reason names no domain, and a few combinations of counts and
/// results come back domain after domain, so most streams share a sentence made once instead of assembling a dozen
/// pieces. The reference is valid until the next call (a copy of the text stays valid).
const SharedText&
stream_reason(const ReasonKey& key, const std::string& sender)
{
  struct Entry
  {
    ReasonKey key;
    std::string sender;
    SharedText reason;
  };
  thread_local std::vector<Entry> memo;
  return detail::remembered(
           memo, 64, [&](const Entry& entry) { return entry.key == key && entry.sender == sender; },
           [&] { return Entry{key, sender, make_reason(key, sender)}; })
    .reason;
}

/// The words around the domain in the sentences that name the sender and the domain.
struct SenderWords
{
  std::string name;            ///< The sender's name, and
  std::string reply_to_sender; ///< its Reply-To sender mode's address, that the words below were made for.
  std::string fix_head;        ///< "Authorize <sender> in SPF: 'sendcheck --suggest "
  std::string fix_tail;        ///< "' prints the record to publish. If you cannot change DNS, switch <sender> ..."
  std::string summary_head;    ///< "<sender>'s mail as "
};

/// The words for `profile`, remembered per thread (a run checks every domain for one sender): the sentences are then
/// put together from three pieces instead of a dozen.
const SenderWords&
sender_words(const SenderProfile& profile)
{
  thread_local std::optional<SenderWords> words;
  if (!words || words->name != profile.name || words->reply_to_sender != profile.reply_to_sender) {
    words = SenderWords{profile.name, profile.reply_to_sender,
                        concat({"Authorize ", profile.name, " in SPF: 'sendcheck --suggest "}),
                        concat({"' prints the record to publish. If you cannot change DNS, switch ", profile.name,
                                " to the \"", profile.name, "-Reply-To\" sender mode (From: ",
                                profile.reply_to_sender, ", Reply-To: your address)."}),
                        concat({profile.name, "'s mail as "})};
  }
  return *words;
}

/// How the summary says what happens to a stream's mail.
std::string_view
phrase(Delivery delivery)
{
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
}

/// The end of the summary after the domain: ": ordinary mail: <phrase>; bulk mail: <phrase>."
std::string
make_summary_tail(const std::vector<StreamVerdict>& streams)
{
  std::string out = ": ";
  for (const auto& stream : streams) {
    detail::append(out, {&stream == &streams.front() ? "" : "; ", stream.role == IpRole::ordinary ? "ordinary" : "bulk",
                         " mail: ", phrase(stream.outcome)});
  }
  out += '.';
  return out;
}

/// `make_summary_tail(streams)`, remembered per thread by the streams' roles and outcomes (all the tail reads); the
/// reference is valid until the next call.
const std::string&
summary_tail(const std::vector<StreamVerdict>& streams)
{
  struct Entry
  {
    std::vector<std::pair<IpRole, Delivery>> streams;
    std::string tail;
  };
  const auto same_streams = [&streams](const Entry& entry) {
    return std::equal(entry.streams.begin(), entry.streams.end(), streams.begin(), streams.end(),
                      [](const auto& kept, const StreamVerdict& stream) {
                        return kept.first == stream.role && kept.second == stream.outcome;
                      });
  };
  thread_local std::vector<Entry> memo;
  return detail::remembered(memo, 64, same_streams, [&streams] {
           Entry entry{{}, make_summary_tail(streams)};
           for (const auto& stream : streams) {
             entry.streams.emplace_back(stream.role, stream.outcome);
           }
           return entry;
         })
    .tail;
}

} // namespace

Verdict
decide_verdict(const DomainReport& report, const SenderProfile& profile)
{
  Verdict verdict;
  // A check left out with --only counts as nothing found: no aligned DKIM signature, no DMARC policy.
  const bool dkim_aligned = report.checks.dkim && report.dkim.status == dkim::DkimStatus::valid
                            && report.dkim.comparison == dkim::Comparison::same_key;
  const DmarcState dmarc_seen = dmarc_state(report);
  const bool dmarc_unknown = dmarc_seen.temperror;
  const std::optional<dmarc::Policy>& policy = dmarc_seen.policy;
  const SenderWords& words = sender_words(profile);
  verdict.streams.reserve(2);
  // The fix for a stream that is not delivered names only the sender and the domain: made once, shared by both.
  SharedText authorize_fix;
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
      if (ip.evaluation->result == spf::SpfResult::pass) {
        ++stream.passing;
      }
      const auto outcome = outcome_for(ip.evaluation->result, dkim_aligned, policy, dmarc_unknown);
      const bool worse = badness(outcome) > badness(stream.outcome);
      if (worse || (worst_result == spf::SpfResult::pass && ip.evaluation->result != spf::SpfResult::pass)) {
        worst_result = ip.evaluation->result;
      }
      if (worse) {
        stream.outcome = outcome;
      }
    }
    if (stream.total == 0) {
      continue;
    }

    stream.reason =
      stream_reason({role, stream.outcome, stream.passing, stream.total, worst_result, dmarc_seen}, profile.name);
    if (stream.outcome == Delivery::unknown) {
      static const SharedText check_dns("Check that the domain's DNS servers answer, then run the check again.");
      stream.fix = check_dns;
    } else if (stream.outcome != Delivery::delivered) {
      if (authorize_fix.empty()) {
        authorize_fix = SharedText::concat({words.fix_head, report.domain, words.fix_tail});
      }
      stream.fix = authorize_fix;
    }
    verdict.streams.push_back(std::move(stream));
  }

  verdict.overall = Delivery::delivered;
  for (const auto& stream : verdict.streams) {
    if (badness(stream.outcome) > badness(verdict.overall)) {
      verdict.overall = stream.outcome;
    }
  }

  // "<sender>'s mail as <domain>: ordinary mail: <phrase>; bulk mail: <phrase>."
  verdict.summary = concat({words.summary_head, report.domain, summary_tail(verdict.streams)});
  return verdict;
}

} // namespace sendcheck::report
