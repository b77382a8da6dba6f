#pragma once

#include <sendcheck/cli/options.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/util/task.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The sender-profile modes of the command line: `--profile FILE` (loading), `--show-profile`, and `--allowlist`
// (the addresses an SMTP server must accept from the sender, in several formats, and with `--check` compared with
// what the sender's hosts resolve to). None of them needs a domain.

namespace sendcheck::cli {

/// The output of `--allowlist`.
enum class AllowlistFormat : uint8_t {
  plain,    ///< One address a line, ordinary then bulk, in the profile's order.
  cidr,     ///< The fewest CIDR blocks covering exactly the addresses, one a line, always with a prefix length.
  postfix,  ///< A `mynetworks = ...` line for Postfix's main.cf (IPv6 in brackets), after comment lines.
  nftables, ///< `define <name>_senders = { ... }` (and `<name>_senders_v6` for IPv6), after comment lines.
  json      ///< One JSON object: the addresses with their kind, and the CIDR blocks.
};

/// Whether the bulk-mail addresses are part of the list (`--no-bulk` leaves them out).
enum class BulkAddresses : uint8_t { include, leave_out };

/// The format named `name` ("plain", "cidr", "postfix", "nftables", "json"); nullopt for any other name.
std::optional<AllowlistFormat> parse_allowlist_format(std::string_view name);

/// The allowlist of `profile` in `format`, ending in a newline.
std::string render_allowlist(const SenderProfile& profile, AllowlistFormat format, BulkAddresses bulk);

/// The profile in effect as text: every field, and where the profile came from.
std::string render_profile_text(const SenderProfile& profile);

/// The profile in effect as JSON: `{"source": ..., "profile": {...}}`, where "profile" is a valid profile file
/// (profile_to_file_json()).
std::string render_profile_json(const SenderProfile& profile);

/// What one of the profile's hosts resolves to.
struct HostAddresses
{
  std::string host;                      ///< The host asked ("directo.gate.ee").
  std::vector<dns::IpAddress> addresses; ///< Its A and AAAA addresses, in the order received.
  dns::AnswerPtr a;                      ///< The A answer.
  dns::AnswerPtr aaaa;                   ///< The AAAA answer.

  /// Whether either lookup failed (SERVFAIL, timeout, ...), so the host's addresses are not known.
  bool failed() const;
};

/// The profile's addresses compared with what its hosts resolve to.
struct AllowlistComparison
{
  std::vector<HostAddresses> hosts;        ///< The sending host first, then the other hosts.
  std::vector<dns::IpAddress> compared;    ///< The profile's addresses compared (without bulk under --no-bulk).
  std::vector<dns::IpAddress> unresolved;  ///< Profile addresses that no host resolves to.
  std::vector<dns::IpAddress> unlisted;    ///< Addresses some host resolves to that the profile does not list.

  /// Whether every lookup answered and DNS and the profile hold the same addresses.
  bool agree() const;

  /// Whether any host's lookup failed.
  bool any_failed() const;

  /// 0 when DNS and the profile agree; 1 when they differ (an unlisted address is a difference even when another
  /// lookup failed); 3 when a lookup failed and nothing unlisted was found.
  int exit_code() const;
};

/// Resolves the A and AAAA records of the profile's sending host and other hosts through `resolver` and compares
/// them with the profile's addresses (leaving out the bulk ones when `bulk` says so). `profile` must outlive the
/// task.
util::Task<AllowlistComparison> compare_allowlist(dns::Resolver& resolver, const SenderProfile& profile,
                                                  BulkAddresses bulk);

/// The comparison as text for a person: each host's addresses, the differences, and what they mean for a customer
/// ("a:directo.gate.ee in your SPF covers only 90.190.150.212 today; Directo documents four ordinary addresses").
std::string render_comparison_text(const AllowlistComparison& comparison, const SenderProfile& profile);

/// The comparison as one JSON object (hosts, compared, missing_from_dns, not_in_profile, explanation, agree,
/// exit_code, and `notes` about where the answers came from).
std::string render_comparison_json(const AllowlistComparison& comparison, const SenderProfile& profile,
                                   const std::vector<std::string>& notes);

/// Handles the profile options before any domain is checked: loads `--profile` into `options.profile` (the built-in
/// profile when none is given), then runs `--show-profile` or `--allowlist [--check]`. Returns the exit code when
/// one of those modes ran (or the profile could not be loaded: 2), nullopt when the domain checks should run.
std::optional<int> run_profile_modes(Options& options);

} // namespace sendcheck::cli
