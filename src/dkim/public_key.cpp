#include <sendcheck/dkim/public_key.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <new>

namespace sendcheck::dkim {

namespace {

constexpr std::string_view k_base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// RSA key sizes whose fixed SPKI header the repair compares with.
constexpr std::array<int, 4> k_rsa_sizes = {1024, 2048, 3072, 4096};

/// Groups of characters that are easily confused when a key is read from a PDF or retyped.
constexpr std::array<std::string_view, 2> k_confusables = {"OQ0o", "lI1i"};

/// The size of an Ed25519 public key (RFC 8032), the whole `p=` value under k=ed25519 (RFC 8463).
constexpr size_t k_ed25519_size = 32;

bool
is_base64_char(char c)
{
  return k_base64_alphabet.find(c) != std::string_view::npos;
}

size_t
der_length_size(size_t length)
{
  if (length < 0x80) {
    return 1;
  }
  if (length < 0x100) {
    return 2;
  }
  return 3;
}

void
append_der_length(std::vector<uint8_t>& out, size_t length)
{
  if (length < 0x80) {
    out.push_back(static_cast<uint8_t>(length));
  } else if (length < 0x100) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(length));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length & 0xff));
  }
}

/// The DER bytes every RSA SPKI with a `bits`-bit modulus (top bit set) and exponent 65537 starts with, up to and
/// including the modulus's leading zero byte.
std::vector<uint8_t>
rsa_spki_header(int bits)
{
  static constexpr std::array<uint8_t, 15> k_algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                                          0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  const size_t modulus = static_cast<size_t>(bits) / 8 + 1;
  const size_t integer = 1 + der_length_size(modulus) + modulus;
  const size_t sequence_content = integer + 5;
  const size_t sequence = 1 + der_length_size(sequence_content) + sequence_content;
  const size_t bit_string_content = 1 + sequence;
  const size_t bit_string = 1 + der_length_size(bit_string_content) + bit_string_content;
  const size_t spki_content = k_algorithm.size() + bit_string;

  std::vector<uint8_t> out = {0x30};
  append_der_length(out, spki_content);
  out.insert(out.end(), k_algorithm.begin(), k_algorithm.end());
  out.push_back(0x03);
  append_der_length(out, bit_string_content);
  out.push_back(0x00);
  out.push_back(0x30);
  append_der_length(out, sequence_content);
  out.push_back(0x02);
  append_der_length(out, modulus);
  out.push_back(0x00);
  return out;
}

/// The base64 text every `bits`-bit RSA key starts with (the whole 3-byte groups of its fixed header).
const std::string&
rsa_base64_header(int bits)
{
  thread_local std::map<int, std::string> cache; // Per thread: workers check domains on threads of their own.
  auto it = cache.find(bits);
  if (it == cache.end()) {
    auto header = rsa_spki_header(bits);
    header.resize(header.size() / 3 * 3);
    it = cache.emplace(bits, encode_base64(header)).first;
  }
  return it->second;
}

size_t
edit_distance(std::string_view a, std::string_view b)
{
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// The RSA size whose SPKI length is nearest to `size` bytes.
int
nearest_rsa_size(size_t size)
{
  int best = k_rsa_sizes[0];
  for (const int bits : k_rsa_sizes) {
    const auto distance = [&](int b) {
      const auto expected = rsa_spki_size(b);
      return expected > size ? expected - size : size - expected;
    };
    if (distance(bits) < distance(best)) {
      best = bits;
    }
  }
  return best;
}

KeyLoadError
load_error(KeyLoadErrorKind kind, size_t position, size_t decoded_size, std::string message)
{
  return KeyLoadError{kind, position, decoded_size, std::move(message)};
}

std::string
sha256_hex(const std::vector<uint8_t>& bytes)
{
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

/// A damaged RSA header found in `base64`: the edit that restores it, or nullopt when the header is intact or too
/// different to be a damaged copy.
std::optional<KeyEdit>
find_header_damage(std::string_view base64)
{
  std::optional<KeyEdit> best;
  size_t best_distance = SIZE_MAX;
  for (const int bits : k_rsa_sizes) {
    const std::string& header = rsa_base64_header(bits);
    for (int delta = -3; delta <= 3; ++delta) {
      const auto length = static_cast<size_t>(static_cast<int>(header.size()) + delta);
      if (length > base64.size()) {
        continue;
      }
      const std::string_view published = base64.substr(0, length);
      const size_t distance = edit_distance(header, published);
      if (distance == 0) {
        return std::nullopt;
      }
      if (distance < best_distance) {
        best_distance = distance;
        size_t prefix = 0;
        while (prefix < header.size() && prefix < published.size() && header[prefix] == published[prefix]) {
          ++prefix;
        }
        size_t suffix = 0;
        while (suffix < header.size() - prefix && suffix < published.size() - prefix
               && header[header.size() - 1 - suffix] == published[published.size() - 1 - suffix]) {
          ++suffix;
        }
        KeyEdit edit;
        edit.kind = KeyEdit::Kind::header;
        edit.position = prefix;
        edit.length = published.size() - prefix - suffix;
        edit.original = std::string(published.substr(prefix, edit.length));
        edit.replacement = header.substr(prefix, header.size() - prefix - suffix);
        best = edit;
      }
    }
  }
  if (best_distance > 4) {
    return std::nullopt;
  }
  return best;
}

std::string
apply_edit(std::string_view text, const KeyEdit& edit)
{
  std::string out(text.substr(0, edit.position));
  out += edit.replacement;
  out += text.substr(edit.position + edit.length);
  return out;
}

std::string
describe(const KeyEdit& edit, int bits)
{
  switch (edit.kind) {
  case KeyEdit::Kind::header:
    return fmt::format("at offset {} it reads '{}' where every {}-bit RSA key reads '{}'", edit.position,
                       edit.original, bits, edit.replacement);
  case KeyEdit::Kind::substitution:
    return fmt::format("the character '{}' at offset {} looks like a misread '{}'", edit.original, edit.position,
                       edit.replacement);
  case KeyEdit::Kind::insertion:
    return fmt::format("a character seems lost near offset {} (inserting '{}' there makes it load)", edit.position,
                       edit.replacement);
  case KeyEdit::Kind::deletion:
    return fmt::format("the character '{}' at offset {} seems to have crept in", edit.original, edit.position);
  }
  return {};
}

/// Whether `base64` loads as a key of `type`. A cheap ASN.1 parse of the SubjectPublicKeyInfo comes first so that
/// the repair search pays for OpenSSL's full key decoding only for candidates with a sound structure.
bool
loads(std::string_view base64, KeyType type)
{
  auto der = decode_base64(base64);
  if (!der) {
    return false;
  }
  if (!(type == KeyType::ed25519 && der->size() == k_ed25519_size)) {
    const unsigned char* cursor = der->data();
    X509_PUBKEY* spki = d2i_X509_PUBKEY(nullptr, &cursor, static_cast<long>(der->size()));
    const bool sound = spki != nullptr && cursor == der->data() + der->size();
    X509_PUBKEY_free(spki);
    if (!sound) {
      return false;
    }
  }
  return PublicKey::from_der(*der, type).has_value();
}

/// Insertion and deletion searches stop at this many successes: more than one means the repair is ambiguous.
constexpr size_t k_enough_candidates = 2;

/// The segment of `base64` (between `breaks`) that is one character shorter than the other inner segments.
std::optional<std::pair<size_t, size_t>>
find_short_line(size_t size, const std::vector<size_t>& breaks)
{
  if (breaks.size() < 3) {
    return std::nullopt;
  }
  // Inner segments: not the first (it shares its line with "p="), not the last (the rest of the key).
  std::vector<std::pair<size_t, size_t>> inner;
  for (size_t i = 0; i + 1 < breaks.size(); ++i) {
    inner.emplace_back(breaks[i], breaks[i + 1]);
  }
  std::map<size_t, size_t> counts;
  for (const auto& [first, last] : inner) {
    ++counts[last - first];
  }
  const auto mode = std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
                      return a.second < b.second;
                    })->first;
  if (counts[mode] < 2) {
    return std::nullopt;
  }
  std::optional<std::pair<size_t, size_t>> found;
  for (const auto& segment : inner) {
    if (segment.second - segment.first + 1 == mode) {
      if (found) {
        return std::nullopt;
      }
      found = segment;
    }
  }
  if (found && found->second > size) {
    return std::nullopt;
  }
  return found;
}

} // namespace

void
EvpPkeyDeleter::operator()(EVP_PKEY* key) const
{
  EVP_PKEY_free(key);
}

void
BioDeleter::operator()(BIO* bio) const
{
  BIO_free_all(bio);
}

void
EncodeCtxDeleter::operator()(EVP_ENCODE_CTX* context) const
{
  EVP_ENCODE_CTX_free(context);
}

size_t
rsa_spki_size(int bits)
{
  const size_t modulus = static_cast<size_t>(bits) / 8 + 1;
  const size_t integer = 1 + der_length_size(modulus) + modulus;
  const size_t sequence_content = integer + 5;
  const size_t sequence = 1 + der_length_size(sequence_content) + sequence_content;
  const size_t bit_string_content = 1 + sequence;
  const size_t bit_string = 1 + der_length_size(bit_string_content) + bit_string_content;
  const size_t spki_content = 15 + bit_string;
  return 1 + der_length_size(spki_content) + spki_content;
}

std::string
encode_base64(const std::vector<uint8_t>& bytes)
{
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length =
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(std::max(length, 0)));
  return out;
}

util::Result<std::vector<uint8_t>, KeyLoadError>
decode_base64(std::string_view base64)
{
  // Say precisely where the text stops being base64 before OpenSSL only says "no".
  size_t padding = 0;
  for (size_t i = 0; i < base64.size(); ++i) {
    const char c = base64[i];
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) {
      return util::unexpected(load_error(
        KeyLoadErrorKind::bad_padding, i - padding, 0,
        fmt::format("the padding '=' at offset {} is followed by more key text; '=' may only end the key",
                    i - padding)));
    }
    if (!is_base64_char(c)) {
      std::string what = util::escape_for_display(std::string_view(&c, 1));
      if (c == '"') {
        what += "' (a quote mark";
      } else if (c == '\\') {
        what += "' (a backslash";
      } else {
        what += "' (";
      }
      return util::unexpected(
        load_error(KeyLoadErrorKind::bad_character, i, 0,
                   fmt::format("character {} of the key is '{}{}not a base64 character)", i, what,
                               (c == '"' || c == '\\') ? ", " : "")));
    }
  }
  if (padding > 2 || base64.size() % 4 != 0) {
    const size_t rest = base64.size() % 4;
    std::string message = fmt::format("the key is {} characters long, but base64 comes in groups of 4", base64.size());
    if (padding > 2) {
      message = fmt::format("the key ends with {} '=' but base64 has at most 2", padding);
    } else if (rest != 0) {
      message += fmt::format(": {} character{} too many or {} missing", rest, rest == 1 ? "" : "s", 4 - rest);
    }
    return util::unexpected(load_error(KeyLoadErrorKind::bad_length, base64.size(), 0, std::move(message)));
  }

  EncodeCtxPtr context(EVP_ENCODE_CTX_new());
  if (!context) {
    throw std::bad_alloc();
  }
  EVP_DecodeInit(context.get());
  std::vector<uint8_t> out(base64.size() / 4 * 3 + 3);
  int written = 0;
  int total = 0;
  if (EVP_DecodeUpdate(context.get(), out.data(), &written, reinterpret_cast<const unsigned char*>(base64.data()),
                       static_cast<int>(base64.size()))
      < 0) {
    return util::unexpected(
      load_error(KeyLoadErrorKind::bad_character, 0, 0, "OpenSSL could not decode the key as base64"));
  }
  total = written;
  if (EVP_DecodeFinal(context.get(), out.data() + total, &written) < 0) {
    return util::unexpected(
      load_error(KeyLoadErrorKind::bad_padding, base64.size(), 0, "the base64 text of the key ends badly"));
  }
  total += written;
  out.resize(static_cast<size_t>(total));
  return out;
}

PublicKey::PublicKey(EvpPkeyPtr key, KeyInfo info, std::vector<uint8_t> spki)
  : m_key(std::move(key)), m_info(std::move(info)), m_spki(std::move(spki))
{
}

util::Result<PublicKey, KeyLoadError>
PublicKey::from_base64(std::string_view base64, KeyType type)
{
  if (base64.empty()) {
    return util::unexpected(load_error(KeyLoadErrorKind::empty, 0, 0, "the key is empty (revoked)"));
  }
  auto der = decode_base64(base64);
  if (!der) {
    return util::unexpected(der.error());
  }
  return from_der(*der, type);
}

util::Result<PublicKey, KeyLoadError>
PublicKey::from_der(const std::vector<uint8_t>& der, KeyType type)
{
  const size_t size = der.size();
  EvpPkeyPtr key;
  if (type == KeyType::ed25519 && size == k_ed25519_size) {
    key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, der.data(), der.size()));
  } else {
    const unsigned char* cursor = der.data();
    key.reset(d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size())));
    if (key && cursor != der.data() + der.size()) {
      const auto extra = static_cast<size_t>(der.data() + der.size() - cursor);
      return util::unexpected(load_error(
        KeyLoadErrorKind::not_a_key, 0, size,
        fmt::format("the key is followed by {} extra byte{}: something was appended to it", extra, extra == 1 ? "" : "s")));
    }
  }
  if (!key) {
    if (type == KeyType::ed25519) {
      return util::unexpected(
        load_error(KeyLoadErrorKind::not_a_key, 0, size,
                   fmt::format("the key is {} bytes; an Ed25519 key is {} bytes (RFC 8463)", size, k_ed25519_size)));
    }
    const int bits = nearest_rsa_size(size);
    const size_t expected = rsa_spki_size(bits);
    if (size == expected) {
      return util::unexpected(load_error(
        KeyLoadErrorKind::not_a_key, 0, size,
        fmt::format("the key is {} bytes, the size of a {}-bit RSA key, but its bytes are not a valid public key",
                    size, bits)));
    }
    return util::unexpected(load_error(
      KeyLoadErrorKind::not_a_key, 0, size,
      fmt::format("the key is {} bytes and is not a valid public key; a {}-bit RSA key is {} bytes", size, bits,
                  expected)));
  }

  const int id = EVP_PKEY_get_base_id(key.get());
  KeyInfo info;
  info.der_size = size;
  info.bits = EVP_PKEY_get_bits(key.get());
  if (id == EVP_PKEY_RSA) {
    info.type = KeyType::rsa;
  } else if (id == EVP_PKEY_ED25519) {
    info.type = KeyType::ed25519;
    info.bits = 256;
  } else {
    return util::unexpected(
      load_error(KeyLoadErrorKind::type_mismatch, 0, size,
                 fmt::format("the key is a valid {} key, which DKIM does not use", OBJ_nid2sn(id))));
  }
  if (info.type != type) {
    return util::unexpected(load_error(KeyLoadErrorKind::type_mismatch, 0, size,
                                       fmt::format("the key is an {} key but the record says 'k={}'",
                                                   to_string(info.type), to_string(type))));
  }

  std::vector<uint8_t> spki;
  const int spki_size = i2d_PUBKEY(key.get(), nullptr);
  if (spki_size > 0) {
    spki.resize(static_cast<size_t>(spki_size));
    unsigned char* cursor = spki.data();
    i2d_PUBKEY(key.get(), &cursor);
  }
  info.spki_sha256 = sha256_hex(spki);
  return PublicKey(std::move(key), std::move(info), std::move(spki));
}

bool
PublicKey::same_key(const PublicKey& other) const
{
  return EVP_PKEY_eq(m_key.get(), other.m_key.get()) == 1;
}

std::optional<KeyRepair>
find_repair(std::string_view base64, KeyType type, const std::vector<size_t>& breaks)
{
  if (base64.empty() || loads(base64, type)) {
    return std::nullopt;
  }
  KeyRepair repair;
  std::string text(base64);
  auto short_line = find_short_line(base64.size(), breaks);
  repair.short_line = short_line;

  const auto finish = [&](std::string repaired, size_t candidates) {
    auto key = PublicKey::from_base64(repaired, type);
    repair.repaired = std::move(repaired);
    repair.candidates = candidates;
    if (key) {
      repair.info = key->info();
    }
    std::string edits;
    // Describe every edit with offsets into the published text, which is what the admin sees.
    long shift = 0;
    for (const auto& edit : repair.edits) {
      KeyEdit shown = edit;
      shown.position = static_cast<size_t>(static_cast<long>(edit.position) + shift);
      edits += (edits.empty() ? "" : "; ") + describe(shown, repair.info.bits);
      shift += static_cast<long>(edit.length) - static_cast<long>(edit.replacement.size());
    }
    if (repair.short_line && repair.edits.back().kind == KeyEdit::Kind::insertion) {
      edits += fmt::format("; the line at offsets {}-{} of the published key is one character shorter than the "
                           "lines after it, so a character was most likely lost there",
                           repair.short_line->first, repair.short_line->second - 1);
    }
    repair.explanation = fmt::format(
      "This looks like a key copied from a PDF or a web page: {}. With {} it loads as a {}-bit {} key, but that does "
      "not make it the right key{}: copy the key again from the original source.",
      edits, repair.edits.size() == 1 ? "that repair" : "those repairs", repair.info.bits,
      type == KeyType::rsa ? "RSA" : "Ed25519",
      candidates > 1 ? " (other single repairs would make it load as well, so which one is right cannot be told)" : "");
    return repair;
  };

  if (type == KeyType::rsa) {
    if (auto header = find_header_damage(text)) {
      text = apply_edit(text, *header);
      repair.edits.push_back(*header);
      if (short_line) {
        const auto delta = static_cast<long>(header->replacement.size()) - static_cast<long>(header->length);
        if (short_line->first >= header->position + header->length) {
          short_line->first = static_cast<size_t>(static_cast<long>(short_line->first) + delta);
          short_line->second = static_cast<size_t>(static_cast<long>(short_line->second) + delta);
        }
      }
      if (loads(text, type)) {
        return finish(text, 1);
      }
    }
  }

  // One misread character.
  {
    std::optional<KeyEdit> first;
    size_t count = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      for (const auto group : k_confusables) {
        if (group.find(text[i]) == std::string_view::npos) {
          continue;
        }
        for (const char replacement : group) {
          if (replacement == text[i]) {
            continue;
          }
          std::string candidate = text;
          candidate[i] = replacement;
          if (loads(candidate, type)) {
            ++count;
            if (!first) {
              first = KeyEdit{KeyEdit::Kind::substitution, i, 1, std::string(1, text[i]), std::string(1, replacement)};
            }
          }
        }
      }
    }
    if (first) {
      repair.edits.push_back(*first);
      return finish(apply_edit(text, *first), count);
    }
  }

  // One lost character (only if the length allows it) or one extra character.
  if ((text.size() + 1) % 4 == 0) {
    std::optional<KeyEdit> first;
    size_t count = 0;
    const auto search = [&](size_t from, size_t to) {
      for (size_t i = from; i <= to && i <= text.size() && count < k_enough_candidates; ++i) {
        for (const char c : k_base64_alphabet) {
          std::string candidate = text;
          candidate.insert(i, 1, c);
          if (loads(candidate, type)) {
            ++count;
            if (!first) {
              first = KeyEdit{KeyEdit::Kind::insertion, i, 0, {}, std::string(1, c)};
            }
          }
        }
      }
    };
    if (short_line) {
      search(short_line->first, short_line->second);
    }
    if (!first) {
      search(0, text.size());
    }
    if (first) {
      repair.edits.push_back(*first);
      return finish(apply_edit(text, *first), count);
    }
  }
  if (text.size() % 4 == 1) {
    std::optional<KeyEdit> first;
    size_t count = 0;
    for (size_t i = 0; i < text.size() && count < k_enough_candidates; ++i) {
      std::string candidate = text;
      candidate.erase(i, 1);
      if (loads(candidate, type)) {
        ++count;
        if (!first) {
          first = KeyEdit{KeyEdit::Kind::deletion, i, 1, std::string(1, text[i]), {}};
        }
      }
    }
    if (first) {
      repair.edits.push_back(*first);
      return finish(apply_edit(text, *first), count);
    }
  }
  return std::nullopt;
}

} // namespace sendcheck::dkim
