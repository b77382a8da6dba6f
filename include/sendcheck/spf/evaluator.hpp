#pragma once

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/util/task.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// RFC 7208 check_host(): evaluates a domain's SPF policy for one client IP, with the RFC's accounting (10
// DNS-querying terms, 2 void lookups, 10 MX / PTR names) and a trace of every step for the report.

namespace sendcheck::spf {

/// The result of check_host() (RFC 7208 §2.6).
enum class SpfResult : uint8_t { none, neutral, pass, fail, softfail, temperror, permerror };

/// "none", "neutral", "pass", "fail", "softfail", "temperror" or "permerror".
std::string_view to_string(SpfResult result);

/// The result a mechanism with `qualifier` gives when it matches.
SpfResult result_of(Qualifier qualifier);

/// The processing limits of RFC 7208 §4.6.4 (defaults are the RFC's).
struct Limits
{
  unsigned dns_terms = 10;    ///< DNS-querying terms (include a mx ptr exists redirect) per check_host().
  unsigned void_lookups = 2;  ///< Lookups answering NXDOMAIN or no data.
  unsigned mx_names = 10;     ///< MX names per `mx` mechanism; more is a permerror.
  unsigned ptr_names = 10;    ///< PTR names looked at per `ptr` mechanism or `p` macro; the rest are ignored.
};

/// Whether the evaluator hints upcoming lookups to the resolver (`Resolver::prefetch`).
enum class Prefetch : uint8_t { off, on };

/// Whether check_host() records the step-by-step trace (`Evaluation::trace`).
enum class Trace : uint8_t { off, on };

class EvaluationMemo;
class PrefetchShare;

/// How to run check_host().
struct Options
{
  Limits limits;
  /// The HELO/EHLO name: the `h` macro, and the sender's domain when the sender is empty.
  std::string helo;
  /// The explanation for a fail when the record has no usable exp= (RFC 7208 §6.2 leaves it to the receiver).
  std::string default_explanation = "See https://www.rfc-editor.org/rfc/rfc7208 (SPF)";
  /// The `r` macro: the receiving host's domain name.
  std::string receiver = "unknown";
  /// The `t` macro; the current time when not set.
  std::optional<uint64_t> timestamp;
  /// Send every target known without macros to `Resolver::prefetch` when a record is parsed, and follow the
  /// include:/redirect= and `mx` targets as their answers arrive (`Resolver::query` with a callback; the evaluation
  /// never waits on it): their records' targets and the MX hosts' addresses are prefetched at once, 10 levels deep
  /// and at most 30 names per check_host() beyond the records the evaluation parsed, so that the whole include tree
  /// takes one round per level. Never changes results, counts or traces.
  Prefetch prefetch = Prefetch::on;
  /// Record every step in `Evaluation::trace` (reports show it with --verbose). Off leaves the trace empty and is
  /// cheaper; it never changes the result, the counts or any other field.
  Trace trace = Trace::on;
  /// Shared parse cache; when null, records are parsed without caching.
  std::shared_ptr<RecordCache> cache;
  /// Shared memo of include:/redirect= sub-evaluations (see EvaluationMemo); null: off. Ignored while tracing (a
  /// reused sub-evaluation has no trace steps). Never changes the result, the counts or any other field. Share one
  /// memo only among evaluations that see the same DNS (one resolver) and the same Limits.
  std::shared_ptr<EvaluationMemo> memo;
  /// One prefetch lookahead for several check_host() calls of the same domain with the same resolver (the addresses
  /// of one sender; report::check_domain makes one per domain, see make_prefetch_share): each record is walked for
  /// prefetching once for all of them instead of once per address, and the 30-name budget is theirs together.
  /// Null: each check_host() has its own. Never changes results, counts or traces.
  std::shared_ptr<PrefetchShare> prefetch_share;
};

/// A lookahead to share among the check_host() calls of one domain (Options::prefetch_share).
std::shared_ptr<PrefetchShare> make_prefetch_share();

/// One DNS lookup made during the evaluation.
struct LookupInfo
{
  std::string name;            ///< The name asked.
  dns::RRType type = dns::RRType::txt;
  dns::Status status = dns::Status::ok;
  size_t record_count = 0;     ///< Records in the answer.
  std::string server;          ///< Who answered (from the resolver).
  std::string detail;          ///< For failures, what went wrong.
  bool counted_void = false;   ///< Whether it counted as a void lookup.
};

/// What a trace step was about.
enum class StepKind : uint8_t {
  record,    ///< Fetching and selecting the SPF record of a domain.
  term,      ///< Evaluating one mechanism.
  redirect,  ///< Following redirect=.
  exp,       ///< Fetching and expanding the explanation.
  limit,     ///< A processing limit stopped the evaluation.
};

/// One step of the evaluation, for the report.
struct TraceStep
{
  StepKind kind = StepKind::term;
  unsigned depth = 0;           ///< 0 for the checked domain, +1 for each include or redirect.
  std::string domain;           ///< The current domain when the step ran.
  std::string term;             ///< The term's text (or the record text for a record step).
  std::string target;           ///< The expanded target domain, if any.
  std::vector<LookupInfo> lookups; ///< Lookups the step made, in order.
  bool matched = false;         ///< For a term: whether the mechanism matched.
  std::optional<SpfResult> result; ///< The result the step produced (a matching term, an include's inner result).
  std::string note;             ///< A few words ("include result: fail, no match", "ignored: all present").
};

/// The outcome of check_host() with everything the report needs.
struct Evaluation
{
  SpfResult result = SpfResult::none;
  /// For fail: the expanded exp= text, or `Options::default_explanation`. Empty for other results.
  std::string explanation;
  /// The term that decided the result: the matching mechanism (an include: that matched, not the term inside it),
  /// or the term where an error arose (inside an include or a redirect= target, where it happened). After
  /// redirect=, the deciding term of the target's record. Null when the result came from falling off the end of a
  /// record or from record selection (no record, several records, syntax error, DNS failure of the TXT lookup).
  /// Shared with the parsed record it belongs to, like `deciding_record`, so that a copy does not copy the term.
  std::shared_ptr<const Term> deciding_term;
  /// The domain whose record held `deciding_term` (or where the error happened).
  std::string deciding_domain;
  /// That domain's record text; null when no record was read. Shared with the parsed record (or the decision of a
  /// record that did not parse), so that an evaluation does not copy the record.
  std::shared_ptr<const std::string> deciding_record;
  /// For none, temperror and permerror: a plain-English reason ("example.com has 2 SPF records; a domain must publish
  /// exactly one", "more than 10 DNS-querying terms", ...).
  std::string reason;
  /// A stable code for the reason: "spf.no_record", "spf.too_many_lookups", "spf.void_lookups", "spf.syntax",
  /// "spf.include_no_record", "spf.redirect_no_record", "spf.multiple_records", "spf.dns_failure",
  /// "spf.too_many_mx", "spf.invalid_domain", "spf.macro"; empty for a plain pass/fail/softfail/neutral.
  std::string error_code;
  /// For temperror: the failed lookup (name, type, status, server, detail).
  std::optional<LookupInfo> dns_failure;
  /// For a syntax permerror: the parse error (offset into `deciding_record`).
  std::optional<ParseError> parse_error;
  /// DNS-querying terms evaluated (RFC 7208 §4.6.4; limit 10).
  unsigned dns_terms = 0;
  /// Void lookups (limit 2).
  unsigned void_lookups = 0;
  /// Every step, in order.
  std::vector<TraceStep> trace;
};

/// Counters of an EvaluationMemo, for tests and benchmarks.
struct MemoStats
{
  size_t hits = 0;        ///< Sub-evaluations answered from the memo.
  size_t misses = 0;      ///< Sub-evaluations not in the memo (evaluated).
  size_t near_limit = 0;  ///< Found, but evaluated anyway: reusing them could cross a processing limit.
  size_t stored = 0;      ///< Sub-evaluations stored.
  size_t not_stored = 0;  ///< Evaluated but not storable (sender macros, exp, `p`, DNS failure, limit reached).
  size_t clears = 0;      ///< Times the memo was emptied because it was full.
};

/// A memo of include: and redirect= sub-evaluations shared by many check_host() runs (the five addresses of a sender
/// and all domains of a run), so that a provider's include tree is walked once per address, not once per domain.
///
/// An entry is the outcome of evaluating (client address, target domain, include or redirect) together with the
/// DNS-querying terms and void lookups it added. It is reused only when the evaluating check_host() can add those
/// counts without going past its limits, so no limit check inside could have gone differently (RFC 7208 §4.6.4).
/// Not stored: evaluations that reached a limit, that expanded a macro depending on more than the address and the
/// domain (s, l, o, h, p; any exp= explanation), or that saw a DNS failure (transient; the answer cache may drop it).
/// Entries are keyed by the address as evaluated, the exact target name, the role and the MX/PTR name limits.
///
/// Thread-safe. Bounded: when `capacity` entries are held, the memo is emptied (a shared include comes back at its
/// next use). The memo assumes one consistent view of DNS: give each resolver its own.
class EvaluationMemo
{
public:
  /// The default bound on entries: an entry costs a few hundred bytes (the deciding term and record text).
  static constexpr size_t k_default_capacity = 16384;

  /// A memo holding at most `capacity` entries (at least 1).
  explicit EvaluationMemo(size_t capacity = k_default_capacity);
  /// Frees the entries.
  ~EvaluationMemo();
  /// Not copyable: share it through a std::shared_ptr.
  EvaluationMemo(const EvaluationMemo&) = delete;
  /// Not copyable.
  EvaluationMemo& operator=(const EvaluationMemo&) = delete;

  /// How many entries the memo holds.
  size_t size() const;

  /// The counters so far.
  MemoStats stats() const;

  /// The evaluator's side of the memo (defined with the evaluator).
  struct Impl;

  /// The evaluator's access to the entries.
  Impl& impl() { return *m_impl; }

private:
  std::unique_ptr<Impl> m_impl;
};

/// The local-part and domain of a sender (RFC 7208 §4.3, §2.4): `user@domain` as is; `@domain` and `domain` get the
/// local-part "postmaster"; an empty sender means the HELO identity, `postmaster@helo`.
struct SenderParts
{
  std::string local;
  std::string domain;
};

/// Splits `sender` (see SenderParts), using `helo` when it is empty.
SenderParts split_sender(std::string_view sender, std::string_view helo);

/// Whether `domain` is acceptable as a check_host() <domain> (RFC 7208 §4.3): no empty label (a single trailing dot
/// is fine), labels of 1-63 octets, and at least two labels (a single-label name cannot be a mail domain).
bool is_valid_domain(std::string_view domain);

/// RFC 7208 check_host(): the SPF result of `domain` for a client at `ip` sending as `sender` (`user@domain`,
/// `@domain`, or empty for the HELO identity from `options.helo`). Awaits the resolver's answers; never throws for
/// DNS or record problems (they become temperror / permerror with a reason).
util::Task<Evaluation> check_host(dns::Resolver& resolver, dns::IpAddress ip, std::string domain, std::string sender,
                                  Options options);

/// check_host() for each of `ips` (same domain, sender and options): the evaluations in the order of `ips` (never
/// null), each equal in every field to what check_host() gives for that address alone. An evaluation is made once
/// for all the addresses that no step of it tells apart: each decision that involves the client's address (an
/// ip4/ip6 network, the addresses of an `a` or `mx` term) is also made for the other addresses, and an address for
/// which one went another way, or any use of the address beyond such a comparison (a macro, a `ptr` term, an
/// explanation), gets an evaluation of its own. The addresses one evaluation serves share it (the same pointer)
/// instead of each getting a copy of its dozen strings. Directo's four ordinary addresses usually share one.
util::Task<std::vector<std::shared_ptr<const Evaluation>>> check_hosts(dns::Resolver& resolver,
                                                                       std::vector<dns::IpAddress> ips,
                                                                       std::string domain, std::string sender,
                                                                       Options options);

} // namespace sendcheck::spf
