#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/spf/cost.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/util/finding.hpp>
#include <sendcheck/util/task.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Record-level findings ("lint") for an SPF policy, in plain words for an office admin, each with the fix.
//
// Stable codes (Finding::code):
//   spf.syntax             error    the record does not parse (Finding::detail holds "offset N"; see LintFinding)
//   spf.multiple_records   error    more than one SPF record at the domain
//   spf.no_record          error    no SPF record at the domain (only from lint_domain)
//   spf.dns_failure        warning  the SPF record could not be fetched (only from lint_domain)
//   spf.too_many_lookups   error    more than 10 DNS-querying terms in the whole tree (names the costliest includes)
//   spf.void_lookups       error    more than 2 lookups that find nothing
//   spf.include_no_record  error    an include (or redirect) names a domain without an SPF record
//   spf.include_loop       error    includes/redirects lead back to a domain already on the path
//   spf.include_error      error    an included (or redirected-to) record is broken: syntax, several records, DNS
//   spf.too_many_mx        error    an `mx` term names a domain with more than 10 MX records
//   spf.plus_all           error    `+all` (or `all`): every server in the world may send as the domain
//   spf.neutral_all        warning  `?all`: the record says nothing about unlisted servers
//   spf.no_all             info     no `all` and no redirect=: unlisted servers get neutral
//   spf.ptr_used           warning  `ptr` is deprecated (RFC 7208 §5.5) and slow
//   spf.terms_after_all    warning  terms after `all` are never evaluated
//   spf.redirect_with_all  warning  redirect= next to `all` is ignored
//   spf.string_too_long    error    a record given as one string of more than 255 octets cannot be published so
//   spf.non_ascii          error    non-ASCII or control bytes in the record
//   spf.whitespace         warning  leading/trailing or repeated spaces, tabs (the record may be rejected)
//   spf.unknown_modifier   info     a modifier the RFC does not define (ignored by receivers)
//   spf.sender_id          info     an obsolete Sender ID record (`spf2.0/...`); receivers ignore it
//   spf.spf_version        error    a record that looks like SPF but does not start with exactly `v=spf1`
//                                   (e.g. `v=spf2`, `spf1`, `v=spf1.0`, quotes around the value)

namespace sendcheck::spf {

/// The byte offset a syntax finding points at, for drawing a caret under the record; parsed back from
/// `Finding::detail` ("offset N: ...") by `syntax_offset`.
std::optional<size_t> syntax_offset(const Finding& finding);

/// Findings from a record's text alone (no DNS): syntax, `+all`/`?all`, `ptr`, terms after `all`, redirect with
/// `all`, non-ASCII/control bytes, whitespace, and the 255-octet single-string rule when `strings` (the published
/// character-strings) is given.
Findings lint_record_text(std::string_view text, const std::vector<std::string>* strings = nullptr);

/// Findings from a cost analysis: over 10 lookups (naming the costliest includes), void lookups over 2, includes of
/// names without a record, loops.
Findings lint_cost(const CostReport& report);

/// Options for `lint_domain`.
struct LintOptions
{
  Limits limits;
  /// When set, lint this record text as if it were published at the domain (a `--record` candidate).
  std::optional<std::string> record_override;
  /// Shared parse cache; may be null.
  std::shared_ptr<RecordCache> cache;
  /// Shared memo of the cost walk's subtrees (CostOptions::memo); null: off.
  std::shared_ptr<CostMemo> memo;
  /// The domain's TXT answer when the caller has it already (a whole-domain check): then it is not asked for again.
  /// Ignored with `record_override`.
  dns::AnswerPtr txt;
};

/// Everything `lint_domain` found, with the cost analysis it used.
struct DomainLint
{
  Findings findings;
  /// The selected record text (empty when none).
  std::string record;
  /// The cost analysis (absent when there was no single record to analyse).
  std::optional<CostReport> cost;
};

/// Fetches `domain`'s SPF record and lints it: selection (none/multiple/DNS failure), `lint_record_text` on the
/// record, and `lint_cost` on its tree.
util::Task<DomainLint> lint_domain(dns::Resolver& resolver, std::string domain, LintOptions options);

} // namespace sendcheck::spf
