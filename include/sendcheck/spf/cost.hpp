#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/util/task.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Static cost of an SPF policy: the whole include/redirect tree walked independent of any client IP, to tell how
// many of the 10 DNS-querying terms (and of the 2 void lookups) the policy spends in the worst case and which
// include spends them.

namespace sendcheck::spf {

struct CostNode;

/// An include: or redirect= of a record in the cost tree: the term, and the record it leads to.
struct CostChild
{
  /// The edge of the term `via_term` to `child` (clang 14, the fuzz build, lacks parenthesized aggregate
  /// initialization).
  CostChild(std::string via_term, std::shared_ptr<const CostNode> child)
    : via(std::move(via_term)), node(std::move(child))
  {
  }

  /// The include or redirect term's text. Kept here, not in the node, so that the node can be shared.
  std::string via;
  /// The record it leads to; never null. A subtree taken from a CostMemo is shared with the
  /// memo and with every other tree that reuses it (a provider's include, in the tree of each domain including it),
  /// so it is read through the pointer and never changed.
  std::shared_ptr<const CostNode> node;
};

/// One domain's record in the cost tree.
struct CostNode
{
  /// The domain whose record this is.
  std::string domain;
  /// The selected record text (empty when there is none or it could not be fetched).
  std::string record;
  /// How the record selection went.
  SelectionStatus selection = SelectionStatus::none;
  /// DNS-querying terms in this record itself (include a mx ptr exists redirect; redirect only when no `all`).
  unsigned own_terms = 0;
  /// Void lookups caused by this record's own terms: mx and exists targets without data, a targets with neither A
  /// nor AAAA (only targets known without macros are looked up; an include without a record is an error instead).
  unsigned own_void_lookups = 0;
  /// `own_terms` plus the `subtree_terms` of every child.
  unsigned subtree_terms = 0;
  /// A/AAAA lookups of MX hosts made by this record's `mx` terms: reported separately, not counted toward the 10.
  unsigned mx_host_lookups = 0;
  /// Terms whose target has macros, so their cost below this point is unknown.
  std::vector<std::string> macro_terms;
  /// `mx` terms whose target has more than 10 MX records (a permerror whenever the term is reached).
  std::vector<std::string> too_many_mx;
  /// `ptr` terms (deprecated; their lookups depend on the client address and are not counted here).
  std::vector<std::string> ptr_terms;
  /// The parse error of `record`, when it does not parse.
  std::optional<ParseError> parse_error;
  /// Problems met at this node, in plain English (syntax error, multiple records, DNS failure, include without
  /// record).
  std::vector<std::string> errors;
  /// Whether this node's domain is already on the path from the root (an include/redirect loop; not descended).
  bool loop = false;
  /// The includes and the redirect of this record, in record order.
  std::vector<CostChild> children;
};

/// The cost of a whole policy.
struct CostReport
{
  /// The checked domain's node, with the tree below it.
  CostNode root;
  /// DNS-querying terms in the whole tree (the worst case for any IP, since evaluation may stop early).
  unsigned total_terms = 0;
  /// Void lookups in the whole tree.
  unsigned void_lookups = 0;
  /// MX host address lookups in the whole tree (not counted toward the 10).
  unsigned mx_host_lookups = 0;
  /// Each loop found, as "a.example -> b.example -> a.example".
  std::vector<std::string> loops;
  /// The limits the totals are compared with.
  Limits limits;
  /// The parse result of `root.record` when it went through a RecordCache or was handed in (CostOptions), so that
  /// later readers of the record need not parse it again; null otherwise.
  RecordCache::Entry parsed;

  /// Whether `total_terms` exceeds the limit.
  bool over_term_limit() const { return total_terms > limits.dns_terms; }
  /// Whether `void_lookups` exceeds the limit.
  bool over_void_limit() const { return void_lookups > limits.void_lookups; }
};

class CostMemo;

/// How to analyse.
struct CostOptions
{
  Limits limits;
  /// When set, used as the root domain's record instead of fetching it: a `--record` candidate, or the published
  /// record that the caller has fetched already (lint_domain), so that it is not asked for again.
  std::optional<std::string> record_override;
  /// The parse result of `record_override` when the caller has it (null: parsed here), so that the record is not
  /// looked up in `cache` again. It must be the result for exactly that text.
  RecordCache::Entry record_parsed;
  /// Shared parse cache; may be null.
  std::shared_ptr<RecordCache> cache;
  /// Shared memo of walked include/redirect subtrees (see CostMemo); null: off. Never changes any field of the
  /// report. Share one memo only among analyses that see the same DNS (one resolver).
  std::shared_ptr<CostMemo> memo;
};

/// Counters of a CostMemo, for tests and benchmarks.
struct CostMemoStats
{
  size_t hits = 0;       ///< Subtrees taken from the memo instead of walked.
  size_t misses = 0;     ///< Subtrees not in the memo (walked).
  size_t unusable = 0;   ///< Found, but walked anyway: a domain in it is on the path, or it would reach the depth cap.
  size_t stored = 0;     ///< Subtrees stored.
  size_t not_stored = 0; ///< Walked but not storable: a loop, the depth cap or a DNS failure inside.
  size_t clears = 0;     ///< Times the memo was emptied because it was full.
};

/// A memo of the subtrees analyze_cost() walks below include: and redirect= terms, shared by the analyses of many
/// domains, so that a provider's include tree is walked once, not once per domain that includes it.
///
/// A subtree's CostNode depends on its domain, the DNS answers, Limits::mx_names (the only limit the walk uses) and
/// where it is walked: a domain already on the path from the root becomes a loop node instead of being walked, and
/// no include is walked at the depth cap. So a subtree is stored only when its walk found no loop, did not reach the
/// cap and saw no DNS failure (transient: the answer cache may forget it and ask again), together with its height
/// and the domains in it; and it is reused only where none of those domains is on the path and its deepest include
/// stays above the cap, so that a walk there would go exactly the same way. Only include/redirect targets, fetched
/// from DNS, are stored and reused, never a root (whose record may be a `--record` candidate). An entry is keyed by
/// the target's normalized name and the MX name limit. A reuse shares the stored node (CostChild::node) and adds
/// the including term's `via` beside it.
///
/// Thread-safe. Bounded: when `capacity` entries are held, the memo is emptied (a shared include comes back at its
/// next use). The memo assumes one consistent view of DNS: give each resolver its own.
class CostMemo
{
public:
  /// The default bound on entries: an entry is a subtree, usually a provider's record and its few netblock records.
  static constexpr size_t k_default_capacity = 4096;

  /// A memo holding at most `capacity` entries (at least 1).
  explicit CostMemo(size_t capacity = k_default_capacity);
  /// Frees the entries.
  ~CostMemo();
  /// Not copyable: share it through a std::shared_ptr.
  CostMemo(const CostMemo&) = delete;
  /// Not copyable.
  CostMemo& operator=(const CostMemo&) = delete;

  /// How many entries the memo holds.
  size_t size() const;

  /// The counters so far.
  CostMemoStats stats() const;

  /// The cost walk's side of the memo (defined with it).
  struct Impl;

  /// The cost walk's access to the entries.
  Impl& impl() { return *m_impl; }

private:
  std::unique_ptr<Impl> m_impl;
};

/// Walks the include/redirect tree of `domain` (see CostReport). DNS problems are reported in the nodes, never
/// thrown. Tree depth is bounded (loops are detected by domain).
util::Task<CostReport> analyze_cost(dns::Resolver& resolver, std::string domain, CostOptions options);

/// The includes (and redirects) with the highest subtree cost anywhere in the tree, most costly first (at most
/// `count`).
std::vector<const CostChild*> most_costly_includes(const CostReport& report, size_t count);

} // namespace sendcheck::spf
