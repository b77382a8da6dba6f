#pragma once

#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/dkim/public_key.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/util/finding.hpp>
#include <sendcheck/util/task.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The DKIM check: is the sender's key published at `<selector>._domainkey.<domain>`, intact, strong enough, and the
// same key the sender itself publishes at `<selector>._domainkey.<reference domain>`?

namespace sendcheck::dkim {

/// Stable finding codes of the DKIM check.
namespace codes {
inline constexpr std::string_view k_no_record = "dkim.no_record";           ///< warning: no key; sender signs as its own domain.
inline constexpr std::string_view k_temperror = "dkim.temperror";           ///< error: DNS failed; names the server.
inline constexpr std::string_view k_multiple_records = "dkim.multiple_records"; ///< error: several TXT records.
inline constexpr std::string_view k_split_strings = "dkim.split_strings";   ///< info: record in several strings.
inline constexpr std::string_view k_string_too_long = "dkim.string_too_long"; ///< error: a string over 255 octets.
inline constexpr std::string_view k_quotes_in_value = "dkim.quotes_in_value"; ///< error: literal '"' or '\' in the value.
inline constexpr std::string_view k_doubled_name = "dkim.doubled_name";     ///< error: published at <name>.<domain>.
inline constexpr std::string_view k_cname = "dkim.cname";                   ///< info: the name is a CNAME.
inline constexpr std::string_view k_syntax = "dkim.syntax";                 ///< error: the record does not parse.
inline constexpr std::string_view k_record_note = "dkim.record_note";       ///< info: unknown tag, `;;`, ...
inline constexpr std::string_view k_revoked = "dkim.revoked";               ///< error: empty `p=`.
inline constexpr std::string_view k_testing = "dkim.testing";               ///< warning: `t=y`.
inline constexpr std::string_view k_not_for_email = "dkim.not_for_email";   ///< error: `s=` excludes email.
inline constexpr std::string_view k_sha1_only = "dkim.sha1_only";           ///< error: `h=sha1` only (RFC 8301).
inline constexpr std::string_view k_key_invalid = "dkim.key_invalid";       ///< error: `p=` does not load.
inline constexpr std::string_view k_key_damaged = "dkim.key_damaged";       ///< error: looks like a PDF copy.
inline constexpr std::string_view k_key_weak = "dkim.key_weak";             ///< error: RSA < 1024 bits.
inline constexpr std::string_view k_key_1024 = "dkim.key_1024";             ///< warning: RSA 1024 bits.
inline constexpr std::string_view k_ed25519_spki = "dkim.ed25519_spki";   ///< warning: Ed25519 key not in RFC 8463 form.
inline constexpr std::string_view k_key_ok = "dkim.key_ok";                 ///< info: type, bits, fingerprint.
inline constexpr std::string_view k_key_match = "dkim.key_match";           ///< info: same key as the reference.
inline constexpr std::string_view k_key_mismatch = "dkim.key_mismatch";     ///< error: not the sender's key.
inline constexpr std::string_view k_reference_unavailable = "dkim.reference_unavailable"; ///< info: comparison skipped.
} // namespace codes

/// Overall outcome of the DKIM check.
enum class DkimStatus : uint8_t {
  valid,     ///< A usable key is published (see `comparison` for whether it is the sender's).
  no_record, ///< Nothing at the selector (maybe at the doubled name, see `found_at`): the sender signs as itself.
  revoked,   ///< The record has an empty `p=`.
  invalid,   ///< Several records, a syntax error, or a key that does not load or is too weak.
  temperror, ///< DNS failed; nothing is known.
};

/// "valid", "no_record", "revoked", "invalid", "temperror".
std::string_view to_string(DkimStatus status);

/// Outcome of comparing the published key with the reference key.
enum class Comparison : uint8_t {
  not_done,    ///< No usable key was published, so nothing was compared.
  same_key,    ///< The published key is the reference key.
  different_key, ///< It is another key: the sender's signatures will not verify.
  skipped,     ///< The reference key could not be fetched or loaded; `reference_problem` says why.
};

/// "not_done", "same_key", "different_key", "skipped".
std::string_view to_string(Comparison comparison);

/// Everything the DKIM check found, for the report and the verdict.
struct DkimReport
{
  std::string domain;            ///< The customer's domain, normalized.
  std::string selector;          ///< "directo".
  std::string name;              ///< `<selector>._domainkey.<domain>`.
  std::string reference_domain;  ///< Where the sender publishes its own key ("directo.ee").
  std::string signing_domain;    ///< The d= the sender uses when no key is published ("directo.ee").

  DkimStatus status = DkimStatus::no_record;
  std::string found_at;          ///< The name the record was read from (`name`, or the doubled name); empty if none.
  std::vector<dns::TxtRecord> records; ///< The TXT records at `found_at` (strings as published).
  std::vector<std::string> cname_chain; ///< CNAMEs followed from `found_at`.
  std::string server;            ///< Who answered (or failed to).

  std::optional<KeyRecord> record; ///< The parsed record, when exactly one was found and it parsed.
  std::optional<KeyInfo> key;      ///< The loaded key, when `p=` loaded.
  std::optional<KeyLoadError> key_error; ///< Why `p=` did not load.
  std::optional<KeyRepair> repair; ///< A repair that makes a damaged key load (a guess, see KeyRepair).
  bool testing = false;            ///< `t=y`.

  Comparison comparison = Comparison::not_done;
  std::optional<KeyInfo> reference_key; ///< The reference key, when it was fetched and loaded.
  std::string reference_problem;        ///< Why the comparison was skipped.

  Findings findings;               ///< Codes from `codes`.
};

/// Checks the DKIM key of `domain` at `<selector>._domainkey.<domain>` and compares it with the key at
/// `<selector>._domainkey.<reference_domain>`. `signing_domain` is the d= the sender uses when the customer has no
/// key (profile default_signing_domain), named in the no-record finding. Never throws for DNS or data problems.
util::Task<DkimReport> check_dkim(dns::Resolver& resolver, std::string domain, std::string selector,
                                  std::string reference_domain, std::string signing_domain);

/// As above with `signing_domain` from the built-in profile (directo_profile().default_signing_domain).
util::Task<DkimReport> check_dkim(dns::Resolver& resolver, std::string domain, std::string selector,
                                  std::string reference_domain);

} // namespace sendcheck::dkim
