#include <sendcheck/spf/evaluator.hpp>

#include <sendcheck/util/strings.hpp>

#include "ask.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sendcheck::spf {

namespace {

/// Why a domain's record is being evaluated.
enum class Role : uint8_t { top, include, redirect };

/// Whether the caller will use an explanation for a fail.
enum class WantExplanation : uint8_t { no, yes };

/// What a decision says besides its result and where it was made: the error of an error decision, the explanation
/// of a fail. Most decisions have none.
struct DecisionDetail
{
  std::string reason;
  std::string code;
  std::optional<LookupInfo> dns_failure;
  std::optional<ParseError> parse_error;
  /// The record text when it did not parse (a syntax error); null otherwise.
  std::shared_ptr<const std::string> unparsed_record;
  std::string explanation;
};

/// The outcome of one domain's evaluation (check_host() on that domain). The deciding term and the record text stay
/// in the parsed record, which the decision shares, and the rest of an error in a DecisionDetail that its copies
/// share: decisions are made, copied and discarded often (one for each term, an include that does not match, memo
/// entries), and copying a term, a record text and an error's strings each time was a fifth of all allocations.
struct Decision
{
  SpfResult result = SpfResult::neutral;
  /// The deciding term, one of `parsed`'s terms; null when none.
  const Term* term = nullptr;
  std::string domain;
  /// The record the decision was made in, as parsed (keeps `term` alive); null when no record was read.
  RecordCache::Entry parsed;
  /// The error or the explanation; null when there is neither. Filled where the decision is made, before it is
  /// copied; never changed after.
  std::shared_ptr<DecisionDetail> detail;

  /// The reason of an error decision (empty when none).
  std::string_view reason() const { return detail ? std::string_view(detail->reason) : std::string_view(); }

  /// The text of the record the decision was made in, sharing ownership with `parsed` (null when none was read).
  std::shared_ptr<const std::string> record() const
  {
    if (parsed && parsed->has_value()) {
      return std::shared_ptr<const std::string>(parsed, &parsed->value().text);
    }
    return detail ? detail->unparsed_record : nullptr;
  }
};

/// What a memo entry is found by: a view into the caller's strings, so a lookup allocates nothing.
struct MemoKeyView
{
  std::string_view domain;          ///< The target domain, exactly as evaluated.
  dns::IpAddress ip;                ///< The client address as evaluated (IPv4-mapped IPv6 already mapped).
  Role role = Role::include;        ///< include: or redirect= (their "no record" errors differ).
  WantExplanation want_explanation = WantExplanation::no; ///< Whether a fail fetches exp= (redirect= only).
  unsigned mx_names = 0;            ///< Limits::mx_names in effect.
  unsigned ptr_names = 0;           ///< Limits::ptr_names in effect.

  bool operator==(const MemoKeyView&) const = default;
};

/// A stored memo key (owns the domain).
struct MemoKey
{
  std::string domain;
  dns::IpAddress ip;
  Role role = Role::include;
  WantExplanation want_explanation = WantExplanation::no;
  unsigned mx_names = 0;
  unsigned ptr_names = 0;

  /// The key as a view.
  MemoKeyView view() const { return {domain, ip, role, want_explanation, mx_names, ptr_names}; }
};

/// Hashes stored keys and views alike (heterogeneous lookup).
struct MemoHash
{
  using is_transparent = void;

  size_t operator()(const MemoKeyView& key) const
  {
    size_t hash = std::hash<std::string_view>{}(key.domain);
    const std::string_view address(reinterpret_cast<const char*>(key.ip.bytes()), 16);
    const auto mix = [&hash](size_t value) { hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2); };
    mix(std::hash<std::string_view>{}(address));
    mix((static_cast<size_t>(key.ip.family()) << 16) | (static_cast<size_t>(key.role) << 8)
        | static_cast<size_t>(key.want_explanation));
    mix((static_cast<size_t>(key.mx_names) << 32) ^ key.ptr_names);
    return hash;
  }
  size_t operator()(const MemoKey& key) const { return (*this)(key.view()); }
};

/// Compares stored keys and views alike.
struct MemoEqual
{
  using is_transparent = void;

  static MemoKeyView view_of(const MemoKeyView& key) { return key; }
  static MemoKeyView view_of(const MemoKey& key) { return key.view(); }

  template <class Left, class Right>
  bool operator()(const Left& left, const Right& right) const
  {
    return view_of(left) == view_of(right);
  }
};

/// The addresses an evaluation also stands for (see Context::peers), shared by the evaluation and its memo entries.
using Peers = std::shared_ptr<const std::vector<dns::IpAddress>>;

/// One memoized sub-evaluation: its decision and the counts it added.
struct MemoEntry
{
  Decision decision;
  unsigned dns_terms = 0;    ///< DNS-querying terms the sub-evaluation counted.
  unsigned void_lookups = 0; ///< Void lookups it counted.
  Peers peers;               ///< The peers it was evaluated with (null: none).
  uint32_t apart = 0;        ///< Which of them a decision inside it told apart from the client (Context::apart).
};

} // namespace

/// The entries of an EvaluationMemo.
struct EvaluationMemo::Impl
{
  size_t capacity = 1;
  mutable std::mutex mutex;
  std::unordered_map<MemoKey, MemoEntry, MemoHash, MemoEqual> entries;
  MemoStats stats;

  /// The entry for `key` when a check_host() that has counted `dns_terms` and `void_lookups` so far can add its
  /// counts and stay within `limits`; nullopt (evaluate it) otherwise.
  std::optional<MemoEntry> find(const MemoKeyView& key, unsigned dns_terms, unsigned void_lookups,
                                const Limits& limits)
  {
    const std::lock_guard lock(mutex);
    const auto found = entries.find(key);
    if (found == entries.end()) {
      ++stats.misses;
      return std::nullopt;
    }
    const MemoEntry& entry = found->second;
    if (dns_terms + entry.dns_terms > limits.dns_terms || void_lookups + entry.void_lookups > limits.void_lookups) {
      ++stats.near_limit;
      return std::nullopt;
    }
    ++stats.hits;
    return entry;
  }

  /// Stores `entry` as the sub-evaluation of `key` (replacing an entry of the same key); empties the memo first when
  /// full.
  void store(const MemoKeyView& key, MemoEntry entry)
  {
    const std::lock_guard lock(mutex);
    if (entries.size() >= capacity && entries.find(key) == entries.end()) {
      entries.clear();
      ++stats.clears;
    }
    MemoKey owned{std::string(key.domain), key.ip, key.role, key.want_explanation, key.mx_names, key.ptr_names};
    entries.insert_or_assign(std::move(owned), std::move(entry));
    ++stats.stored;
  }

  /// Counts an evaluation that could not be stored.
  void count_not_stored()
  {
    const std::lock_guard lock(mutex);
    ++stats.not_stored;
  }
};

EvaluationMemo::EvaluationMemo(size_t capacity) : m_impl(std::make_unique<Impl>())
{
  m_impl->capacity = std::max<size_t>(capacity, 1);
}

EvaluationMemo::~EvaluationMemo() = default;

size_t
EvaluationMemo::size() const
{
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->entries.size();
}

MemoStats
EvaluationMemo::stats() const
{
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->stats;
}

namespace {

class Lookahead;

/// The state shared by one check_host() and all its nested evaluations.
struct Context
{
  dns::Resolver& resolver;
  /// The options of the check_host() or check_hosts() call, which outlives every evaluation it awaits.
  const Options& options;
  /// What a macro reads; the client's address is always here, the rest only through macro_context().
  MacroContext macro;
  /// The evaluation being made, the caller's (check_hosts() fills the one its addresses share in place; moving an
  /// Evaluation out through each coroutine that returns it cost more than the rest of check_hosts()).
  Evaluation& evaluation;
  /// The domain the `p` value was validated for (its preference for names in that domain depends on it).
  std::optional<std::string> ptr_domain;
  /// The memo of sub-evaluations in use: null when off or tracing.
  EvaluationMemo::Impl* memo;
  /// Grows whenever the evaluation uses something besides the client address, the current domain and stable DNS
  /// data: a macro letter s l o h p (or r t c), an exp= explanation, a DNS failure. A sub-evaluation during which it
  /// grew cannot be memoized.
  unsigned unmemoizable;
  /// The prefetch lookahead, made at the first prefetch (Options::prefetch).
  std::shared_ptr<Lookahead> lookahead;
  /// Other client addresses (of the client's family) this evaluation stands for (check_hosts): every decision that
  /// involves the client's address is made for each of them too. Null or empty for a plain check_host().
  Peers peers;
  /// Bit i is set once a decision went another way for (*peers)[i] than for the client, or once the evaluation used
  /// something derived from the address (a macro, a PTR lookup): the evaluation is then not that peer's.
  uint32_t apart = 0;
  /// The sender (check_host()'s <sender>), split into `macro`'s s, l and o by macro_context() on first use.
  std::string_view sender;
  /// Whether `macro` holds the letters only a macro reads (s l o h r t): see macro_context().
  bool macro_filled = false;
  /// The current domain (check_host()'s <domain>, changed by include and redirect): a view of the name that the
  /// evaluate_domain() call now running was given, which its caller keeps while awaiting it, so that entering and
  /// leaving a record copies no name. `macro.domain` gets it only when a macro is expanded (macro_context).
  std::string_view domain;

  /// Whether steps go into `evaluation.trace` (Options::trace).
  bool tracing() const { return options.trace == Trace::on; }

  /// Appends `step` to the trace when tracing.
  void record(TraceStep&& step)
  {
    if (tracing()) {
      evaluation.trace.push_back(std::move(step));
    }
  }
};

/// The macro context, with the letters only a macro reads (s l o h r t) filled on first use, and the current domain:
/// most records have no macros, and splitting the sender and copying the names for every evaluation cost more than
/// the rest of its set-up.
const MacroContext&
macro_context(Context& ctx)
{
  ctx.macro.domain.assign(ctx.domain);
  if (!ctx.macro_filled) {
    ctx.macro_filled = true;
    auto parts = split_sender(ctx.sender, ctx.options.helo);
    ctx.macro.sender_local = std::move(parts.local);
    ctx.macro.sender_domain = std::move(parts.domain);
    ctx.macro.helo = ctx.options.helo;
    ctx.macro.receiver = ctx.options.receiver;
    ctx.macro.timestamp = ctx.options.timestamp.value_or(static_cast<uint64_t>(std::time(nullptr)));
  }
  return ctx.macro;
}

/// What evaluating one mechanism gave.
enum class Match : uint8_t { no, yes, error };

LookupInfo
info_of(const dns::Answer& answer, std::string_view name, dns::RRType type)
{
  LookupInfo info;
  info.name = answer.name.empty() ? std::string(name) : answer.name;
  info.type = type;
  info.status = answer.status;
  info.record_count = answer.record_count();
  info.server = answer.server;
  info.detail = answer.detail;
  return info;
}

/// Notes in `step` the lookup of (`name`, `type`) that `answer` answered, and returns its LookupInfo; null when nobody
/// will read it. Without a trace only a failed lookup is noted (its LookupInfo goes into the temperror), so that an
/// evaluation without a trace copies no names and no server texts.
LookupInfo*
note_lookup(const Context& ctx, TraceStep& step, const dns::Answer& answer, std::string_view name, dns::RRType type)
{
  if (!ctx.tracing() && !dns::is_failure(answer.status)) {
    return nullptr;
  }
  step.lookups.push_back(info_of(answer, name, type));
  return &step.lookups.back();
}

/// Marks every peer apart (Context::apart): the evaluation used something derived from the client's address.
void
tell_all_apart(Context& ctx)
{
  if (ctx.peers) {
    ctx.apart = ctx.peers->size() >= 32 ? ~uint32_t{ 0 } : (uint32_t{ 1 } << ctx.peers->size()) - 1;
  }
}

/// `test` of the client's address; a peer for which `test` answers otherwise is marked apart (Context::apart). Every
/// decision that compares the client's address goes through here.
template<typename Test>
bool
decide_for_client(Context& ctx, const Test& test)
{
  const bool answer = test(ctx.macro.ip);
  if (ctx.peers) {
    for (size_t i = 0; i < ctx.peers->size(); ++i) {
      if (test((*ctx.peers)[i]) != answer) {
        ctx.apart |= uint32_t{ 1 } << i;
      }
    }
  }
  return answer;
}

/// Whether the client's address is in `network`/`prefix` (decide_for_client).
bool
client_in_network(Context& ctx, const dns::IpAddress& network, unsigned prefix)
{
  return decide_for_client(ctx, [&](const dns::IpAddress& ip) { return ip.in_network(network, prefix); });
}

/// Whether the client's address is in any of `addresses` (each widened to `prefix`), as an `a` or `mx` term asks
/// (decide_for_client).
bool
client_in_any(Context& ctx, const std::vector<dns::IpAddress>& addresses, unsigned prefix)
{
  return decide_for_client(ctx, [&](const dns::IpAddress& ip) {
    return std::any_of(addresses.begin(), addresses.end(),
                       [&](const dns::IpAddress& address) { return ip.in_network(address, prefix); });
  });
}

/// Whether expanding `spec` uses the client's address: the letters i, c and v, and p (a PTR lookup of it).
bool
uses_client_address(const MacroString& spec)
{
  return std::any_of(spec.tokens.begin(), spec.tokens.end(), [](const MacroToken& token) {
    return token.kind == MacroToken::Kind::macro
           && (token.letter == 'i' || token.letter == 'c' || token.letter == 'v' || token.letter == 'p');
  });
}

bool
ends_with_domain(std::string_view name, std::string_view domain)
{
  if (name.size() < domain.size() || !util::iequals(name.substr(name.size() - domain.size()), domain)) {
    return false;
  }
  return name.size() == domain.size() || name[name.size() - domain.size() - 1] == '.';
}

/// An error decision in `domain`, made at `term` (null: none) of the record `parsed` (null: none read).
Decision
error_decision(SpfResult result, std::string code, std::string reason, std::string_view domain,
               const RecordCache::Entry& parsed, const Term* term)
{
  Decision decision;
  decision.result = result;
  decision.detail = std::make_shared<DecisionDetail>();
  decision.detail->code = std::move(code);
  decision.detail->reason = std::move(reason);
  decision.domain = domain;
  decision.parsed = parsed;
  decision.term = term;
  return decision;
}

std::string
describe(const LookupInfo& info)
{
  std::string out = fmt::format("{} {} {}", info.name, dns::to_string(info.type), dns::to_string(info.status));
  if (!info.server.empty()) {
    out += fmt::format(" from {}", info.server);
  }
  if (!info.detail.empty()) {
    out += fmt::format(" ({})", info.detail);
  }
  return out;
}

/// `co_await ask(ctx, name, type)`: `detail::ask`, noting a DNS failure (transient: a memoized sub-evaluation must not
/// carry it to other checks). Like `detail::ask`, it views `name` until the co_await completes.
class Ask
{
public:
  Ask(Context& ctx, std::string_view name, dns::RRType type)
    : m_ctx(ctx), m_lookup(detail::ask(ctx.resolver, name, type))
  {
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> waiter) { return m_lookup.await_suspend(waiter); }

  dns::AnswerPtr
  await_resume()
  {
    auto answer = m_lookup.await_resume();
    if (dns::is_failure(answer->status)) {
      ++m_ctx.unmemoizable;
    }
    return answer;
  }

private:
  Context& m_ctx;
  dns::Lookup m_lookup;
};

Ask
ask(Context& ctx, std::string_view name, dns::RRType type)
{
  return Ask(ctx, name, type);
}

/// Whether expanding `spec` uses anything besides the client address and the current domain (letters i, v, d):
/// the sender (s l o), the HELO name (h), the validated PTR name (p), or the exp-only letters (c r t).
bool
depends_on_more_than_address_and_domain(const MacroString& spec)
{
  return std::any_of(spec.tokens.begin(), spec.tokens.end(), [](const MacroToken& token) {
    return token.kind == MacroToken::Kind::macro && token.letter != 'i' && token.letter != 'v'
           && token.letter != 'd';
  });
}

/// The value of the `p` macro, looked up once per check_host() when first needed.
util::Task<void>
ensure_ptr(Context& ctx)
{
  if (ctx.ptr_domain == ctx.domain) {
    co_return;
  }
  ctx.ptr_domain = std::string(ctx.domain);
  ctx.macro.validated_name = co_await validated_ptr_name(ctx.resolver, ctx.macro.ip, *ctx.ptr_domain,
                                                        ctx.options.limits.ptr_names);
}

/// Notes what expanding the domain-spec `spec` for the current domain depends on (Context::unmemoizable, the peers it
/// tells apart); true when the expansion needs the `p` lookup first (co_await ensure_ptr). Not a coroutine itself, so
/// that a target without `p` (nearly all) is expanded without making a coroutine frame.
bool
prepare_target(Context& ctx, const MacroString& spec)
{
  if (depends_on_more_than_address_and_domain(spec)) {
    ++ctx.unmemoizable;
  }
  if (uses_client_address(spec)) {
    tell_all_apart(ctx);
  }
  return spec.uses_ptr();
}

/// The name the domain-spec `spec` names in this evaluation: its fixed target when it has no macros (expanded once,
/// when the record was parsed), else expanded now into `expanded`. Call prepare_target (and ensure_ptr) first.
const std::string&
target_of(Context& ctx, const MacroString& spec, std::string& expanded)
{
  if (spec.fixed_target) {
    return spec.fixed_target->name;
  }
  expanded = expand(spec, macro_context(ctx), MacroUse::domain_spec);
  return expanded;
}

/// Whether `target`, what `spec` names in this evaluation (target_of), can be asked for.
bool
target_is_queryable(const MacroString& spec, std::string_view target)
{
  return spec.fixed_target ? spec.fixed_target->queryable : is_queryable(target);
}

/// exp=: fetch, parse and expand the explanation; empty when anything goes wrong (RFC 7208 §6.2).
util::Task<std::string>
explanation_for(Context& ctx, const Term& exp, TraceStep& step)
{
  ++ctx.unmemoizable; // the text may use any macro letter, and it is only fetched for a fail that wants it
  tell_all_apart(ctx);
  if (prepare_target(ctx, *exp.domain_spec)) {
    co_await ensure_ptr(ctx);
  }
  std::string expanded;
  const std::string& target = target_of(ctx, *exp.domain_spec, expanded);
  step.target = target;
  if (!target_is_queryable(*exp.domain_spec, target)) {
    step.note = "exp ignored: the expanded name is not a valid domain name";
    co_return std::string();
  }
  const auto answer = co_await ask(ctx, target, dns::RRType::txt);
  note_lookup(ctx, step, *answer, target, dns::RRType::txt);
  if (answer->status != dns::Status::ok || answer->txt.size() != 1) {
    step.note = answer->status == dns::Status::ok ? "exp ignored: more than one TXT record"
                                                   : "exp ignored: no usable TXT record";
    co_return std::string();
  }
  const auto text = answer->txt.front().joined();
  const auto macro = parse_macro_string(text, MacroUse::explanation);
  if (!macro) {
    step.note = fmt::format("exp ignored: {}", macro.error().message);
    co_return std::string();
  }
  if (macro->uses_ptr()) {
    co_await ensure_ptr(ctx);
  }
  co_return expand(*macro, macro_context(ctx), MacroUse::explanation);
}

/// Where a record handed to Lookahead::prefetch_record comes from.
enum class RecordSource : uint8_t {
  evaluation, ///< The evaluation parsed it: its targets are prefetched as they always were, without a budget.
  lookahead,  ///< A prefetched answer arrived before the evaluation reached it: its prefetches use the budget.
};

/// The prefetch lookahead of one check_host() (Options::prefetch). Every target without macros of a parsed record
/// is hinted to `Resolver::prefetch`; for include:/redirect= and `mx` targets it also asks `Resolver::query` with a
/// callback (a caching resolver joins the query in flight), so that when the TXT answer arrives its record is parsed
/// and its own targets are prefetched at once, recursively, and when an MX answer arrives the hosts' A/AAAA are
/// prefetched. The whole include tree is then in flight after one round per level, without waiting for the
/// evaluation to reach each record (an `mx` term before an include no longer delays the include's targets).
///
/// The evaluation never waits on it and never sees it: it only warms the resolver. Bounded: records deeper than
/// k_max_depth are not followed, and the names prefetched from records the evaluation has not reached (and MX hosts)
/// are at most k_max_names per check_host(). An answer given synchronously (already cached, or a resolver without
/// latency) is not followed: whoever fetched it first already prefetched what it names, and following it would
/// only cost time. Lives in a std::shared_ptr held by the pending callbacks, so it outlives its check_host() when
/// answers arrive later.
class Lookahead : public std::enable_shared_from_this<Lookahead>
{
public:
  /// How many include/redirect levels are followed (the check_host() depth of the record that names them).
  static constexpr unsigned k_max_depth = 10;
  /// How many names may be prefetched from records the evaluation has not reached, and MX hosts.
  static constexpr unsigned k_max_names = 30;

  /// A lookahead asking `resolver` for a client at `ip`, parsing through `cache` (null: parse without caching),
  /// following MX answers of at most `mx_names` hosts (Limits::mx_names: more is a permerror anyway).
  Lookahead(dns::Resolver& resolver, std::shared_ptr<RecordCache> cache, const dns::IpAddress& ip, unsigned mx_names)
    : m_resolver(resolver), m_cache(std::move(cache)), m_mx_names(mx_names), m_ip(ip)
  {
  }

  /// Prefetches the targets without macros of `record`, the record of `domain` evaluated at `depth` (0 for the
  /// checked domain), and follows its include:/redirect= and `mx` targets. A record walked to its end before (for
  /// another address of the same domain, see PrefetchShare) is not walked again.
  void prefetch_record(const Record& record, std::string_view domain, unsigned depth, RecordSource source);

  /// Whether this lookahead asks `resolver` for a client of `ip`'s family, so that it can serve that check_host().
  bool
  serves(const dns::Resolver& resolver, const dns::IpAddress& ip) const
  {
    return &m_resolver == &resolver && m_ip.is_v4() == ip.is_v4();
  }

  /// From now on the client is `ip` (of the same family): the next check_host() it serves (a `ptr` term prefetches
  /// the client's own reverse name).
  void serve(const dns::IpAddress& ip) { m_ip = ip; }

private:
  /// Prefetches (`name`, `type`) unless the budget is spent (lookahead records only); false when it was not.
  bool hint(std::string_view name, dns::RRType type, RecordSource source);
  /// Asks for (`name`, `type`) (TXT of a record at `depth`, or MX) and handles the answer if it comes later.
  void follow(std::string_view name, dns::RRType type, unsigned depth);
  /// A followed TXT answer for `domain`, whose record is evaluated at `depth`, arrived.
  void on_txt(const dns::Answer& answer, const std::string& domain, unsigned depth);
  /// A followed MX answer arrived.
  void on_mx(const dns::Answer& answer);

  dns::Resolver& m_resolver;
  std::shared_ptr<RecordCache> m_cache;
  unsigned m_mx_names;
  dns::IpAddress m_ip;                                    ///< The client (the targets followed have no macros).
  unsigned m_names = 0;                                   ///< Names prefetched from the budget.
  std::vector<std::pair<std::string, dns::RRType>> m_followed; ///< Every (name, type) followed, once each.
  /// The (domain, depth) of every record walked to its end. The resolver gives one answer per name for the whole
  /// run, so a domain's record is the same one for every address.
  std::vector<std::pair<std::string, unsigned>> m_walked;
  uint64_t m_next_ticket = 1;                             ///< Numbers the follow() calls.
  uint64_t m_asking = 0;                                  ///< The ticket of the query() call running now, or 0.
};

void
Lookahead::prefetch_record(const Record& record, std::string_view domain, unsigned depth, RecordSource source)
{
  const auto walked = [&](const auto& entry) { return entry.second == depth && entry.first == domain; };
  if (std::any_of(m_walked.begin(), m_walked.end(), walked)) {
    return;
  }
  const auto address_type = m_ip.is_v4() ? dns::RRType::a : dns::RRType::aaaa;
  bool same_for_every_address = true; // `ptr` prefetches the client's own reverse name
  for (const auto& term : record.terms) {
    std::optional<dns::RRType> type;
    if (term.kind == TermKind::modifier) {
      if (term.modifier == ModifierKind::redirect) {
        type = dns::RRType::txt;
      }
    } else {
      switch (term.mechanism) {
      case MechanismKind::include:
        type = dns::RRType::txt;
        break;
      case MechanismKind::a:
        type = address_type;
        break;
      case MechanismKind::mx:
        type = dns::RRType::mx;
        break;
      case MechanismKind::exists:
        type = dns::RRType::a;
        break;
      case MechanismKind::ptr:
        same_for_every_address = false;
        if (!hint(m_ip.reverse_name(), dns::RRType::ptr, source)) {
          return;
        }
        break;
      default:
        break;
      }
    }
    if (!type) {
      continue;
    }
    if (term.domain_spec && !term.domain_spec->fixed_target) {
      continue; // a macro: the name is only known when the term is evaluated
    }
    // Without a domain-spec the target is `domain`, whose record was only fetched because it can be asked for.
    const std::string_view target = term.domain_spec ? std::string_view(term.domain_spec->fixed_target->name) : domain;
    if (term.domain_spec && !term.domain_spec->fixed_target->queryable) {
      continue;
    }
    if (!hint(target, *type, source)) {
      return;
    }
    if (*type == dns::RRType::txt && depth + 1 <= k_max_depth) {
      follow(target, *type, depth + 1);
    } else if (*type == dns::RRType::mx) {
      follow(target, *type, depth);
    }
  }
  if (same_for_every_address) {
    m_walked.emplace_back(domain, depth);
  }
}

bool
Lookahead::hint(std::string_view name, dns::RRType type, RecordSource source)
{
  if (source == RecordSource::lookahead) {
    if (m_names >= k_max_names) {
      return false;
    }
    ++m_names;
  }
  m_resolver.prefetch(name, type);
  return true;
}

void
Lookahead::follow(std::string_view name, dns::RRType type, unsigned depth)
{
  const auto same = [&](const auto& followed) { return followed.second == type && followed.first == name; };
  if (std::any_of(m_followed.begin(), m_followed.end(), same)) {
    return;
  }
  // The callback finds the name in m_followed (which only grows): a synchronous answer, the usual case, copies nothing.
  const size_t index = m_followed.size();
  m_followed.emplace_back(name, type);
  const uint64_t ticket = m_next_ticket++;
  const uint64_t outer = m_asking;
  m_asking = ticket;
  m_resolver.query(name, type, [self = shared_from_this(), index, ticket, depth](dns::AnswerPtr answer) {
    if (!answer || self->m_asking == ticket) {
      return; // answered synchronously: known already, nothing to win
    }
    // A copy: following the answer's record may follow more names and so reallocate m_followed.
    const auto [followed_name, followed_type] = self->m_followed[index];
    if (followed_type == dns::RRType::txt) {
      self->on_txt(*answer, followed_name, depth);
    } else {
      self->on_mx(*answer);
    }
  });
  m_asking = outer;
}

void
Lookahead::on_txt(const dns::Answer& answer, const std::string& domain, unsigned depth)
{
  const SpfTxt selection = find_spf_record(answer);
  if (selection.status != SelectionStatus::one) {
    return;
  }
  std::string storage;
  const std::string_view text = selection.text(storage);
  RecordCache::Entry cached;
  std::optional<util::Result<Record, ParseError>> local;
  const util::Result<Record, ParseError>* parsed = nullptr;
  if (m_cache) {
    cached = m_cache->parse(text);
    parsed = cached.get();
  } else {
    local.emplace(parse_record(text));
    parsed = &*local;
  }
  if (parsed->has_value()) {
    prefetch_record(parsed->value(), domain, depth, RecordSource::lookahead);
  }
}

void
Lookahead::on_mx(const dns::Answer& answer)
{
  if (answer.status != dns::Status::ok || answer.mx.size() > m_mx_names) {
    return;
  }
  const auto address_type = m_ip.is_v4() ? dns::RRType::a : dns::RRType::aaaa;
  for (const auto& mx : answer.mx) {
    if (mx.exchange.empty() || !is_queryable(mx.exchange)) {
      continue;
    }
    if (!hint(mx.exchange, address_type, RecordSource::lookahead)) {
      return;
    }
  }
}

} // namespace

/// The lookahead that the check_host() calls of one domain share (Options::prefetch_share): the latest one made, for
/// the family of the address it was made for (a check of IPv4 and IPv6 addresses alternating would make a new one
/// each time, which is only slower).
class PrefetchShare
{
public:
  std::shared_ptr<Lookahead> lookahead;
};

std::shared_ptr<PrefetchShare>
make_prefetch_share()
{
  return std::make_shared<PrefetchShare>();
}

namespace {

/// Prefetches the targets of `record` (the record of the current domain, evaluated at `depth`) and follows them.
void
prefetch_targets(Context& ctx, const Record& record, unsigned depth)
{
  if (!ctx.lookahead) {
    auto* shared = ctx.options.prefetch_share ? &ctx.options.prefetch_share->lookahead : nullptr;
    if (shared != nullptr && *shared && (*shared)->serves(ctx.resolver, ctx.macro.ip)) {
      (*shared)->serve(ctx.macro.ip);
      ctx.lookahead = *shared;
    } else {
      ctx.lookahead = std::make_shared<Lookahead>(ctx.resolver, ctx.options.cache, ctx.macro.ip,
                                                  ctx.options.limits.mx_names);
      if (shared != nullptr) {
        *shared = ctx.lookahead;
      }
    }
  }
  ctx.lookahead->prefetch_record(record, ctx.domain, depth, RecordSource::evaluation);
}

/// Counts a void lookup (marked in its LookupInfo `info` when it was noted); true when the limit is now exceeded.
bool
count_void(Context& ctx, LookupInfo* info)
{
  if (info) {
    info->counted_void = true;
  }
  ++ctx.evaluation.void_lookups;
  return ctx.evaluation.void_lookups > ctx.options.limits.void_lookups;
}

util::Task<Decision> evaluate_domain(Context& ctx, std::string_view domain, unsigned depth, Role role,
                                     WantExplanation want_explanation);

/// evaluate_domain() for an include: or redirect= target, through the memo when there is one: a stored outcome of
/// the same (address, target, role) is reused when its counts fit within the limits; otherwise the target is
/// evaluated, and stored when nothing but the address, the target and stable DNS data decided it and no limit was
/// reached (so the same evaluation under other counts within the limits goes exactly the same way).
util::Task<Decision>
evaluate_target(Context& ctx, std::string_view domain, unsigned depth, Role role, WantExplanation want_explanation)
{
  if (!ctx.memo) {
    co_return co_await evaluate_domain(ctx, domain, depth, role, want_explanation);
  }
  Evaluation& evaluation = ctx.evaluation;
  const Limits& limits = ctx.options.limits;
  const MemoKeyView key{domain, ctx.macro.ip, role, want_explanation, limits.mx_names, limits.ptr_names};
  if (auto entry = ctx.memo->find(key, evaluation.dns_terms, evaluation.void_lookups, limits)) {
    evaluation.dns_terms += entry->dns_terms;
    evaluation.void_lookups += entry->void_lookups;
    // The peers the entry told apart are apart here too; entry made for other peers (or none) tells nothing.
    const bool same_peers = entry->peers == ctx.peers || (entry->peers && ctx.peers && *entry->peers == *ctx.peers);
    if (same_peers) {
      ctx.apart |= entry->apart;
    } else {
      tell_all_apart(ctx);
    }
    co_return std::move(entry->decision);
  }
  const unsigned dns_terms_before = evaluation.dns_terms;
  const unsigned void_lookups_before = evaluation.void_lookups;
  const unsigned unmemoizable_before = ctx.unmemoizable;
  const uint32_t apart_before = std::exchange(ctx.apart, 0); // what this sub-evaluation tells apart, for its entry
  Decision decision = co_await evaluate_domain(ctx, domain, depth, role, want_explanation);
  const uint32_t apart_inside = ctx.apart;
  ctx.apart |= apart_before;
  const bool reached_limit =
    evaluation.dns_terms > limits.dns_terms || evaluation.void_lookups > limits.void_lookups;
  if (ctx.unmemoizable == unmemoizable_before && !reached_limit && decision.result != SpfResult::temperror) {
    // `key` views `domain`, which the caller keeps: still valid.
    ctx.memo->store(key, MemoEntry{ decision, evaluation.dns_terms - dns_terms_before,
                                    evaluation.void_lookups - void_lookups_before, ctx.peers, apart_inside });
  } else {
    ctx.memo->count_not_stored();
  }
  co_return decision;
}

/// The match of a mechanism that needs no DNS (all, ip4, ip6), decided without a coroutine; nullopt for the others.
std::optional<Match>
match_without_dns(Context& ctx, const Term& term)
{
  const dns::IpAddress& ip = ctx.macro.ip;
  switch (term.mechanism) {
  case MechanismKind::all:
    return Match::yes;
  case MechanismKind::ip4:
  case MechanismKind::ip6:
    if (!term.network || term.network->family() != ip.family()) {
      return Match::no;
    }
    return client_in_network(ctx, *term.network, ip.is_v4() ? term.effective_cidr4() : term.effective_cidr6())
             ? Match::yes
             : Match::no;
  case MechanismKind::a:
  case MechanismKind::mx:
  case MechanismKind::exists:
  case MechanismKind::ptr:
  case MechanismKind::include:
    break;
  }
  return std::nullopt;
}

/// Evaluates one mechanism; on Match::error, `error` holds the decision.
util::Task<Match>
evaluate_mechanism(Context& ctx, const Term& term, std::string_view domain, const RecordCache::Entry& parsed,
                   unsigned depth, TraceStep& step, Decision& error)
{
  const dns::IpAddress& ip = ctx.macro.ip;
  const auto fail_with = [&](SpfResult result, std::string code, std::string reason) {
    error = error_decision(result, std::move(code), std::move(reason), domain, parsed, &term);
    return Match::error;
  };
  // The outcome of an a/mx/exists term's main lookup when it gave nothing to match against: temperror when it
  // failed, a void lookup (permerror past the limit) when the data is absent; nullopt when there are records.
  // `info` is the lookup as noted (never null for a failed one).
  const auto settle_main_lookup = [&](const dns::Answer& answer, LookupInfo* info, std::string_view name,
                                      dns::RRType type) -> std::optional<Match> {
    if (dns::is_failure(answer.status)) {
      error = error_decision(SpfResult::temperror, "spf.dns_failure",
                             fmt::format("the DNS lookup for '{}' failed: {}", term.text, describe(*info)), domain,
                             parsed, &term);
      error.detail->dns_failure = *info;
      return Match::error;
    }
    if (dns::is_absent(answer.status)) {
      if (count_void(ctx, info)) {
        return fail_with(SpfResult::permerror, "spf.void_lookups",
                         fmt::format("more than {} lookups found nothing (the last was {} {})",
                                     ctx.options.limits.void_lookups, name, dns::to_string(type)));
      }
      return Match::no;
    }
    return std::nullopt;
  };
  const auto address_type = ip.is_v4() ? dns::RRType::a : dns::RRType::aaaa;
  const unsigned prefix = ip.is_v4() ? term.effective_cidr4() : term.effective_cidr6();
  if (const auto match = match_without_dns(ctx, term)) {
    co_return *match;
  }

  if (term.domain_spec && prepare_target(ctx, *term.domain_spec)) {
    co_await ensure_ptr(ctx);
  }
  std::string expanded;
  const std::string_view target = term.domain_spec ? std::string_view(target_of(ctx, *term.domain_spec, expanded))
                                                   : domain;
  if (ctx.tracing()) {
    step.target = target;
  }
  // Without a domain-spec the target is the current domain, which was checked before its record was fetched.
  if (term.domain_spec && !target_is_queryable(*term.domain_spec, target)) {
    if (term.mechanism == MechanismKind::include) {
      co_return fail_with(SpfResult::permerror, "spf.invalid_domain",
                          fmt::format("'{}' includes '{}', which is not a valid domain name", term.text,
                                      util::escape_for_display(target)));
    }
    step.note = "no match: the target is not a valid domain name, so it cannot exist";
    co_return Match::no;
  }

  if (term.mechanism == MechanismKind::include) {
    const Decision inner = co_await evaluate_target(ctx, target, depth + 1, Role::include, WantExplanation::no);
    step.result = inner.result;
    switch (inner.result) {
    case SpfResult::pass:
      step.note = "include result: pass, so it matches";
      co_return Match::yes;
    case SpfResult::fail:
    case SpfResult::softfail:
    case SpfResult::neutral:
      if (ctx.tracing()) {
        step.note = fmt::format("include result: {}, no match", to_string(inner.result));
      }
      co_return Match::no;
    case SpfResult::temperror:
    case SpfResult::permerror:
    case SpfResult::none:
      error = inner;
      co_return Match::error;
    }
    co_return Match::no;
  }

  if (term.mechanism == MechanismKind::exists || term.mechanism == MechanismKind::a) {
    const auto type = term.mechanism == MechanismKind::exists ? dns::RRType::a : address_type;
    const auto answer = co_await ask(ctx, target, type);
    LookupInfo* const info = note_lookup(ctx, step, *answer, target, type);
    if (const auto settled = settle_main_lookup(*answer, info, target, type)) {
      co_return *settled;
    }
    if (term.mechanism == MechanismKind::exists) {
      co_return Match::yes;
    }
    co_return client_in_any(ctx, answer->addresses, prefix) ? Match::yes : Match::no;
  }

  if (term.mechanism == MechanismKind::mx) {
    const auto answer = co_await ask(ctx, target, dns::RRType::mx);
    LookupInfo* const info = note_lookup(ctx, step, *answer, target, dns::RRType::mx);
    if (const auto settled = settle_main_lookup(*answer, info, target, dns::RRType::mx)) {
      co_return *settled;
    }
    if (answer->mx.size() > ctx.options.limits.mx_names) {
      co_return fail_with(SpfResult::permerror, "spf.too_many_mx",
                          fmt::format("'{}': {} has {} MX records; SPF allows at most {}", term.text, target,
                                      answer->mx.size(), ctx.options.limits.mx_names));
    }
    for (const auto& mx : answer->mx) {
      if (mx.exchange.empty() || !is_queryable(mx.exchange)) {
        continue; // a null MX (".") names no host
      }
      const auto hosts = co_await ask(ctx, mx.exchange, address_type);
      LookupInfo* const host_info = note_lookup(ctx, step, *hosts, mx.exchange, address_type);
      if (dns::is_failure(hosts->status)) {
        error = error_decision(SpfResult::temperror, "spf.dns_failure",
                               fmt::format("the DNS lookup of MX host {} for '{}' failed: {}", mx.exchange,
                                           term.text, describe(*host_info)),
                               domain, parsed, &term);
        error.detail->dns_failure = *host_info;
        co_return Match::error;
      }
      if (client_in_any(ctx, hosts->addresses, prefix)) {
        co_return Match::yes;
      }
    }
    co_return Match::no;
  }

  // ptr (RFC 7208 §5.5): PTR names of the client, at most 10, validated by a forward lookup, ending in the target.
  tell_all_apart(ctx); // the lookups themselves depend on the address
  const auto reverse = ip.reverse_name();
  const auto answer = co_await ask(ctx, reverse, dns::RRType::ptr);
  LookupInfo* const info = note_lookup(ctx, step, *answer, reverse, dns::RRType::ptr);
  if (dns::is_failure(answer->status)) {
    step.note = "no match: the PTR lookup failed";
    co_return Match::no;
  }
  if (dns::is_absent(answer->status)) {
    if (count_void(ctx, info)) {
      co_return fail_with(SpfResult::permerror, "spf.void_lookups",
                          fmt::format("more than {} lookups found nothing (the last was {} PTR)",
                                      ctx.options.limits.void_lookups, reverse));
    }
    co_return Match::no;
  }
  const size_t count = std::min<size_t>(answer->names.size(), ctx.options.limits.ptr_names);
  for (size_t i = 0; i < count; ++i) {
    const auto& name = answer->names[i];
    if (!ends_with_domain(name, target) || !is_queryable(name)) {
      continue;
    }
    const auto hosts = co_await ask(ctx, name, address_type);
    note_lookup(ctx, step, *hosts, name, address_type);
    if (hosts->status != dns::Status::ok) {
      continue; // RFC 7208 §5.5: a DNS error skips the name
    }
    if (std::find(hosts->addresses.begin(), hosts->addresses.end(), ip) != hosts->addresses.end()) {
      co_return Match::yes;
    }
  }
  co_return Match::no;
}

util::Task<Decision>
evaluate_domain(Context& ctx, std::string_view domain, unsigned depth, Role role, WantExplanation want_explanation)
{
  auto& evaluation = ctx.evaluation;
  const std::string_view saved_domain = ctx.domain; // the caller's, which it keeps while awaiting this
  ctx.domain = domain;

  TraceStep fetch;
  fetch.kind = StepKind::record;
  fetch.depth = depth;
  if (ctx.tracing()) {
    fetch.domain = domain;
  }
  const auto answer = co_await ask(ctx, domain, dns::RRType::txt);
  LookupInfo* const fetch_info = note_lookup(ctx, fetch, *answer, domain, dns::RRType::txt);
  const SpfTxt selection = find_spf_record(*answer);

  Decision decision; // its domain is set where it is returned
  std::string joined;          // the record's text when it is split into several strings
  std::string_view record_text; // the record's text, in the answer or in `joined`
  switch (selection.status) {
  case SelectionStatus::dns_failure:
    decision = error_decision(SpfResult::temperror, "spf.dns_failure",
                              fmt::format("the SPF record of {} could not be fetched: {}", domain,
                                          describe(*fetch_info)),
                              domain, {}, nullptr);
    decision.detail->dns_failure = *fetch_info;
    break;
  case SelectionStatus::none:
    if (role == Role::top) {
      decision = error_decision(SpfResult::none, "spf.no_record",
                                fmt::format("{} publishes no SPF record", domain), domain, {}, nullptr);
    } else {
      decision = error_decision(
        SpfResult::permerror, role == Role::include ? "spf.include_no_record" : "spf.redirect_no_record",
        fmt::format("{} has no SPF record, but it is named by {}", domain,
                    role == Role::include ? "include:" : "redirect="),
        domain, {}, nullptr);
    }
    break;
  case SelectionStatus::multiple:
    decision = error_decision(SpfResult::permerror, "spf.multiple_records",
                              fmt::format("{} has {} SPF records; a domain must publish exactly one", domain,
                                          selection.count),
                              domain, {}, nullptr);
    break;
  case SelectionStatus::one:
    record_text = selection.text(joined);
    break;
  }
  if (ctx.tracing()) {
    fetch.term = std::string(record_text);
  }
  if (selection.status != SelectionStatus::one) {
    fetch.result = decision.result;
    fetch.note = decision.reason();
    ctx.record(std::move(fetch));
    ctx.domain = saved_domain;
    co_return decision;
  }

  using Parsed = util::Result<Record, ParseError>;
  const RecordCache::Entry parsed = ctx.options.cache ? ctx.options.cache->parse(record_text)
                                                      : std::make_shared<const Parsed>(parse_record(record_text));
  if (!parsed->has_value()) {
    decision = error_decision(SpfResult::permerror, "spf.syntax",
                              fmt::format("the SPF record of {} has a syntax error: {}", domain,
                                          parsed->error().message),
                              domain, nullptr, nullptr);
    decision.detail->unparsed_record = std::make_shared<const std::string>(record_text);
    decision.detail->parse_error = parsed->error();
    fetch.result = decision.result;
    fetch.note = decision.reason();
    ctx.record(std::move(fetch));
    ctx.domain = saved_domain;
    co_return decision;
  }
  ctx.record(std::move(fetch));
  const Record& record = parsed->value();
  if (ctx.options.prefetch == Prefetch::on) {
    prefetch_targets(ctx, record, depth);
  }

  // A mechanism's error, filled only on Match::error, which ends the loop: one for all terms, not one made and
  // destroyed for each.
  Decision error;
  // The step of the current term. Without a trace nothing reads it after its term (a failed lookup noted in it goes
  // into the error at once), so one serves all terms; a trace gets a fresh one for each.
  TraceStep step;
  for (const auto& term : record.terms) {
    if (term.kind != TermKind::mechanism) {
      continue;
    }
    if (term.counts_toward_limit()) {
      ++evaluation.dns_terms;
      if (evaluation.dns_terms > ctx.options.limits.dns_terms) {
        TraceStep limit;
        limit.kind = StepKind::limit;
        limit.depth = depth;
        limit.domain = domain;
        limit.term = term.text;
        limit.result = SpfResult::permerror;
        limit.note = fmt::format("more than {} DNS-querying terms", ctx.options.limits.dns_terms);
        ctx.record(std::move(limit));
        ctx.domain = saved_domain;
        co_return error_decision(SpfResult::permerror, "spf.too_many_lookups",
                                 fmt::format("the policy needs more than {} DNS lookups (include, a, mx, ptr, "
                                             "exists, redirect); '{}' in {}'s record is one too many",
                                             ctx.options.limits.dns_terms, term.text, domain),
                                 domain, parsed, &term);
      }
    }
    const size_t step_index = evaluation.trace.size();
    if (ctx.tracing()) {
      step = TraceStep{};
      step.kind = StepKind::term;
      step.depth = depth;
      step.domain = domain;
      step.term = term.text;
      evaluation.trace.push_back(step); // a placeholder, so that nested steps (an include's record) come after it
    }
    // Fills the placeholder in place.
    const auto finish_step = [&ctx, &step, step_index] {
      if (ctx.tracing()) {
        ctx.evaluation.trace[step_index] = std::move(step);
      }
    };
    // all, ip4 and ip6 (most terms) are decided here, without the coroutine frame of evaluate_mechanism.
    Match match = Match::no;
    if (const auto quick = match_without_dns(ctx, term)) {
      match = *quick;
    } else {
      match = co_await evaluate_mechanism(ctx, term, domain, parsed, depth, step, error);
    }
    if (match == Match::error) {
      step.result = error.result;
      if (step.note.empty()) {
        step.note = error.reason();
      }
      finish_step();
      ctx.domain = saved_domain;
      co_return error;
    }
    step.matched = match == Match::yes;
    if (match == Match::no) {
      finish_step();
      continue;
    }
    const SpfResult result = result_of(term.qualifier);
    step.result = result;
    finish_step();
    decision.result = result;
    decision.term = &term;
    decision.parsed = parsed;
    if (result == SpfResult::fail && want_explanation == WantExplanation::yes) {
      if (const Term* exp = record.exp()) {
        TraceStep exp_step;
        exp_step.kind = StepKind::exp;
        exp_step.depth = depth;
        exp_step.domain = domain;
        exp_step.term = exp->text;
        std::string explanation = co_await explanation_for(ctx, *exp, exp_step);
        if (!explanation.empty()) {
          decision.detail = std::make_shared<DecisionDetail>();
          decision.detail->explanation = std::move(explanation);
        }
        ctx.record(std::move(exp_step));
      }
    }
    ctx.domain = saved_domain;
    decision.domain = domain;
    co_return decision;
  }

  const Term* redirect = record.redirect();
  if (redirect && !record.all()) {
    ++evaluation.dns_terms;
    TraceStep redirect_step;
    redirect_step.kind = StepKind::redirect;
    redirect_step.depth = depth;
    redirect_step.domain = domain;
    redirect_step.term = redirect->text;
    if (evaluation.dns_terms > ctx.options.limits.dns_terms) {
      redirect_step.kind = StepKind::limit;
      redirect_step.result = SpfResult::permerror;
      redirect_step.note = fmt::format("more than {} DNS-querying terms", ctx.options.limits.dns_terms);
      ctx.record(std::move(redirect_step));
      ctx.domain = saved_domain;
      co_return error_decision(SpfResult::permerror, "spf.too_many_lookups",
                               fmt::format("the policy needs more than {} DNS lookups (include, a, mx, ptr, exists, "
                                           "redirect); '{}' in {}'s record is one too many",
                                           ctx.options.limits.dns_terms, redirect->text, domain),
                               domain, parsed, redirect);
    }
    if (prepare_target(ctx, *redirect->domain_spec)) {
      co_await ensure_ptr(ctx);
    }
    std::string expanded;
    const std::string& target = target_of(ctx, *redirect->domain_spec, expanded);
    redirect_step.target = target;
    if (!target_is_queryable(*redirect->domain_spec, target)) {
      redirect_step.result = SpfResult::permerror;
      ctx.record(std::move(redirect_step));
      ctx.domain = saved_domain;
      co_return error_decision(SpfResult::permerror, "spf.invalid_domain",
                               fmt::format("'{}' names '{}', which is not a valid domain name", redirect->text,
                                           util::escape_for_display(target)),
                               domain, parsed, redirect);
    }
    ctx.record(std::move(redirect_step));
    Decision inner = co_await evaluate_target(ctx, target, depth + 1, Role::redirect, want_explanation);
    ctx.domain = saved_domain;
    co_return inner;
  }

  decision.result = SpfResult::neutral;
  decision.parsed = parsed;
  ctx.domain = saved_domain;
  decision.domain = domain;
  co_return decision;
}

} // namespace

std::string_view
to_string(SpfResult result)
{
  switch (result) {
  case SpfResult::none:
    return "none";
  case SpfResult::neutral:
    return "neutral";
  case SpfResult::pass:
    return "pass";
  case SpfResult::fail:
    return "fail";
  case SpfResult::softfail:
    return "softfail";
  case SpfResult::temperror:
    return "temperror";
  case SpfResult::permerror:
    return "permerror";
  }
  return "none";
}

SpfResult
result_of(Qualifier qualifier)
{
  switch (qualifier) {
  case Qualifier::pass:
    return SpfResult::pass;
  case Qualifier::fail:
    return SpfResult::fail;
  case Qualifier::softfail:
    return SpfResult::softfail;
  case Qualifier::neutral:
    return SpfResult::neutral;
  }
  return SpfResult::neutral;
}

SenderParts
split_sender(std::string_view sender, std::string_view helo)
{
  SenderParts parts;
  if (sender.empty()) {
    parts.local = "postmaster";
    parts.domain = std::string(helo);
    return parts;
  }
  const size_t at = sender.rfind('@');
  if (at == std::string_view::npos) {
    parts.local = "postmaster";
    parts.domain = std::string(sender);
    return parts;
  }
  parts.local = at == 0 ? std::string("postmaster") : std::string(sender.substr(0, at));
  parts.domain = std::string(sender.substr(at + 1));
  return parts;
}

bool
is_valid_domain(std::string_view domain)
{
  if (domain.empty() || domain.front() == '[' || !is_queryable(domain)) {
    return false;
  }
  if (domain.back() == '.') {
    domain.remove_suffix(1);
  }
  return domain.find('.') != std::string_view::npos;
}

namespace {

/// check_host()'s <domain> as evaluated: without one trailing dot.
std::string_view
without_trailing_dot(std::string_view domain)
{
  if (!domain.empty() && domain.back() == '.') {
    domain.remove_suffix(1);
  }
  return domain;
}

/// The evaluation of a <domain> that is not a valid domain name (!is_valid_domain), the same for every client.
Evaluation
invalid_domain_evaluation(std::string_view domain)
{
  Evaluation evaluation;
  evaluation.result = SpfResult::none;
  evaluation.error_code = "spf.invalid_domain";
  evaluation.reason = fmt::format("'{}' is not a valid domain name, so it can have no SPF record",
                                  util::escape_for_display(domain));
  evaluation.deciding_domain = std::string(domain);
  return evaluation;
}

/// check_host() for `ip`, standing also for `peers` (addresses of its family, at most 32; null: none), of a valid
/// `domain` (is_valid_domain, see without_trailing_dot), made in `evaluation` (default-constructed). Gives which of
/// the peers it is not the evaluation of (Context::apart). `domain`, `sender`, `options` and `evaluation` are the
/// caller's, which awaits this evaluation to its end.
util::Task<uint32_t>
evaluate_client(dns::Resolver& resolver, dns::IpAddress ip, std::string_view domain, std::string_view sender,
                const Options& options, Peers peers, Evaluation& evaluation)
{
  Context ctx{resolver, options, {}, evaluation, std::nullopt, nullptr, 0, nullptr, std::move(peers), 0, sender,
              false, domain};
  if (ctx.options.memo && !ctx.tracing()) {
    ctx.memo = &ctx.options.memo->impl();
  }
  ctx.macro.ip = ip.mapped_v4().value_or(ip);

  Decision decision = co_await evaluate_domain(ctx, domain, 0, Role::top, WantExplanation::yes);
  evaluation.result = decision.result;
  if (decision.term != nullptr) {
    evaluation.deciding_term = std::shared_ptr<const Term>(decision.parsed, decision.term);
  }
  evaluation.deciding_domain = std::move(decision.domain);
  evaluation.deciding_record = decision.record();
  if (decision.detail) {
    // Moved out when nothing else holds it (no memo entry of an include or redirect= target shares it).
    DecisionDetail copy;
    DecisionDetail& detail = decision.detail.use_count() == 1 ? *decision.detail : copy = *decision.detail;
    evaluation.reason = std::move(detail.reason);
    evaluation.error_code = std::move(detail.code);
    evaluation.dns_failure = std::move(detail.dns_failure);
    evaluation.parse_error = std::move(detail.parse_error);
    evaluation.explanation = std::move(detail.explanation);
  }
  if (evaluation.result == SpfResult::fail && evaluation.explanation.empty()) {
    evaluation.explanation = ctx.options.default_explanation;
  }
  co_return ctx.apart;
}

} // namespace

util::Task<Evaluation>
check_host(dns::Resolver& resolver, dns::IpAddress ip, std::string domain, std::string sender, Options options)
{
  const std::string_view checked = without_trailing_dot(domain);
  if (!is_valid_domain(checked)) {
    co_return invalid_domain_evaluation(checked);
  }
  Evaluation evaluation;
  co_await evaluate_client(resolver, ip, checked, sender, options, {}, evaluation);
  co_return evaluation;
}

util::Task<std::vector<std::shared_ptr<const Evaluation>>>
check_hosts(dns::Resolver& resolver, std::vector<dns::IpAddress> ips, std::string domain, std::string sender,
            Options options)
{
  // The domain is checked once for all the addresses: an invalid one gives every address the same evaluation.
  const std::string_view checked = without_trailing_dot(domain);
  if (!is_valid_domain(checked)) {
    co_return std::vector<std::shared_ptr<const Evaluation>>(
      ips.size(), std::make_shared<const Evaluation>(invalid_domain_evaluation(checked)));
  }
  std::vector<std::shared_ptr<const Evaluation>> evaluations(ips.size());
  std::vector<bool> found(ips.size(), false);
  for (size_t first = 0; first < ips.size(); ++first) {
    if (found[first]) {
      continue;
    }
    // The addresses still without an evaluation, of the client's family, ride along as its peers.
    const auto family = ips[first].mapped_v4().value_or(ips[first]).family();
    std::array<size_t, 32> peer_indexes{}; // where each peer is in `ips` (at most 32 peers: Context::apart's bits)
    size_t peer_count = 0;
    for (size_t other = first + 1; other < ips.size() && peer_count < peer_indexes.size(); ++other) {
      if (!found[other] && ips[other].mapped_v4().value_or(ips[other]).family() == family) {
        peer_indexes[peer_count++] = other;
      }
    }
    // Made only when there are peers (an address evaluated alone, often the bulk one, needs none). A named local, not
    // a conditional expression among the co_await's arguments: with that, the program built by GCC 12 crashed here
    // (GCC has known bugs with temporaries in co_await expressions).
    Peers shared;
    if (peer_count > 0) {
      auto peers = std::make_shared<std::vector<dns::IpAddress>>();
      peers->reserve(peer_count);
      for (size_t i = 0; i < peer_count; ++i) {
        const auto& address = ips[peer_indexes[i]];
        peers->push_back(address.mapped_v4().value_or(address));
      }
      shared = std::move(peers);
    }
    // Made in place, then shared by the peers it stands for (no copy of its strings).
    auto evaluation = std::make_shared<Evaluation>();
    const uint32_t apart = co_await evaluate_client(resolver, ips[first], checked, sender, options, shared, *evaluation);
    for (size_t i = 0; i < peer_count; ++i) {
      if ((apart & (uint32_t{ 1 } << i)) == 0) {
        evaluations[peer_indexes[i]] = evaluation;
        found[peer_indexes[i]] = true;
      }
    }
    evaluations[first] = std::move(evaluation);
    found[first] = true;
  }
  co_return evaluations;
}

} // namespace sendcheck::spf
