#pragma once

#include <sendcheck/util/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Parsing of a DMARC policy record (RFC 7489 §6.3, with DMARCbis — draft-ietf-dmarc-dmarcbis, since published as
// RFC 9989 — where it changes the reading: `pct` retired, a missing `p=` read as `none`, tags `np`, `psd`, `t`).
// Pure text processing, no DNS.

namespace sendcheck::dmarc {

/// A requested handling policy (`p`, `sp`, `np`).
enum class Policy : uint8_t { none, quarantine, reject };

/// "none", "quarantine" or "reject".
std::string_view to_string(Policy policy);

/// An identifier alignment mode (`adkim`, `aspf`).
enum class Alignment : uint8_t {
  relaxed, ///< `r` (default): the organizational domains must match.
  strict,  ///< `s`: the domains must be identical.
};

/// "relaxed" or "strict".
std::string_view to_string(Alignment alignment);

/// One `name=value` pair, as published.
struct DmarcTag
{
  std::string name;          ///< Tag name, lower-cased (DMARC tag names are case-insensitive in practice).
  std::string value;         ///< Value, trimmed.
  size_t position = 0;       ///< Offset of the tag name in the joined record.
  size_t value_position = 0; ///< Offset of the value in the joined record.
};

/// How serious a non-fatal remark on a record is.
enum class IssueKind : uint8_t {
  unknown_tag,   ///< A tag this version does not know: ignored (RFC 7489 §6.3).
  bad_value,     ///< An optional tag with an invalid value: the default is used instead (RFC 7489 §6.6.3).
  retired,       ///< A tag DMARCbis removed (`pct`, `rf`, `ri`): still read by older receivers.
  missing_policy, ///< No `p=`: read as `none` (DMARCbis; RFC 7489 only with a valid `rua`).
  style,         ///< Allowed but unusual (an empty tag-spec `;;`, `p` not right after `v`).
};

/// A non-fatal remark on a record.
struct DmarcIssue
{
  IssueKind kind = IssueKind::unknown_tag;
  size_t position = 0;   ///< Offset in the joined record.
  std::string message;   ///< Plain sentence.
};

/// A parsed DMARC record. Every optional tag holds its default when absent or invalid.
struct DmarcRecord
{
  std::optional<Policy> policy;            ///< `p`; nullopt when absent (read as none, see effective_policy()).
  std::optional<Policy> subdomain_policy;  ///< `sp`; nullopt when absent (then `p` applies).
  std::optional<Policy> nonexistent_policy; ///< `np` (DMARCbis); nullopt when absent (then `sp`/`p` apply).
  int percent = 100;                        ///< `pct` (RFC 7489; retired by DMARCbis).
  bool percent_given = false;               ///< Whether `pct` was published.
  Alignment adkim = Alignment::relaxed;     ///< `adkim`.
  Alignment aspf = Alignment::relaxed;      ///< `aspf`.
  std::vector<std::string> rua;             ///< `rua` URIs, split at ','.
  std::vector<std::string> ruf;             ///< `ruf` URIs.
  std::string failure_options = "0";        ///< `fo`.
  uint32_t report_interval = 86400;         ///< `ri` seconds.
  std::optional<char> psd;                  ///< `psd` (DMARCbis): 'y', 'n' or 'u'.
  bool test_mode = false;                   ///< `t=y` (DMARCbis): policy requested in test mode.
  std::vector<DmarcTag> tags;               ///< Every tag in published order.
  std::vector<DmarcIssue> issues;           ///< Non-fatal remarks.

  /// The policy for the domain itself: `p`, or none when `p` is absent (DMARCbis).
  Policy effective_policy() const;

  /// The policy for a subdomain of the record's domain: `sp`, else `p` (else none). With `nonexistent` set to
  /// `Existence::nonexistent`, `np` comes first (DMARCbis).
  enum class Existence : uint8_t { exists, nonexistent };
  Policy subdomain_effective_policy(Existence existence = Existence::exists) const;

  /// The tag named `name` (lower-case), or nullptr.
  const DmarcTag* find(std::string_view name) const;
};

/// Why a record is not a valid DMARC record.
struct DmarcError
{
  size_t position = 0; ///< Offset in the joined record.
  std::string message; ///< Plain sentence: "the record must start with 'v=DMARC1'", "'p=block' is not a policy", ...
};

/// Whether `joined` starts a DMARC record (`v=DMARC1` as the first tag, whitespace allowed around '='), so that
/// other TXT records at `_dmarc.<domain>` can be ignored (RFC 7489 §6.6.3).
bool looks_like_dmarc(std::string_view joined);

/// Parses a DMARC record. Fatal errors: no `v=DMARC1` first, a tag-spec without '=', a bad tag name, a duplicated
/// tag, an invalid `p=` value. Other problems are reported in `DmarcRecord::issues` and defaults are used.
util::Result<DmarcRecord, DmarcError> parse_dmarc_record(std::string_view joined);

} // namespace sendcheck::dmarc
