#pragma once

// The DNS message format (RFC 1035 section 4.1) as the resolver's own readers and writer of wire messages use it:
// cares_resolver.cpp (walk_message, wire_name_length, write_query) and answer_records.cpp. Private to src/dns.

#include <cstddef>
#include <cstdint>

namespace sendcheck::dns::wire {

constexpr size_t k_header_size = 12;        // HFIXEDSZ
constexpr size_t k_question_fixed_size = 4; // QFIXEDSZ: type, class
constexpr size_t k_rr_fixed_size = 10;      // RRFIXEDSZ: type, class, TTL, RDLENGTH
constexpr uint16_t k_class_in = 1;          // C_IN
constexpr uint16_t k_class_chaos = 3;       // C_CHAOS
constexpr uint16_t k_type_cname = 5;        // T_CNAME
constexpr uint16_t k_type_soa = 6;          // T_SOA
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

} // namespace sendcheck::dns::wire
