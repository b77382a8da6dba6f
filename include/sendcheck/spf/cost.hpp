#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/util/task.hpp>

#include <optional>
#include <string>
#include <vector>

// Static cost of an SPF policy: the whole include/redirect tree walked independent of any client IP, to tell how
// many of the 10 DNS-querying terms (and of the 2 void lookups) the policy spends in the worst case and which
// include spends them.

namespace sendcheck::spf {

/// One domain's record in the cost tree.
struct CostNode
{
  /// The domain whose record this is.
  std::string domain;
  /// How this node was reached: "" for the root, else the include or redirect term's text.
  std::string via;
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
  std::vector<CostNode> children;
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

  /// Whether `total_terms` exceeds the limit.
  bool over_term_limit() const { return total_terms > limits.dns_terms; }
  /// Whether `void_lookups` exceeds the limit.
  bool over_void_limit() const { return void_lookups > limits.void_lookups; }
};

/// How to analyse.
struct CostOptions
{
  Limits limits;
  /// When set, used as the root domain's record instead of the published one (a `--record` candidate).
  std::optional<std::string> record_override;
  /// Shared parse cache; may be null.
  std::shared_ptr<RecordCache> cache;
};

/// Walks the include/redirect tree of `domain` (see CostReport). DNS problems are reported in the nodes, never
/// thrown. Tree depth is bounded (loops are detected by domain).
util::Task<CostReport> analyze_cost(dns::Resolver& resolver, std::string domain, CostOptions options);

/// The includes with the highest subtree cost anywhere in the tree, most costly first (at most `count`).
std::vector<const CostNode*> most_costly_includes(const CostReport& report, size_t count);

} // namespace sendcheck::spf
