#include <sendcheck/spf/cost.hpp>

#include <sendcheck/util/strings.hpp>

#include "ask.hpp"

#include <fmt/format.h>

#include <algorithm>

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

struct Walk
{
  dns::Resolver& resolver;
  const CostOptions& options;
  std::vector<std::string> path;
  std::vector<std::string> loops;
};

util::Task<void>
walk(Walk& state, CostNode& node, unsigned depth)
{
  if (depth == 0 && state.options.record_override) {
    node.record = *state.options.record_override;
    node.selection = SelectionStatus::one;
  } else {
    const auto answer = co_await detail::ask(state.resolver, node.domain, dns::RRType::txt);
    take_record(*answer, node);
  }
  if (node.selection != SelectionStatus::one) {
    co_return;
  }
  const std::string& text = node.record;

  RecordCache::Entry cached;
  std::optional<util::Result<Record, ParseError>> local;
  const util::Result<Record, ParseError>* parsed = nullptr;
  if (state.options.cache) {
    cached = state.options.cache->parse(text);
    parsed = cached.get();
  } else {
    local.emplace(parse_record(text));
    parsed = &*local;
  }
  if (!parsed->has_value()) {
    node.parse_error = parsed->error();
    node.errors.push_back(fmt::format("the SPF record of {} has a syntax error: {}", node.domain,
                                      parsed->error().message));
    co_return;
  }
  const Record& record = parsed->value();
  const bool has_all = record.all() != nullptr;

  // Terms to look at, with their targets known without macros.
  struct Target
  {
    const Term* term;
    std::string name;
  };
  std::vector<Target> targets;
  MacroContext macro;
  macro.domain = node.domain;
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
    targets.push_back(
      {&term, term.domain_spec ? expand(*term.domain_spec, macro, MacroUse::domain_spec) : node.domain});
  }

  // Hint every lookup first so that a network resolver sends them together.
  for (const auto& target : targets) {
    const bool is_tree = target.term->kind == TermKind::modifier || target.term->mechanism == MechanismKind::include;
    const auto type = is_tree ? dns::RRType::txt
                              : (target.term->mechanism == MechanismKind::mx ? dns::RRType::mx : dns::RRType::a);
    state.resolver.prefetch(target.name, type);
  }

  for (auto& target : targets) {
    const Term& term = *target.term;
    const bool is_tree = term.kind == TermKind::modifier || term.mechanism == MechanismKind::include;
    if (is_tree) {
      CostNode child;
      child.domain = util::is_normalized_name(target.name) ? std::move(target.name) : util::normalize_name(target.name);
      child.via = term.text;
      if (std::find(state.path.begin(), state.path.end(), child.domain) != state.path.end()) {
        child.loop = true;
        std::string loop;
        for (const auto& step : state.path) {
          loop += step + " -> ";
        }
        state.loops.push_back(loop + child.domain);
        child.errors.push_back(fmt::format("{} leads back to {}, which is already being evaluated (a loop)",
                                           term.text, child.domain));
      } else if (depth + 1 >= k_max_depth) {
        child.errors.push_back("includes nest too deeply to analyse");
      } else {
        state.path.push_back(child.domain);
        co_await walk(state, child, depth + 1);
        state.path.pop_back();
      }
      node.children.push_back(std::move(child));
      continue;
    }
    if (term.mechanism == MechanismKind::mx) {
      const auto answer = co_await detail::ask(state.resolver, target.name, dns::RRType::mx);
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
    if (is_void(*answer)) {
      if (term.mechanism == MechanismKind::a) {
        // The name may have only AAAA records, which IPv6 clients would use.
        const auto v6 = co_await detail::ask(state.resolver, target.name, dns::RRType::aaaa);
        if (is_void(*v6)) {
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
    node.subtree_terms += child.subtree_terms;
  }
}

void
sum_tree(const CostNode& node, CostReport& report)
{
  report.void_lookups += node.own_void_lookups;
  report.mx_host_lookups += node.mx_host_lookups;
  for (const auto& child : node.children) {
    sum_tree(child, report);
  }
}

void
collect_includes(const CostNode& node, std::vector<const CostNode*>& out)
{
  for (const auto& child : node.children) {
    out.push_back(&child);
    collect_includes(child, out);
  }
}

} // namespace

util::Task<CostReport>
analyze_cost(dns::Resolver& resolver, std::string domain, CostOptions options)
{
  CostReport report;
  report.limits = options.limits;
  report.root.domain = util::normalize_name(domain);
  Walk state{resolver, options, {report.root.domain}, {}};
  co_await walk(state, report.root, 0);
  report.total_terms = report.root.subtree_terms;
  sum_tree(report.root, report);
  report.loops = std::move(state.loops);
  co_return report;
}

std::vector<const CostNode*>
most_costly_includes(const CostReport& report, size_t count)
{
  std::vector<const CostNode*> all;
  collect_includes(report.root, all);
  std::stable_sort(all.begin(), all.end(),
                   [](const CostNode* a, const CostNode* b) { return a->subtree_terms > b->subtree_terms; });
  if (all.size() > count) {
    all.resize(count);
  }
  return all;
}

} // namespace sendcheck::spf
