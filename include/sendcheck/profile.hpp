#pragma once

#include <sendcheck/dns/ip_address.hpp>

#include <string>
#include <vector>

namespace sendcheck {

/// Everything sendcheck knows about the sender it checks for: the one place for the vendor's facts
/// (../shared/DESIGN.md). The built-in default is Directo's; nothing else in the code spells these values.
struct SenderProfile
{
  std::string name;                            ///< "Directo".
  std::vector<dns::IpAddress> ordinary_ips;    ///< Outbound addresses for ordinary mail.
  std::vector<dns::IpAddress> bulk_ips;        ///< Outbound addresses of the mass-mail module (invoices, newsletters).
  std::string sending_host;                    ///< The host customers put in SPF as `a:<host>`: "directo.gate.ee".
  std::vector<std::string> other_hosts;        ///< Other hosts the vendor names ("login.directo.ee").
  std::string dkim_selector;                   ///< "directo".
  std::string dkim_reference_domain;           ///< Where the vendor publishes its own key: "directo.ee".
  std::string default_signing_domain;          ///< The d= the vendor signs with when the customer has no key.
  std::string minimal_spf;                     ///< The smallest record the vendor shows.
  std::string reply_to_sender;                 ///< The From of the "Directo-Reply-To" mode, with `<company>`.
  std::string source;                          ///< Where this profile came from: "built-in" or a file name.

  /// The ordinary addresses followed by the bulk ones (the latter only when `with_bulk`).
  std::vector<dns::IpAddress> all_ips(bool with_bulk) const;
};

/// The SPF terms that authorize exactly `addresses`, compacted into the fewest CIDR blocks that cover no other
/// address: 90.190.150.210-.213 become `ip4:90.190.150.210/31 ip4:90.190.150.212/31` (a /30 would also cover .208
/// and .209). A lone address has no prefix (`ip4:90.190.150.82`); IPv6 addresses become `ip6:` terms. Sorted.
std::vector<std::string> compact_ip_terms(const std::vector<dns::IpAddress>& addresses);

/// The built-in profile: Directo's documented facts.
const SenderProfile& directo_profile();

} // namespace sendcheck
