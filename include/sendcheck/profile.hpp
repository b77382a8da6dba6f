#pragma once

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/util/result.hpp>

#include <string>
#include <string_view>
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

  /// Field-by-field equality (a profile file read back equals the profile it was written from).
  bool operator==(const SenderProfile&) const = default;
};

/// The SPF terms that authorize exactly `addresses`, compacted into the fewest CIDR blocks that cover no other
/// address: 90.190.150.210-.213 become `ip4:90.190.150.210/31 ip4:90.190.150.212/31` (a /30 would also cover .208
/// and .209). A lone address has no prefix (`ip4:90.190.150.82`); IPv6 addresses become `ip6:` terms. Sorted.
std::vector<std::string> compact_ip_terms(const std::vector<dns::IpAddress>& addresses);

/// The built-in profile: Directo's documented facts.
const SenderProfile& directo_profile();

/// Reads a profile file (JSON, format in docs/profile.md) at `path`. Fields left out take the built-in value; an
/// unknown field, a wrong type or a bad value is an error naming the file, the field and what is expected
/// ("profile.json: 'ordinary_ips'[2]: '90.190.150.300' is not an IPv4 or IPv6 address"). `source` is set to `path`.
util::Result<SenderProfile, std::string> load_profile(const std::string& path);

/// Parses the JSON profile `text` like load_profile; `origin` is the name errors start with and the profile's
/// `source`.
util::Result<SenderProfile, std::string> parse_profile(std::string_view text, const std::string& origin);

/// The profile as a profile file: a JSON object with every field load_profile reads (not `source`), indented by two
/// spaces, ending in a newline. parse_profile() reads it back to an equal profile.
std::string profile_to_file_json(const SenderProfile& profile);

} // namespace sendcheck
