#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sendcheck::dns {

/// An IPv4 or IPv6 address, stored in network byte order.
class IpAddress
{
public:
  enum class Family : uint8_t { v4, v6 };

  /// The IPv4 address 0.0.0.0.
  IpAddress() = default;

  /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (no brackets, no zone, no prefix); nullopt when invalid.
  static std::optional<IpAddress> parse(std::string_view text);

  /// An IPv4 address from its four octets in network order.
  static IpAddress v4(std::array<uint8_t, 4> octets);

  /// An IPv6 address from its sixteen octets in network order.
  static IpAddress v6(const std::array<uint8_t, 16>& octets);

  Family family() const { return m_family; }
  bool is_v4() const { return m_family == Family::v4; }
  bool is_v6() const { return m_family == Family::v6; }

  /// The address's octets: 4 for IPv4, 16 for IPv6.
  const uint8_t* bytes() const { return m_bytes.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }

  /// For an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 7208 §5.6), the IPv4 address; otherwise nullopt.
  std::optional<IpAddress> mapped_v4() const;

  /// Whether the first `prefix_length` bits equal those of `network` (same family required; a length beyond the
  /// family's width is clamped).
  bool in_network(const IpAddress& network, unsigned prefix_length) const;

  /// Canonical text: dotted quad, or RFC 5952 IPv6.
  std::string to_string() const;

  /// Appends the canonical text to `out` (IPv4 is written here: inet_ntop formats it through sprintf, which cost
  /// 2% of a whole --json run).
  void append_to(std::string& out) const;

  /// The room `write_text` needs: the longest canonical text (IPv6 with an IPv4 tail) and the terminator inet_ntop
  /// writes after it (INET6_ADDRSTRLEN).
  static constexpr size_t k_text_room = 46;

  /// Writes the canonical text at `out`, which has room for `k_text_room` bytes, and returns its end (for a writer
  /// that has its own buffer, such as the JSON report's).
  char* write_text(char* out) const;

  /// The reverse-lookup name: `4.3.2.1.in-addr.arpa` or the nibble form under `ip6.arpa`.
  std::string reverse_name() const;

  auto operator<=>(const IpAddress&) const = default;

private:
  Family m_family = Family::v4;
  std::array<uint8_t, 16> m_bytes{};
};

/// The canonical text of each address, in order (for JSON and messages).
std::vector<std::string> to_strings(std::span<const IpAddress> addresses);

} // namespace sendcheck::dns
