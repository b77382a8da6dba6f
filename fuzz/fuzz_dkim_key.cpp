// Fuzzes the DKIM key-record parser and key loading: parse_key_record on the input, then PublicKey::from_base64 on
// its p= value; decode_base64/encode_base64 round trip on the raw input.

#include "fuzz_common.hpp"

#include <sendcheck/dkim/key_record.hpp>
#include <sendcheck/dkim/public_key.hpp>

#include <cstddef>
#include <cstdint>

using namespace sendcheck;

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text = fuzz::as_text(data, size);
  const auto record = dkim::parse_key_record(text);
  if (record) {
    (void)record->allows_email();
    (void)record->find("p");
    for (const size_t at : record->public_key_breaks) {
      if (at > record->public_key.size()) {
        fuzz::fail("a key line break past the end of the key", text);
      }
    }
    if (!record->revoked()) {
      const auto key = dkim::PublicKey::from_base64(record->public_key, record->key_type);
      if (key) {
        const auto again = dkim::PublicKey::from_der(key->spki_der(), record->key_type);
        if (!again || !again->same_key(*key)) {
          fuzz::fail("a loaded key does not load again from its own SPKI", text);
        }
      } else if (key.error().position > record->public_key.size()) {
        fuzz::fail("key error position past the end of the key", text, key.error().message);
      }
    }
  } else if (record.error().position > text.size()) {
    fuzz::fail("record error position past the end", text, record.error().message);
  }

  const auto bytes = dkim::decode_base64(text);
  if (bytes) {
    const std::string encoded = dkim::encode_base64(*bytes);
    const auto decoded = dkim::decode_base64(encoded);
    if (!decoded || *decoded != *bytes) {
      fuzz::fail("base64 round trip changed the bytes", text, encoded);
    }
  }
  return 0;
}
