#pragma once

// Field-by-field comparison of two spf::Evaluation values (evaluation_difference: all but the trace;
// trace_difference: the trace), for the tests that check that an option (the memo of sub-evaluations) or a way of
// evaluating (spf::check_hosts) changes nothing: the conformance runner and the unit tests.

#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sendcheck::test {

/// "" when `left` and `right` agree on every field but the trace; otherwise the first field that differs, with both
/// values ("dns_terms: 4 vs 5").
std::string evaluation_difference(const spf::Evaluation& left, const spf::Evaluation& right);

namespace detail {

/// A term as text: its source text, offset and canonical form.
inline std::string
describe_term(const std::shared_ptr<const spf::Term>& term)
{
  if (!term) {
    return "(none)";
  }
  return fmt::format("'{}' at {} ({})", term->text, term->offset, spf::to_string(*term));
}

/// A lookup as text: every field.
inline std::string
describe_lookup(const std::optional<spf::LookupInfo>& info)
{
  if (!info) {
    return "(none)";
  }
  return fmt::format("{} {} {} records {} server '{}' detail '{}' void {}", info->name, dns::to_string(info->type),
                     dns::to_string(info->status), info->record_count, info->server, info->detail,
                     info->counted_void);
}

/// A parse error as text: every field.
inline std::string
describe_parse_error(const std::optional<spf::ParseError>& error)
{
  if (!error) {
    return "(none)";
  }
  return fmt::format("at {} term '{}': {}", error->offset, error->term, error->message);
}

} // namespace detail

inline std::string
evaluation_difference(const spf::Evaluation& left, const spf::Evaluation& right)
{
  const auto differ = [](std::string_view field, const auto& a, const auto& b) {
    return fmt::format("{}: {} vs {}", field, a, b);
  };
  if (left.result != right.result) {
    return differ("result", spf::to_string(left.result), spf::to_string(right.result));
  }
  if (left.explanation != right.explanation) {
    return differ("explanation", left.explanation, right.explanation);
  }
  if (detail::describe_term(left.deciding_term) != detail::describe_term(right.deciding_term)) {
    return differ("deciding_term", detail::describe_term(left.deciding_term),
                  detail::describe_term(right.deciding_term));
  }
  if (left.deciding_domain != right.deciding_domain) {
    return differ("deciding_domain", left.deciding_domain, right.deciding_domain);
  }
  const auto record_of = [](const spf::Evaluation& evaluation) {
    return evaluation.deciding_record ? "'" + *evaluation.deciding_record + "'" : std::string("none");
  };
  if (record_of(left) != record_of(right)) {
    return differ("deciding_record", record_of(left), record_of(right));
  }
  if (left.reason != right.reason) {
    return differ("reason", left.reason, right.reason);
  }
  if (left.error_code != right.error_code) {
    return differ("error_code", left.error_code, right.error_code);
  }
  if (detail::describe_lookup(left.dns_failure) != detail::describe_lookup(right.dns_failure)) {
    return differ("dns_failure", detail::describe_lookup(left.dns_failure),
                  detail::describe_lookup(right.dns_failure));
  }
  if (detail::describe_parse_error(left.parse_error) != detail::describe_parse_error(right.parse_error)) {
    return differ("parse_error", detail::describe_parse_error(left.parse_error),
                  detail::describe_parse_error(right.parse_error));
  }
  if (left.dns_terms != right.dns_terms) {
    return differ("dns_terms", left.dns_terms, right.dns_terms);
  }
  if (left.void_lookups != right.void_lookups) {
    return differ("void_lookups", left.void_lookups, right.void_lookups);
  }
  return {};
}

/// "" when the traces of `left` and `right` agree step by step on every field; otherwise the first difference.
inline std::string
trace_difference(const spf::Evaluation& left, const spf::Evaluation& right)
{
  if (left.trace.size() != right.trace.size()) {
    return fmt::format("trace: {} vs {} steps", left.trace.size(), right.trace.size());
  }
  const auto describe_step = [](const spf::TraceStep& step) {
    std::string text = fmt::format("kind {} depth {} domain '{}' term '{}' target '{}' matched {} result {} note '{}'",
                                   static_cast<int>(step.kind), step.depth, step.domain, step.term, step.target,
                                   step.matched, step.result ? spf::to_string(*step.result) : "-", step.note);
    for (const auto& lookup : step.lookups) {
      text += fmt::format("; lookup {} {} {} {} '{}' '{}' void {}", lookup.name, dns::to_string(lookup.type),
                          dns::to_string(lookup.status), lookup.record_count, lookup.server, lookup.detail,
                          lookup.counted_void);
    }
    return text;
  };
  for (size_t i = 0; i < left.trace.size(); ++i) {
    const auto a = describe_step(left.trace[i]);
    const auto b = describe_step(right.trace[i]);
    if (a != b) {
      return fmt::format("trace step {}: {} vs {}", i, a, b);
    }
  }
  return {};
}

} // namespace sendcheck::test
