#include <sendcheck/dns/ip_address.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace sendcheck::dns {

std::optional<IpAddress>
IpAddress::parse(std::string_view text)
{
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) {
    return std::nullopt;
  }
  const std::string buffer(text);
  if (buffer.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  std::array<uint8_t, 16> octets{};
  if (inet_pton(AF_INET, buffer.c_str(), octets.data()) == 1) {
    return v4({octets[0], octets[1], octets[2], octets[3]});
  }
  if (inet_pton(AF_INET6, buffer.c_str(), octets.data()) == 1) {
    return v6(octets);
  }
  return std::nullopt;
}

IpAddress
IpAddress::v4(std::array<uint8_t, 4> octets)
{
  IpAddress address;
  address.m_family = Family::v4;
  std::copy(octets.begin(), octets.end(), address.m_bytes.begin());
  return address;
}

IpAddress
IpAddress::v6(const std::array<uint8_t, 16>& octets)
{
  IpAddress address;
  address.m_family = Family::v6;
  address.m_bytes = octets;
  return address;
}

std::optional<IpAddress>
IpAddress::mapped_v4() const
{
  static constexpr std::array<uint8_t, 12> k_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!is_v6() || !std::equal(k_prefix.begin(), k_prefix.end(), m_bytes.begin())) {
    return std::nullopt;
  }
  return v4({m_bytes[12], m_bytes[13], m_bytes[14], m_bytes[15]});
}

bool
IpAddress::in_network(const IpAddress& network, unsigned prefix_length) const
{
  if (m_family != network.m_family) {
    return false;
  }
  const unsigned bits = std::min<unsigned>(prefix_length, static_cast<unsigned>(size() * 8));
  const unsigned whole = bits / 8;
  if (std::memcmp(m_bytes.data(), network.m_bytes.data(), whole) != 0) {
    return false;
  }
  const unsigned rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (m_bytes[whole] & mask) == (network.m_bytes[whole] & mask);
}

std::string
IpAddress::to_string() const
{
  std::string out;
  append_to(out);
  return out;
}

void
IpAddress::append_to(std::string& out) const
{
  char buffer[k_text_room];
  out.append(buffer, write_text(buffer));
}

static_assert(IpAddress::k_text_room == INET6_ADDRSTRLEN);

namespace {

/// An IPv4 octet's decimal digits, padded to three, and how many there are: four bytes, copied whole.
struct OctetText
{
  std::array<char, 3> digits;
  uint8_t size;
};

constexpr std::array<OctetText, 256>
make_octet_texts()
{
  std::array<OctetText, 256> out{};
  for (unsigned value = 0; value < out.size(); ++value) {
    auto& text = out[value];
    if (value >= 100) {
      text.digits[text.size++] = static_cast<char>('0' + value / 100);
    }
    if (value >= 10) {
      text.digits[text.size++] = static_cast<char>('0' + value / 10 % 10);
    }
    text.digits[text.size++] = static_cast<char>('0' + value % 10);
  }
  return out;
}

/// Looked up instead of computed: the digits by division and a branch per digit cost about 130 instructions an
/// address, and the JSON report writes several per domain.
constexpr std::array<OctetText, 256> k_octet_texts = make_octet_texts();

static_assert(sizeof(OctetText) == 4);

} // namespace

char*
IpAddress::write_text(char* out) const
{
  if (!is_v4()) {
    // inet_ntop cannot fail with this family and room; if it did, the text would be empty.
    if (inet_ntop(AF_INET6, m_bytes.data(), out, k_text_room) == nullptr) {
      return out;
    }
    return out + std::strlen(out);
  }
  // Each octet's four table bytes are stored whole (the room is far more than the 15 of the longest text), and the
  // dot, or the end, goes over the padding.
  for (size_t i = 0; i < 4; ++i) {
    const OctetText& text = k_octet_texts[m_bytes[i]];
    std::memcpy(out, &text, sizeof(text));
    out += text.size;
    *out = '.';
    out += i < 3 ? 1 : 0;
  }
  return out;
}

std::string
IpAddress::reverse_name() const
{
  std::string name;
  if (is_v4()) {
    for (int i = 3; i >= 0; --i) {
      name += fmt::format("{}.", m_bytes[static_cast<size_t>(i)]);
    }
    return name + "in-addr.arpa";
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    const uint8_t byte = m_bytes[static_cast<size_t>(i)];
    name += k_hex[byte & 0x0f];
    name += '.';
    name += k_hex[byte >> 4];
    name += '.';
  }
  return name + "ip6.arpa";
}

std::vector<std::string>
to_strings(std::span<const IpAddress> addresses)
{
  std::vector<std::string> out;
  out.reserve(addresses.size());
  for (const auto& address : addresses) {
    out.push_back(address.to_string());
  }
  return out;
}

} // namespace sendcheck::dns
