#pragma once

// The DNS message format (RFC 1035 section 4.1) as the resolver's own readers and writer of wire messages use it:
// cares_resolver.cpp (walk_message, wire_name_length, write_query) and answer_records.cpp. Private to src/dns.

#include <sendcheck/dns/cares_resolver.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace sendcheck::dns::wire {

constexpr size_t k_header_size = 12;        // HFIXEDSZ
constexpr size_t k_question_fixed_size = 4; // QFIXEDSZ: type, class
constexpr size_t k_rr_fixed_size = 10;      // RRFIXEDSZ: type, class, TTL, RDLENGTH
constexpr uint16_t k_class_in = 1;          // C_IN
constexpr uint16_t k_class_chaos = 3;       // C_CHAOS
constexpr uint16_t k_type_cname = 5;        // T_CNAME
constexpr uint16_t k_type_soa = 6;          // T_SOA
constexpr uint16_t k_type_opt = 41;         // T_OPT: the EDNS pseudo-record (RFC 6891)
constexpr size_t k_opt_record_size = 11;    // EDNSFIXEDSZ: an OPT record without options
constexpr unsigned k_pointer_prefix = 0xc0; // INDIR_MASK: the two high bits of a compression pointer

/// The big-endian 16-bit value at `p`.
inline uint16_t
read16(const unsigned char* p)
{
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

/// The big-endian 32-bit value at `p`.
inline uint32_t
read32(const unsigned char* p)
{
  return (uint32_t{ p[0] } << 24) | (uint32_t{ p[1] } << 16) | (uint32_t{ p[2] } << 8) | uint32_t{ p[3] };
}

/// Whether the two octets at `at` of `message` (the caller knows both are there) are a compression pointer to
/// `target`.
inline bool
points_to(std::span<const unsigned char> message, size_t at, size_t target)
{
  const unsigned octet = message[at];
  return (octet & k_pointer_prefix) == k_pointer_prefix
         && ((size_t{ octet & ~k_pointer_prefix } << 8) | message[at + 1]) == target;
}

/// A name that wire_name_length accepted and that holds no compression pointer: the question's, as servers write
/// it. A name written as a pointer to it (0xc00c, nearly every owner) then needs no walk: what the pointer leads to
/// was checked already, and one pointer is within every limit.
class CheckedName
{
public:
  /// No name.
  CheckedName() = default;

  /// The name at `at` of `message`, which wire_name_length accepted; none if it holds a pointer.
  CheckedName(std::span<const unsigned char> message, size_t at)
  {
    size_t pos = at;
    while (message[pos] != 0) {
      if ((message[pos] & k_pointer_prefix) != 0) {
        return;
      }
      pos += message[pos] + 1;
    }
    m_at = at;
  }

  /// `wire_name_length(message, at)`, without the walk for a pointer to this name.
  std::optional<size_t>
  length_at(std::span<const unsigned char> message, size_t at) const
  {
    if (m_at != k_none && at + 1 < message.size() && points_to(message, at, m_at)) {
      return 2;
    }
    return wire_name_length(message, at);
  }

private:
  static constexpr size_t k_none = SIZE_MAX;
  size_t m_at = k_none;
};

} // namespace sendcheck::dns::wire
