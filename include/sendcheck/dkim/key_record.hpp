#pragma once

#include <sendcheck/util/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Parsing of a DKIM key record (RFC 6376 §3.6.1) with the tag-list grammar of §3.2. Pure text processing: no DNS,
// no OpenSSL. The `p=` value is kept as text; decoding and loading the key is public_key.hpp's job.

namespace sendcheck::dkim {

/// The key type named by `k=` (RFC 6376 §3.6.1, RFC 8463).
enum class KeyType : uint8_t {
  rsa,     ///< `k=rsa`, also the default when `k=` is absent.
  ed25519, ///< `k=ed25519` (RFC 8463): `p=` holds the raw 32-byte key, not a SubjectPublicKeyInfo.
};

/// "rsa" or "ed25519".
std::string_view to_string(KeyType type);

/// One `name=value` pair of a tag list, as published.
struct Tag
{
  std::string name;      ///< The tag name (case-sensitive, RFC 6376 §3.2).
  std::string value;     ///< The value with surrounding whitespace removed; inner whitespace kept.
  size_t position = 0;   ///< Offset of the tag name in the joined record.
  size_t value_position = 0; ///< Offset of the value's first character in the joined record.
};

/// Something in a record that is allowed (or tolerated) but worth telling: an unknown tag, an empty tag-spec
/// (`;;`), an unknown flag or hash.
struct KeyRecordNote
{
  size_t position = 0; ///< Offset in the joined record.
  std::string message; ///< Plain sentence.
};

/// A parsed DKIM key record.
struct KeyRecord
{
  bool has_version = false;   ///< Whether `v=DKIM1` was given (it is optional).
  KeyType key_type = KeyType::rsa;
  bool key_type_given = false; ///< Whether `k=` was given (rsa is the default).
  std::vector<std::string> hash_algorithms; ///< `h=`, split at ':'; empty means every algorithm is allowed.
  std::vector<std::string> service_types;   ///< `s=`, split at ':'; {"*"} when absent.
  std::vector<std::string> flags;           ///< `t=`, split at ':'.
  bool testing = false;       ///< `t=y`: the domain is testing DKIM; verifiers must not treat mail differently.
  bool strict = false;        ///< `t=s`: the `i=` domain must equal `d=` exactly (no subdomains).
  std::string notes;          ///< `n=`, as published.
  /// `p=` with all whitespace removed (FWS is allowed inside base64, §3.6.1). Empty means the key is revoked.
  /// Characters outside the base64 alphabet are kept here so that key loading can say where they are.
  std::string public_key;
  std::string public_key_raw;       ///< `p=` exactly as published between its '=' and the next ';' (trimmed).
  size_t public_key_position = 0;   ///< Offset of the first character of `public_key_raw` in the joined record.
  /// Offsets in `public_key` where the published value had whitespace (a line break of a pasted copy, usually).
  std::vector<size_t> public_key_breaks;
  std::vector<Tag> tags;            ///< Every tag in published order, known and unknown.
  std::vector<KeyRecordNote> notes_for_admin; ///< Tolerated oddities (unknown tags are listed here too).

  /// Whether `p=` is empty: the key has been revoked (RFC 6376 §3.6.1).
  bool revoked() const { return public_key.empty(); }

  /// Whether the record may be used for email: `s=` absent, or containing "*" or "email".
  bool allows_email() const;

  /// The tag named `name` (case-sensitive), or nullptr.
  const Tag* find(std::string_view name) const;
};

/// Why a key record could not be parsed.
struct KeyRecordError
{
  size_t position = 0; ///< Offset in the joined record where the problem is.
  std::string message; ///< Plain sentence: "the tag 'p' appears twice", "'v=DKIM1' must be the first tag", ...
};

/// Parses the joined TXT value of a DKIM key record (RFC 6376 §3.6.1, tag-list grammar §3.2).
///
/// Errors: a tag-spec that does not match the grammar (no '=', bad tag name, a character outside VALCHAR such as a
/// control byte or non-ASCII), a duplicated tag, `v=` anywhere but first or with a value other than "DKIM1", an
/// unknown `k=`, no `p=` tag. Accepted: whitespace around tags and values and inside `p=`, a trailing ';', unknown
/// tags (ignored, noted), an empty `p=` (revoked). Quote marks and backslashes are VALCHARs, so they parse; the
/// DKIM check flags them separately, and key loading reports them as bad base64.
util::Result<KeyRecord, KeyRecordError> parse_key_record(std::string_view joined);

} // namespace sendcheck::dkim
