#pragma once

#include <sendcheck/dkim/check.hpp>
#include <sendcheck/dmarc/check.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/report/check_set.hpp>
#include <sendcheck/report/shared_text.hpp>
#include <sendcheck/spf/cost.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/suggest/suggest.hpp>
#include <sendcheck/util/finding.hpp>
#include <sendcheck/util/task.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

// The whole check of one domain for one sender profile: SPF for each of the sender's addresses, the SPF record's
// cost, the sending host's addresses, DKIM, DMARC, the sender-specific findings and the verdict. No printing here;
// renderers (text, json) format a DomainReport.

namespace sendcheck::report {

/// Which of the sender's mail streams an address belongs to.
enum class IpRole : uint8_t { ordinary, bulk };

/// "ordinary" or "bulk".
std::string_view to_string(IpRole role);

/// The SPF result of one of the sender's addresses.
struct IpResult
{
  /// An address with an empty evaluation (SpfResult::none), to fill in.
  IpResult() = default;
  /// The result `evaluation` (not null) for `address`, shared with the other addresses it serves (clang 14, the fuzz
  /// build, lacks the parenthesized aggregate initialization that would do it without a constructor).
  IpResult(const dns::IpAddress& address, IpRole address_role, std::shared_ptr<const spf::Evaluation> result)
    : ip(address), role(address_role), evaluation(std::move(result))
  {
  }
  /// Takes `result` over as an evaluation of its own.
  IpResult(const dns::IpAddress& address, IpRole address_role, spf::Evaluation&& result)
    : ip(address), role(address_role), evaluation(std::make_shared<const spf::Evaluation>(std::move(result)))
  {
  }

  dns::IpAddress ip;
  IpRole role = IpRole::ordinary;
  /// The address's evaluation; never null. The addresses that one evaluation serves (spf::check_hosts) share it, so
  /// read it through the pointer and replace it rather than change it.
  std::shared_ptr<const spf::Evaluation> evaluation = std::make_shared<const spf::Evaluation>();
};

/// What the sender's sending host (`directo.gate.ee`) resolves to now.
struct SendingHost
{
  std::string name;
  dns::Status status = dns::Status::ok;
  /// The host's address answer, shared with the resolver's cache (null when none was read): it keeps `addresses`.
  dns::AnswerPtr answer;
  /// Its addresses: those of `answer`, not a copy.
  std::span<const dns::IpAddress> addresses;
  std::string server;
};

/// What will happen to mail of one stream.
enum class Delivery : uint8_t {
  delivered, ///< Authenticated (SPF or DKIM aligned): accepted.
  spam,      ///< Likely the spam folder (quarantine, softfail, or nothing that authenticates it).
  rejected,  ///< Refused (DMARC reject, or SPF -all fail).
  unknown,   ///< DNS could not answer (temperror): cannot tell.
};

/// "delivered", "spam", "rejected", "unknown".
std::string_view to_string(Delivery delivery);

/// The verdict for one stream (ordinary or bulk mail).
struct StreamVerdict
{
  IpRole role = IpRole::ordinary;
  Delivery outcome = Delivery::unknown;
  unsigned passing = 0;   ///< Addresses of the stream that pass SPF.
  unsigned total = 0;     ///< Addresses of the stream.
  SharedText reason;      ///< One sentence: why (shared with the other reports that give the same).
  SharedText fix;         ///< The one change that would fix it (empty when delivered); streams share theirs.
};

/// The verdict for the domain.
struct Verdict
{
  std::vector<StreamVerdict> streams; ///< Ordinary mail first, then bulk (when checked).
  Delivery overall = Delivery::unknown; ///< The worst of the streams (rejected > unknown > spam > delivered).
  std::string summary;                ///< One line for the report.
};

/// The status of a domain's check, which decides the exit code.
enum class DomainStatus : uint8_t {
  good,      ///< Every address passes and nothing is wrong enough to stop delivery: exit 0.
  problem,   ///< Something must be fixed: exit 1.
  dns_error, ///< DNS could not answer and nothing worse was found: exit 3.
  not_found, ///< The domain does not exist: exit 1.
};

/// "good", "problem", "dns_error", "not_found".
std::string_view to_string(DomainStatus status);

/// The exit code for `status` (0, 1 or 3).
int exit_code(DomainStatus status);

/// How to check.
struct CheckOptions
{
  std::shared_ptr<const SenderProfile> profile; ///< Required.
  bool bulk = true;                  ///< Check the bulk addresses too.
  CheckSet checks;                   ///< Which checks run (`--only`); all by default.
  std::string selector;              ///< DKIM selector; empty means the profile's.
  std::string dkim_reference;        ///< Reference key domain; empty means the profile's.
  std::shared_ptr<spf::RecordCache> cache; ///< Shared SPF parse cache (may be null).
  /// Shared memo of SPF include/redirect sub-evaluations (may be null); valid for one resolver's answers only.
  std::shared_ptr<spf::EvaluationMemo> memo;
  /// Shared memo of the SPF cost walk's include/redirect subtrees (may be null); valid for one resolver's answers only.
  std::shared_ptr<spf::CostMemo> cost_memo;
  bool keep_trace = false;           ///< Keep every evaluation's full trace (for --verbose); otherwise dropped.
  /// When set, also build and verify the SPF record to publish (`--suggest`) with these options.
  std::optional<suggest::SuggestOptions> suggest;
};

/// Everything found about one domain.
struct DomainReport
{
  std::string domain;  ///< The checked name (ASCII, normalized).
  std::string unicode; ///< The name as people read it.
  std::string note;    ///< A note on how the input was read ("checking example.ee, the domain of ...").
  CheckSet checks;     ///< The checks that ran; `dkim` and `dmarc` are empty when theirs did not.

  dns::Status txt_status = dns::Status::ok;   ///< How the domain's TXT lookup went.
  std::string txt_server;                     ///< Who answered it.
  /// The domain's TXT answer, shared with the resolver's cache (null when none was read): it keeps the records that
  /// `spf_records` points to.
  dns::AnswerPtr txt;
  /// The TXT records that are SPF records, strings as published: records of `txt`, not copies.
  std::vector<const dns::TxtRecord*> spf_records;
  spf::SelectionStatus selection = spf::SelectionStatus::none;
  std::string record;                         ///< The selected SPF record (joined), when exactly one.
  bool record_is_candidate = false;           ///< The record came from --record, not from DNS.

  std::vector<IpResult> ips;                  ///< One per sender address, ordinary then bulk.
  std::optional<spf::CostReport> cost;        ///< The record's static lookup cost.
  SendingHost sending_host;                   ///< What the sending host resolves to.
  dkim::DkimReport dkim;   ///< Its findings are moved to `findings` (this one's are then empty).
  dmarc::DmarcReport dmarc; ///< Likewise.

  Findings findings; ///< SPF (record and sender), DKIM, DMARC findings, most severe first within each area.
  Verdict verdict;
  DomainStatus status = DomainStatus::problem;

  std::optional<suggest::Suggestion> suggestion; ///< The record to publish, when asked for (`--suggest`).
};

/// Checks `domain` (already validated, ASCII) for the sender in `options.profile`. `options` is read as the check
/// goes on, so it must outlive the task (a worker's options, or a caller's that awaits the task at once).
util::Task<DomainReport> check_domain(dns::Resolver& resolver, std::string domain, const CheckOptions& options);

/// The verdict from the parts of a report (SPF results per address, DKIM and DMARC); exposed for tests.
Verdict decide_verdict(const DomainReport& report, const SenderProfile& profile);

} // namespace sendcheck::report
