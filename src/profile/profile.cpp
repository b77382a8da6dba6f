#include <sendcheck/profile.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck {

namespace {

dns::IpAddress
ip(const char* text)
{
  return *dns::IpAddress::parse(text);
}

SenderProfile
make_directo_profile()
{
  SenderProfile profile;
  profile.name = "Directo";
  profile.ordinary_ips = {ip("90.190.150.210"), ip("90.190.150.211"), ip("90.190.150.212"), ip("90.190.150.213")};
  profile.bulk_ips = {ip("90.190.150.82")};
  profile.sending_host = "directo.gate.ee";
  profile.other_hosts = {"login.directo.ee"};
  profile.dkim_selector = "directo";
  profile.dkim_reference_domain = "directo.ee";
  profile.default_signing_domain = "directo.ee";
  profile.minimal_spf = "v=spf1 mx a:directo.gate.ee -all";
  profile.reply_to_sender = "<company>@event.data.directo.ee";
  profile.source = "built-in";
  return profile;
}

} // namespace

std::vector<dns::IpAddress>
SenderProfile::all_ips(bool with_bulk) const
{
  // One allocation (a copy of the ordinary list grew again for the bulk one): every domain checked calls this.
  std::vector<dns::IpAddress> ips;
  ips.reserve(ordinary_ips.size() + (with_bulk ? bulk_ips.size() : 0));
  ips.insert(ips.end(), ordinary_ips.begin(), ordinary_ips.end());
  if (with_bulk) {
    ips.insert(ips.end(), bulk_ips.begin(), bulk_ips.end());
  }
  return ips;
}

const SenderProfile&
directo_profile()
{
  static const SenderProfile profile = make_directo_profile();
  return profile;
}

} // namespace sendcheck

namespace sendcheck {

std::vector<std::string>
compact_ip_terms(const std::vector<dns::IpAddress>& addresses)
{
  std::vector<uint32_t> v4;
  std::vector<std::string> terms;
  for (const auto& address : addresses) {
    if (address.is_v4()) {
      const uint8_t* b = address.bytes();
      v4.push_back((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]});
    }
  }
  std::sort(v4.begin(), v4.end());
  v4.erase(std::unique(v4.begin(), v4.end()), v4.end());

  // Greedy: from the lowest address, take the largest aligned block whose every address is in the set.
  size_t i = 0;
  while (i < v4.size()) {
    const uint32_t start = v4[i];
    unsigned prefix = 32;
    while (prefix > 0) {
      const unsigned next = prefix - 1;
      const uint64_t size = uint64_t{1} << (32 - next);
      if (start % size != 0 || i + size > v4.size() || v4[i + size - 1] != start + size - 1) {
        break;
      }
      prefix = next;
    }
    const auto ip = dns::IpAddress::v4({static_cast<uint8_t>(start >> 24), static_cast<uint8_t>(start >> 16),
                                        static_cast<uint8_t>(start >> 8), static_cast<uint8_t>(start)});
    terms.push_back(prefix == 32 ? "ip4:" + ip.to_string() : fmt::format("ip4:{}/{}", ip.to_string(), prefix));
    i += size_t{1} << (32 - prefix);
  }
  for (const auto& address : addresses) {
    if (address.is_v6()) {
      const auto term = "ip6:" + address.to_string();
      if (std::find(terms.begin(), terms.end(), term) == terms.end()) {
        terms.push_back(term);
      }
    }
  }
  return terms;
}

} // namespace sendcheck
