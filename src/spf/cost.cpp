#include <sendcheck/spf/cost.hpp>

#include <sendcheck/util/string_hash.hpp>
#include <sendcheck/util/strings.hpp>

#include "ask.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sendcheck::spf {

namespace {

constexpr unsigned k_max_depth = 20;

/// Whether a lookup made by a term found nothing (a void lookup).
bool
is_void(const dns::Answer& answer)
{
  return dns::is_absent(answer.status);
}

/// Takes the record of `node.domain` from its TXT `answer` into `node.record`, or the reason there is none; fills
/// `node.selection` and `node.errors`.
void
take_record(const dns::Answer& answer, CostNode& node)
{
  const std::string& domain = node.domain;
  Selection selection = select_record(answer);
  node.selection = selection.status;
  switch (selection.status) {
  case SelectionStatus::one:
    node.record = std::move(selection.record);
    return;
  case SelectionStatus::none:
    node.errors.push_back(fmt::format("{} has no SPF record", domain));
    break;
  case SelectionStatus::multiple:
    node.errors.push_back(
      fmt::format("{} has {} SPF records; a domain must publish exactly one", domain, selection.records.size()));
    break;
  case SelectionStatus::dns_failure:
    node.errors.push_back(fmt::format("the SPF record of {} could not be fetched ({}{})", domain,
                                      dns::to_string(answer.status),
                                      answer.server.empty() ? std::string() : " from " + answer.server));
    break;
  }
}

/// One subtree kept by a CostMemo.
struct CostMemoEntry
{
  /// The subtree, shared with the trees it was walked in and reused in.
  std::shared_ptr<const CostNode> node;
  /// Limits::mx_names it was walked with (the walk's only limit: it decides too_many_mx and mx_host_lookups).
  unsigned mx_names = 0;
  /// Levels of children below `node` (0: none): its deepest include is walked at the entry's depth + `height`.
  unsigned height = 0;
  /// Every domain in the subtree, `node.domain` included; sorted, without repeats.
  std::vector<std::string> domains;
};

/// The levels of children below `node`.
unsigned
height_of(const CostNode& node)
{
  unsigned height = 0;
  for (const auto& child : node.children) {
    height = std::max(height, 1 + height_of(*child.node));
  }
  return height;
}

/// Adds the domain of `node` and of every node below it to `out`.
void
collect_domains(const CostNode& node, std::vector<std::string>& out)
{
  out.push_back(node.domain);
  for (const auto& child : node.children) {
    collect_domains(*child.node, out);
  }
}

} // namespace

/// The entries of a CostMemo.
struct CostMemo::Impl
{
  size_t capacity = 1;
  mutable std::mutex mutex;
  /// Found by a view of the target's name, so that a lookup copies nothing.
  std::unordered_map<std::string, std::shared_ptr<const CostMemoEntry>, util::StringHash, std::equal_to<>> entries;
  CostMemoStats stats;

  /// The subtree of `domain` for a walk that would take it at `depth` below `path` (the domains from the root down
  /// to the including record) with `mx_names`; null (walk it) when there is none, or when a walk there could go
  /// otherwise: a domain of the subtree on `path` would be a loop, and an include at the depth cap is not walked.
  std::shared_ptr<const CostMemoEntry> find(std::string_view domain, unsigned mx_names, unsigned depth,
                                            const std::vector<std::string_view>& path)
  {
    const std::lock_guard lock(mutex);
    const auto found = entries.find(domain);
    if (found == entries.end() || found->second->mx_names != mx_names) {
      ++stats.misses;
      return nullptr;
    }
    const CostMemoEntry& entry = *found->second;
    const bool reaches_cap = depth + entry.height >= k_max_depth;
    const bool meets_path = std::any_of(path.begin(), path.end(), [&entry](std::string_view step) {
      return std::binary_search(entry.domains.begin(), entry.domains.end(), step);
    });
    if (reaches_cap || meets_path) {
      ++stats.unusable;
      return nullptr;
    }
    ++stats.hits;
    return found->second;
  }

  /// Stores `node` (walked with `mx_names`; shared, not copied), replacing an entry of the same domain; empties the
  /// memo first when full.
  void store(std::shared_ptr<const CostNode> node, unsigned mx_names)
  {
    auto entry = std::make_shared<CostMemoEntry>();
    entry->mx_names = mx_names;
    entry->height = height_of(*node);
    collect_domains(*node, entry->domains);
    std::sort(entry->domains.begin(), entry->domains.end());
    entry->domains.erase(std::unique(entry->domains.begin(), entry->domains.end()), entry->domains.end());

    const std::string& domain = node->domain;
    entry->node = std::move(node);

    const std::lock_guard lock(mutex);
    if (entries.size() >= capacity && entries.find(domain) == entries.end()) {
      entries.clear();
      ++stats.clears;
    }
    entries.insert_or_assign(domain, std::move(entry));
    ++stats.stored;
  }

  /// Counts a walked subtree that could not be stored.
  void count_not_stored()
  {
    const std::lock_guard lock(mutex);
    ++stats.not_stored;
  }
};

CostMemo::CostMemo(size_t capacity) : m_impl(std::make_unique<Impl>())
{
  m_impl->capacity = std::max<size_t>(capacity, 1);
}

CostMemo::~CostMemo() = default;

size_t
CostMemo::size() const
{
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->entries.size();
}

CostMemoStats
CostMemo::stats() const
{
  const std::lock_guard lock(m_impl->mutex);
  return m_impl->stats;
}

namespace {

/// The state of one analyze_cost() walk.
struct Walk
{
  dns::Resolver& resolver;
  const CostOptions& options;
  /// The memo of subtrees; null when off.
  CostMemo::Impl* memo;
  /// The domains from the root down to the record being walked: views of their nodes' `domain`, which live while
  /// they are walked.
  std::vector<std::string_view> path;
  /// Each loop found so far.
  std::vector<std::string> loops;
  /// Includes not walked because of the depth cap, so far.
  unsigned capped = 0;
  /// DNS failures (timeouts, SERVFAIL...) seen so far.
  unsigned failures = 0;
  /// The root record's parse result, when it has one that can be kept (CostReport::parsed).
  RecordCache::Entry root_parsed;
};

/// `answer`, counted in `state.failures` when it is a DNS failure.
const dns::Answer&
noted(Walk& state, const dns::Answer& answer)
{
  if (dns::is_failure(answer.status)) {
    ++state.failures;
  }
  return answer;
}

util::Task<void>
walk(Walk& state, CostNode& node, unsigned depth)
{
  if (depth > 0 || !state.options.record_override) { // a given root record is in the root already (analyze_cost)
    const auto answer = co_await detail::ask(state.resolver, node.domain, dns::RRType::txt);
    take_record(noted(state, *answer), node);
  }
  if (node.selection != SelectionStatus::one) {
    co_return;
  }
  const std::string& text = node.record;

  RecordCache::Entry cached;
  std::optional<util::Result<Record, ParseError>> local;
  const util::Result<Record, ParseError>* parsed = nullptr;
  if (depth == 0 && state.options.record_override && state.options.record_parsed) {
    cached = state.options.record_parsed;
  } else if (state.options.cache) {
    cached = state.options.cache->parse(text);
  }
  if (cached) {
    parsed = cached.get();
  } else {
    local.emplace(parse_record(text));
    parsed = &*local;
  }
  if (depth == 0) {
    state.root_parsed = cached;
  }
  if (!parsed->has_value()) {
    node.parse_error = parsed->error();
    node.errors.push_back(fmt::format("the SPF record of {} has a syntax error: {}", node.domain,
                                      parsed->error().message));
    co_return;
  }
  const Record& record = parsed->value();
  const bool has_all = record.all() != nullptr;

  // Terms to look at, with their targets known without macros: views of the parsed record's fixed targets (or of
  // `node.domain`), or, for a domain-spec built without one, of its expansion in `expansions`.
  struct Target
  {
    const Term* term;
    std::string_view name;
  };
  std::vector<Target> targets;
  std::vector<std::string> expansions; // reserved for every term before the first is added: the views stay valid
  for (const auto& term : record.terms) {
    const bool is_redirect = term.kind == TermKind::modifier && term.modifier == ModifierKind::redirect;
    if (term.kind == TermKind::modifier && !is_redirect) {
      continue;
    }
    if (is_redirect && has_all) {
      continue; // ignored by evaluators, costs nothing
    }
    if (!term.counts_toward_limit()) {
      continue;
    }
    ++node.own_terms;
    if (term.kind == TermKind::mechanism && term.mechanism == MechanismKind::ptr) {
      node.ptr_terms.push_back(term.text);
      continue;
    }
    if (term.domain_spec && term.domain_spec->has_macros()) {
      node.macro_terms.push_back(term.text);
      continue;
    }
    if (!term.domain_spec) {
      targets.push_back({&term, node.domain});
    } else if (term.domain_spec->fixed_target) {
      targets.push_back({&term, term.domain_spec->fixed_target->name});
    } else {
      expansions.reserve(record.terms.size());
      targets.push_back({&term, expansions.emplace_back(fixed_expansion(*term.domain_spec))});
    }
  }

  // Hint every lookup first so that a network resolver sends them together; all but the first, which is asked at
  // once below (a hint for it would only be one more trip through the resolver).
  for (const auto& target : std::span(targets).subspan(std::min<size_t>(targets.size(), 1))) {
    const bool is_tree = target.term->kind == TermKind::modifier || target.term->mechanism == MechanismKind::include;
    const auto type = is_tree ? dns::RRType::txt
                              : (target.term->mechanism == MechanismKind::mx ? dns::RRType::mx : dns::RRType::a);
    state.resolver.prefetch(target.name, type);
  }

  for (const auto& target : targets) {
    const Term& term = *target.term;
    const bool is_tree = term.kind == TermKind::modifier || term.mechanism == MechanismKind::include;
    if (is_tree) {
      std::string normalized;
      const std::string_view domain = util::normalize_name(target.name, normalized);
      const bool loop = std::find(state.path.begin(), state.path.end(), domain) != state.path.end();
      const bool capped = !loop && depth + 1 >= k_max_depth;
      const auto entry = loop || capped || !state.memo
                           ? nullptr
                           : state.memo->find(domain, state.options.limits.mx_names, depth + 1, state.path);
      if (entry) {
        // Walked before elsewhere, and a walk here would go the same way (see CostMemo): the subtree is shared, only
        // `via` is this term's. Its prefetch hints and queries are skipped; their answers are in the cache already.
        node.children.emplace_back(term.text, entry->node);
        continue;
      }
      // Made on its own, so that the memo can share it; added to `node.children` once walked (record order still,
      // since the children are walked one after another).
      auto shared = std::make_shared<CostNode>();
      CostNode& child = *shared;
      child.domain = domain;
      if (loop) {
        child.loop = true;
        std::string path;
        for (const auto& step : state.path) {
          path.append(step).append(" -> ");
        }
        state.loops.push_back(path + child.domain);
        child.errors.push_back(fmt::format("{} leads back to {}, which is already being evaluated (a loop)",
                                           term.text, child.domain));
      } else if (capped) {
        ++state.capped;
        child.errors.push_back("includes nest too deeply to analyse");
      } else {
        const size_t loops_before = state.loops.size();
        const unsigned capped_before = state.capped;
        const unsigned failures_before = state.failures;
        state.path.push_back(child.domain);
        co_await walk(state, child, depth + 1);
        state.path.pop_back();
        // A child is walked from DNS (only the root's record can be a --record candidate): stored unless a loop, the
        // depth cap or a DNS failure inside it shaped it (see CostMemo).
        if (state.memo) {
          if (state.loops.size() == loops_before && state.capped == capped_before
              && state.failures == failures_before) {
            state.memo->store(shared, state.options.limits.mx_names);
          } else {
            state.memo->count_not_stored();
          }
        }
      }
      node.children.emplace_back(term.text, std::move(shared));
      continue;
    }
    if (term.mechanism == MechanismKind::mx) {
      const auto answer = co_await detail::ask(state.resolver, target.name, dns::RRType::mx);
      noted(state, *answer);
      if (is_void(*answer)) {
        ++node.own_void_lookups;
      } else if (answer->status == dns::Status::ok) {
        if (answer->mx.size() > state.options.limits.mx_names) {
          node.too_many_mx.push_back(term.text);
          node.errors.push_back(fmt::format("'{}': {} has {} MX records; SPF allows at most {}", term.text,
                                            target.name, answer->mx.size(), state.options.limits.mx_names));
        }
        node.mx_host_lookups +=
          static_cast<unsigned>(std::min<size_t>(answer->mx.size(), state.options.limits.mx_names));
      } else {
        node.errors.push_back(fmt::format("the MX lookup of {} for '{}' failed ({})", target.name, term.text,
                                          dns::to_string(answer->status)));
      }
      continue;
    }
    // a and exists: one address lookup (A; the cost is the same for AAAA).
    const auto answer = co_await detail::ask(state.resolver, target.name, dns::RRType::a);
    noted(state, *answer);
    if (is_void(*answer)) {
      if (term.mechanism == MechanismKind::a) {
        // The name may have only AAAA records, which IPv6 clients would use.
        const auto v6 = co_await detail::ask(state.resolver, target.name, dns::RRType::aaaa);
        if (is_void(noted(state, *v6))) {
          ++node.own_void_lookups;
        }
      } else {
        ++node.own_void_lookups;
      }
    } else if (answer->status != dns::Status::ok) {
      node.errors.push_back(fmt::format("the address lookup of {} for '{}' failed ({})", target.name, term.text,
                                        dns::to_string(answer->status)));
    }
  }

  node.subtree_terms = node.own_terms;
  for (const auto& child : node.children) {
    node.subtree_terms += child.node->subtree_terms;
  }
}

void
sum_tree(const CostNode& node, CostReport& report)
{
  report.void_lookups += node.own_void_lookups;
  report.mx_host_lookups += node.mx_host_lookups;
  for (const auto& child : node.children) {
    sum_tree(*child.node, report);
  }
}

void
collect_includes(const CostNode& node, std::vector<const CostChild*>& out)
{
  for (const auto& child : node.children) {
    out.push_back(&child);
    collect_includes(*child.node, out);
  }
}

} // namespace

util::Task<CostReport>
analyze_cost(dns::Resolver& resolver, std::string domain, CostOptions options)
{
  CostReport report;
  report.limits = options.limits;
  // Moved when it is normalized already (the usual case: the CLI normalizes every name it checks).
  report.root.domain = util::is_normalized_name(domain) ? std::move(domain) : util::normalize_name(domain);
  if (options.record_override) {
    report.root.record = std::move(*options.record_override); // moved, not copied: the walk reads only the root's
    report.root.selection = SelectionStatus::one;
  }
  Walk state{resolver, options, options.memo ? &options.memo->impl() : nullptr, {report.root.domain}, {}, 0, 0, {}};
  co_await walk(state, report.root, 0);
  report.total_terms = report.root.subtree_terms;
  sum_tree(report.root, report);
  report.loops = std::move(state.loops);
  report.parsed = std::move(state.root_parsed);
  co_return report;
}

std::vector<const CostChild*>
most_costly_includes(const CostReport& report, size_t count)
{
  std::vector<const CostChild*> all;
  collect_includes(report.root, all);
  std::stable_sort(all.begin(), all.end(), [](const CostChild* a, const CostChild* b) {
    return a->node->subtree_terms > b->node->subtree_terms;
  });
  if (all.size() > count) {
    all.resize(count);
  }
  return all;
}

} // namespace sendcheck::spf
