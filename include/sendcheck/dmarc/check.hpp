#pragma once

#include <sendcheck/dmarc/record.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/util/finding.hpp>
#include <sendcheck/util/task.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The DMARC check: which policy applies to mail in `domain`'s name, and where it comes from. Used by the verdict to
// say whether an SPF/DKIM failure means nothing, the spam folder, or rejection.

namespace sendcheck::dmarc {

/// Stable finding codes of the DMARC check.
namespace codes {
inline constexpr std::string_view k_none = "dmarc.none";                 ///< warning: no DMARC record at all.
inline constexpr std::string_view k_temperror = "dmarc.temperror";       ///< error: DNS failed; names the server.
inline constexpr std::string_view k_multiple_records = "dmarc.multiple_records"; ///< error: several DMARC records.
inline constexpr std::string_view k_syntax = "dmarc.syntax";             ///< error: the record does not parse.
inline constexpr std::string_view k_policy = "dmarc.policy";             ///< info: the policy in effect and source.
inline constexpr std::string_view k_inherited = "dmarc.inherited";       ///< info: policy from a parent domain.
inline constexpr std::string_view k_monitoring_only = "dmarc.monitoring_only"; ///< info: p=none.
inline constexpr std::string_view k_missing_policy = "dmarc.missing_policy"; ///< warning: no p=, read as none.
inline constexpr std::string_view k_pct_retired = "dmarc.pct_retired";   ///< warning: pct<100 (retired in DMARCbis).
inline constexpr std::string_view k_no_rua = "dmarc.no_rua";             ///< info: no aggregate reports requested.
inline constexpr std::string_view k_unknown_tag = "dmarc.unknown_tag";   ///< info: ignored tag.
inline constexpr std::string_view k_bad_value = "dmarc.bad_value";       ///< warning: bad optional value, default used.
inline constexpr std::string_view k_retired_tag = "dmarc.retired_tag";   ///< info: rf/ri (retired in DMARCbis).
inline constexpr std::string_view k_strict_alignment = "dmarc.strict_alignment"; ///< info: adkim=s or aspf=s.
inline constexpr std::string_view k_test_mode = "dmarc.test_mode";       ///< info: t=y (DMARCbis).
inline constexpr std::string_view k_other_txt = "dmarc.other_txt";       ///< info: non-DMARC TXT at _dmarc, ignored.
inline constexpr std::string_view k_style = "dmarc.style";               ///< info: `;;`, p not right after v.
} // namespace codes

/// Where the policy in effect came from.
enum class PolicySource : uint8_t {
  domain,   ///< `_dmarc.<domain>` itself: `p` applies.
  ancestor, ///< A parent domain found by the DMARCbis DNS tree walk (usually the organizational domain): `sp`.
  none,     ///< No record anywhere: no DMARC policy.
};

/// "domain", "ancestor", "none".
std::string_view to_string(PolicySource source);

/// Overall outcome of the DMARC check.
enum class DmarcStatus : uint8_t {
  ok,        ///< A valid record applies.
  none,      ///< No record applies.
  invalid,   ///< Several records, or the applicable record does not parse.
  temperror, ///< DNS failed; nothing is known.
};

/// "ok", "none", "invalid", "temperror".
std::string_view to_string(DmarcStatus status);

/// Everything the DMARC check found, for the report and the verdict.
struct DmarcReport
{
  std::string domain;                 ///< The domain checked, normalized.
  std::string organizational_domain;  ///< By the Public Suffix List (libpsl built-in list).
  DmarcStatus status = DmarcStatus::none;
  PolicySource source = PolicySource::none;
  std::string policy_domain;          ///< Where the record was found ("example.ee"); empty when none.
  std::string record_name;            ///< `_dmarc.<policy_domain>`; empty when none.
  std::vector<std::string> queried;   ///< Every `_dmarc.` name asked, in order.
  std::vector<std::string> records;   ///< The DMARC TXT records (joined) at `record_name`.
  std::string server;                 ///< Who answered (or failed to).
  std::optional<DmarcRecord> record;  ///< The parsed record that applies.
  std::optional<Policy> policy;       ///< The policy in effect for `domain` (p, or sp when inherited); nullopt: none.
  Alignment adkim = Alignment::relaxed; ///< DKIM alignment mode in effect.
  Alignment aspf = Alignment::relaxed;  ///< SPF alignment mode in effect.
  Findings findings;                  ///< Codes from `codes`.
};

/// The organizational domain of `domain` by the Public Suffix List (libpsl's built-in list, psl_registrable_domain):
/// "shop.example.co.uk" → "example.co.uk". When `domain` is itself a public suffix or not under any known suffix,
/// returns `domain` normalized. For the verdict's relaxed alignment check.
std::string organizational_domain(std::string_view domain);

/// Whether `a` and `b` are aligned in `mode`: equal (strict), or with the same organizational domain (relaxed).
bool aligned(std::string_view a, std::string_view b, Alignment mode);

/// Finds and checks the DMARC policy of `domain`: `_dmarc.<domain>`, then the DMARCbis DNS tree walk up the parent
/// domains (at most 8 labels) when there is none. Never throws for DNS or data problems.
util::Task<DmarcReport> check_dmarc(dns::Resolver& resolver, std::string domain);

} // namespace sendcheck::dmarc
