#pragma once

#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/util/result.hpp>

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Loading a DKIM public key with OpenSSL (base64 through EVP_DecodeUpdate, DER through d2i_PUBKEY), describing it
// (type, bits, SHA-256 of the SubjectPublicKeyInfo), comparing two keys, and explaining a damaged copy.

namespace sendcheck::dkim {

/// Frees an EVP_PKEY.
struct EvpPkeyDeleter
{
  void operator()(EVP_PKEY* key) const;
};

/// Owns an EVP_PKEY.
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

/// Frees a BIO chain.
struct BioDeleter
{
  void operator()(BIO* bio) const;
};

/// Owns a BIO (chain).
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

/// Frees an EVP_ENCODE_CTX.
struct EncodeCtxDeleter
{
  void operator()(EVP_ENCODE_CTX* context) const;
};

/// Owns an EVP_ENCODE_CTX.
using EncodeCtxPtr = std::unique_ptr<EVP_ENCODE_CTX, EncodeCtxDeleter>;

/// What is known about a loaded key, as plain data (for reports; no OpenSSL types).
struct KeyInfo
{
  KeyType type = KeyType::rsa;
  int bits = 0;               ///< Modulus size for RSA; 256 for Ed25519.
  size_t der_size = 0;        ///< Bytes of the decoded `p=` value (SPKI DER for RSA, 32 raw bytes for Ed25519).
  std::string spki_sha256;    ///< Lower-case hex SHA-256 of the key's SubjectPublicKeyInfo DER (64 characters).
};

/// Why `p=` did not give a usable key.
enum class KeyLoadErrorKind : uint8_t {
  empty,           ///< Nothing to load (the key is revoked).
  bad_character,   ///< A character outside the base64 alphabet (a quote, a backslash, '-', '.', ...).
  bad_length,      ///< The base64 text has a length that cannot be base64 (not a multiple of 4 once padded).
  bad_padding,     ///< '=' padding in the wrong place.
  not_a_key,       ///< Decodes, but the bytes are not a SubjectPublicKeyInfo (or not a raw Ed25519 key).
  type_mismatch,   ///< A valid key of another type than `k=` says (an RSA key under k=ed25519, ...).
};

/// Why `p=` did not give a usable key, and where it breaks.
struct KeyLoadError
{
  KeyLoadErrorKind kind = KeyLoadErrorKind::not_a_key;
  size_t position = 0;  ///< Offset in the whitespace-free base64 text where the problem is (0 when not known).
  size_t decoded_size = 0; ///< Bytes decoded, when decoding got that far.
  std::string message;  ///< Plain sentence: "character 12 is '\"', which is not base64", "the key is 293 bytes, a
                        ///< 2048-bit RSA key is 294", ...
};

/// A loaded public key. Move-only; owns its EVP_PKEY.
class PublicKey
{
public:
  /// Decodes `base64` (whitespace-free; see KeyRecord::public_key) and loads it as a key of `type`: an SPKI for RSA,
  /// the raw 32-byte key (or, tolerated, an SPKI) for Ed25519.
  static util::Result<PublicKey, KeyLoadError> from_base64(std::string_view base64, KeyType type);

  /// Loads DER bytes as for `from_base64`.
  static util::Result<PublicKey, KeyLoadError> from_der(const std::vector<uint8_t>& der, KeyType type);

  /// The key's type, size and fingerprint.
  const KeyInfo& info() const { return m_info; }

  /// The SubjectPublicKeyInfo DER of the key.
  const std::vector<uint8_t>& spki_der() const { return m_spki; }

  /// Whether `other` is the same public key (EVP_PKEY_eq: same type and parameters), however it was encoded.
  bool same_key(const PublicKey& other) const;

  /// The OpenSSL key, owned by this object.
  EVP_PKEY* get() const { return m_key.get(); }

private:
  PublicKey(EvpPkeyPtr key, KeyInfo info, std::vector<uint8_t> spki);

  EvpPkeyPtr m_key;
  KeyInfo m_info;
  std::vector<uint8_t> m_spki;
};

/// Decodes whitespace-free base64 with OpenSSL; on failure says at which offset and why.
util::Result<std::vector<uint8_t>, KeyLoadError> decode_base64(std::string_view base64);

/// Encodes bytes as base64 without line breaks.
std::string encode_base64(const std::vector<uint8_t>& bytes);

/// One edit of the kind copying from a PDF makes.
struct KeyEdit
{
  /// What the edit undoes.
  enum class Kind : uint8_t {
    substitution, ///< A character was misread (O/Q/0, l/I/1): `replacement` replaces `length` characters.
    insertion,    ///< A character was lost: `replacement` is inserted at `position`.
    deletion,     ///< A character crept in: `length` characters at `position` are removed.
    header,       ///< The fixed RSA key header was damaged: `length` characters at `position` become `replacement`.
  };
  Kind kind = Kind::substitution;
  size_t position = 0;      ///< Offset in the damaged whitespace-free base64 text.
  size_t length = 0;        ///< Characters of the damaged text the edit replaces (0 for an insertion).
  std::string original;     ///< Those characters.
  std::string replacement;  ///< What the edit puts there.
};

/// The outcome of trying to repair a damaged key.
struct KeyRepair
{
  std::vector<KeyEdit> edits;  ///< The edits, in the order applied (offsets refer to the text at that step).
  /// How many single edits of the last kind made the key parse; > 1 means ambiguous. The search for a lost or an
  /// extra character stops at 2.
  size_t candidates = 0;
  std::string repaired;        ///< The base64 text after the edits (a key that parses, not necessarily the right one).
  KeyInfo info;                ///< The repaired key's type, bits and fingerprint.
  /// The line (offsets into the damaged text, [first, last)) one character shorter than its neighbours, when the
  /// published value kept line breaks; the lost character is most likely there.
  std::optional<std::pair<size_t, size_t>> short_line;
  std::string explanation;     ///< Plain sentence describing the edits, saying it is a guess.
};

/// Tries the usual copy damage on a `base64` key that does not load: a damaged RSA SPKI header (compared with the
/// fixed headers of 1024/2048/3072/4096-bit keys), then one O/Q/0 or l/I/1 substitution at any position, one lost
/// character anywhere (every base64 character at every position, preferring the line that is one character short
/// according to `breaks`), or one extra character. Returns nullopt when no such repair makes the key load. Bounded:
/// at most a few tens of thousands of DER parses.
std::optional<KeyRepair> find_repair(std::string_view base64, KeyType type, const std::vector<size_t>& breaks = {});

/// The expected decoded size of an RSA SubjectPublicKeyInfo with a modulus of `bits` bits and exponent 65537.
size_t rsa_spki_size(int bits);

} // namespace sendcheck::dkim
