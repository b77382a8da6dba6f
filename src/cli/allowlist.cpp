#include <sendcheck/cli/allowlist.hpp>

#include <sendcheck/cli/app.hpp>
#include <sendcheck/cli/resolver_stack.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

namespace sendcheck::cli {

namespace {

using Json = nlohmann::ordered_json;

/// The addresses of `profile` for the list: ordinary then bulk (unless left out), each once.
std::vector<dns::IpAddress>
listed_addresses(const SenderProfile& profile, BulkAddresses bulk)
{
  std::vector<dns::IpAddress> out;
  for (const auto& ip : profile.all_ips(bulk == BulkAddresses::include)) {
    if (std::find(out.begin(), out.end(), ip) == out.end()) {
      out.push_back(ip);
    }
  }
  return out;
}

/// Whether `ip` is one of the profile's bulk (and not ordinary) addresses.
bool
is_bulk(const SenderProfile& profile, const dns::IpAddress& ip)
{
  return std::find(profile.bulk_ips.begin(), profile.bulk_ips.end(), ip) != profile.bulk_ips.end()
         && std::find(profile.ordinary_ips.begin(), profile.ordinary_ips.end(), ip) == profile.ordinary_ips.end();
}

/// The CIDR blocks covering exactly `addresses`: compact_ip_terms() without the SPF prefix, with /32 or /128 on
/// single addresses.
std::vector<std::string>
cidr_blocks(const std::vector<dns::IpAddress>& addresses)
{
  std::vector<std::string> out;
  for (auto term : compact_ip_terms(addresses)) {
    const bool v6 = term.starts_with("ip6:");
    term.erase(0, 4);
    if (term.find('/') == std::string::npos) {
      term += v6 ? "/128" : "/32";
    }
    out.push_back(term);
  }
  return out;
}

/// `name` as an nftables variable name: lower-case letters, digits and '_'.
std::string
nft_identifier(std::string_view name)
{
  std::string out;
  for (const char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') {
    out.pop_back();
  }
  if (out.empty() || (out.front() >= '0' && out.front() <= '9')) {
    out.insert(0, "sender_");
  }
  return out;
}

/// `items` joined with `separator`.
std::string
join(const std::vector<std::string>& items, std::string_view separator)
{
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += separator;
    }
    out += item;
  }
  return out;
}

/// The text of each address.
std::vector<std::string>
texts(const std::vector<dns::IpAddress>& ips)
{
  std::vector<std::string> out;
  out.reserve(ips.size());
  for (const auto& ip : ips) {
    out.push_back(ip.to_string());
  }
  return out;
}

/// "one" ... "ten", then digits.
std::string
count_word(size_t n)
{
  static const char* const k_words[] = {"no",  "one", "two",   "three", "four", "five",
                                        "six", "seven", "eight", "nine",  "ten"};
  return n < std::size(k_words) ? k_words[n] : std::to_string(n);
}

/// "address" or "addresses" after `n`.
std::string
addresses_word(size_t n)
{
  return n == 1 ? "address" : "addresses";
}

/// "the profile (built-in)" / "the profile (FILE)".
std::string
profile_origin(const SenderProfile& profile)
{
  return profile.source == "built-in" ? "the built-in profile" : fmt::format("the profile {}", profile.source);
}

/// The comment line that says what a list is.
std::string
list_heading(const SenderProfile& profile, BulkAddresses bulk)
{
  return fmt::format("# {}'s sending addresses{} (sendcheck, {})", profile.name,
                     bulk == BulkAddresses::leave_out ? ", without the bulk-mail ones" : "", profile_origin(profile));
}

std::string
render_postfix(const SenderProfile& profile, BulkAddresses bulk)
{
  std::vector<std::string> blocks;
  for (const auto& block : cidr_blocks(listed_addresses(profile, bulk))) {
    // Postfix writes IPv6 networks in brackets: [2001:db8::]/64.
    // Appended piece by piece: GCC 12 at -O3 takes "[" + ... for an overlapping copy (a false -Wrestrict).
    if (block.find(':') == std::string::npos) {
      blocks.push_back(block);
      continue;
    }
    const auto slash = block.find('/');
    std::string bracketed = "[";
    bracketed.append(block, 0, slash);
    bracketed += ']';
    bracketed.append(block, slash);
    blocks.push_back(std::move(bracketed));
  }
  std::string out = list_heading(profile, bulk) + "\n";
  out += "# In /etc/postfix/main.cf, add these after the networks mynetworks already lists (postconf mynetworks):\n";
  out += "mynetworks = " + join(blocks, " ") + "\n";
  return out;
}

std::string
render_nftables(const SenderProfile& profile, BulkAddresses bulk)
{
  std::vector<std::string> v4;
  std::vector<std::string> v6;
  for (const auto& block : cidr_blocks(listed_addresses(profile, bulk))) {
    // Single addresses without the /32 or /128: nftables reads them as such.
    const auto plain = block.ends_with("/32") || block.ends_with("/128") ? block.substr(0, block.find('/')) : block;
    (block.find(':') == std::string::npos ? v4 : v6).push_back(plain);
  }
  const auto name = nft_identifier(profile.name) + "_senders";
  std::string out = list_heading(profile, bulk) + "\n";
  std::string uses;
  if (!v4.empty()) {
    uses += fmt::format("ip saddr ${} tcp dport {{ 25, 465, 587 }} accept", name);
  }
  if (!v6.empty()) {
    uses += fmt::format("{}ip6 saddr ${}_v6 tcp dport {{ 25, 465, 587 }} accept", uses.empty() ? "" : "; ", name);
  }
  out += "# Use in a rule: " + uses + "\n";
  if (!v4.empty()) {
    out += fmt::format("define {} = {{ {} }}\n", name, join(v4, ", "));
  }
  if (!v6.empty()) {
    out += fmt::format("define {}_v6 = {{ {} }}\n", name, join(v6, ", "));
  }
  return out;
}

std::string
render_json_list(const SenderProfile& profile, BulkAddresses bulk)
{
  const auto ips = listed_addresses(profile, bulk);
  Json out;
  out["profile"] = profile.name;
  out["source"] = profile.source;
  out["bulk_included"] = bulk == BulkAddresses::include;
  Json addresses = Json::array();
  for (const auto& ip : ips) {
    addresses.push_back({{"address", ip.to_string()},
                         {"family", ip.is_v4() ? "ipv4" : "ipv6"},
                         {"kind", is_bulk(profile, ip) ? "bulk" : "ordinary"}});
  }
  out["addresses"] = std::move(addresses);
  out["cidr"] = cidr_blocks(ips);
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

/// "ok", or the status of the lookups that did not answer with addresses: a failure beats "nxdomain"/"nodata".
std::string
host_status(const HostAddresses& host)
{
  for (const auto& answer : {host.a, host.aaaa}) {
    if (answer && dns::is_failure(answer->status)) {
      return std::string(dns::to_string(answer->status));
    }
  }
  if (!host.addresses.empty()) {
    return "ok";
  }
  return host.a ? std::string(dns::to_string(host.a->status)) : "error";
}

/// What a failed lookup of `host` was, for text: "A: timeout (127.0.0.1:53: no answer)".
std::string
failure_text(const HostAddresses& host)
{
  std::vector<std::string> parts;
  for (const auto& [type, answer] : {std::pair{"A", host.a}, std::pair{"AAAA", host.aaaa}}) {
    if (answer && dns::is_failure(answer->status)) {
      std::string part = fmt::format("{} lookup failed: {}", type, dns::to_string(answer->status));
      std::vector<std::string> where;
      for (const auto* piece : {&answer->server, &answer->detail}) {
        if (!piece->empty()) {
          where.push_back(*piece);
        }
      }
      if (!where.empty()) {
        part += " (" + join(where, ": ") + ")";
      }
      parts.push_back(part);
    }
  }
  return join(parts, "; ");
}

/// The hosts that resolve to `ip`.
std::vector<std::string>
hosts_of(const AllowlistComparison& comparison, const dns::IpAddress& ip)
{
  std::vector<std::string> out;
  for (const auto& host : comparison.hosts) {
    if (std::find(host.addresses.begin(), host.addresses.end(), ip) != host.addresses.end()) {
      out.push_back(host.host);
    }
  }
  return out;
}

/// What the comparison means for a customer who authorizes the sender with `a:<sending host>` or an allowlist.
std::vector<std::string>
explain(const AllowlistComparison& comparison, const SenderProfile& profile)
{
  std::vector<std::string> out;
  const auto& sending = comparison.hosts.front();
  std::vector<dns::IpAddress> ordinary;
  std::vector<dns::IpAddress> bulk;
  for (const auto& ip : comparison.compared) {
    (is_bulk(profile, ip) ? bulk : ordinary).push_back(ip);
  }
  const auto covered = [&](const std::vector<dns::IpAddress>& ips) {
    std::vector<dns::IpAddress> in;
    for (const auto& ip : ips) {
      if (std::find(sending.addresses.begin(), sending.addresses.end(), ip) != sending.addresses.end()) {
        in.push_back(ip);
      }
    }
    return in;
  };
  const auto covered_ordinary = covered(ordinary);
  const auto covered_bulk = covered(bulk);
  const std::string term = "a:" + profile.sending_host;

  if (sending.failed()) {
    out.push_back(fmt::format("What {} in your SPF covers is unknown: {}.", term, failure_text(sending)));
  } else if (covered_ordinary.size() == ordinary.size() && covered_bulk.size() == bulk.size()) {
    out.push_back(fmt::format("{} in your SPF covers all {} of {}'s documented sending {} today.", term,
                              count_word(ordinary.size() + bulk.size()), profile.name,
                              addresses_word(ordinary.size() + bulk.size())));
  } else if (!ordinary.empty() && covered_ordinary.size() == ordinary.size() && covered_bulk.empty()) {
    out.push_back(fmt::format("{} in your SPF covers all {} ordinary {} today, but not the bulk-mail {} {}.", term,
                              count_word(ordinary.size()), addresses_word(ordinary.size()),
                              addresses_word(bulk.size()), join(texts(bulk), ", ")));
    out.push_back(fmt::format("Bulk mail (invoices, mass mail) fails SPF unless your record lists {} as {} "
                              "(sendcheck --suggest DOMAIN prints such a record).",
                              bulk.size() == 1 ? "it" : "them", bulk.size() == 1 ? "an ip4:/ip6: term" : "ip4:/ip6: terms"));
  } else {
    const std::string covers =
      sending.addresses.empty()
        ? fmt::format("nothing today ({} has no address: {})", profile.sending_host, host_status(sending))
      : covered_ordinary.empty() && covered_bulk.empty()
        ? fmt::format("none of them today ({} resolves to {})", profile.sending_host,
                      join(texts(sending.addresses), ", "))
        : fmt::format("only {} today", join(texts(covered(comparison.compared)), ", "));
    std::string documented = fmt::format("{} documents {} ordinary {} ({})", profile.name,
                                         count_word(ordinary.size()), addresses_word(ordinary.size()),
                                         join(texts(ordinary), ", "));
    if (!bulk.empty()) {
      documented += fmt::format(" and {} bulk-mail {} ({})", count_word(bulk.size()), addresses_word(bulk.size()),
                                join(texts(bulk), ", "));
    }
    out.push_back(fmt::format("{} in your SPF covers {}; {}.", term, covers, documented));
    out.push_back(fmt::format("Mail {} sends from the others fails SPF unless your record lists them as ip4:/ip6: "
                              "terms (sendcheck --suggest --ip-style ip4 DOMAIN prints such a record).",
                              profile.name));
    out.push_back(fmt::format("On your own SMTP server, allow the profile's addresses (sendcheck --allowlist), not "
                              "what {} resolves to.",
                              profile.sending_host));
  }
  for (const auto& ip : comparison.unlisted) {
    const auto hosts = hosts_of(comparison, ip);
    const bool via_sending_host = std::find(hosts.begin(), hosts.end(), profile.sending_host) != hosts.end();
    out.push_back(fmt::format(
      "{} resolves to {}, which {} does not list{}. Ask {} whether mail is sent from it; if it is, add it to a "
      "profile file (sendcheck --show-profile --json, then --profile FILE) before building an allowlist.",
      join(hosts, " and "), ip.to_string(), profile_origin(profile),
      via_sending_host ? fmt::format(": {} in SPF covers it, an allowlist built from the profile does not", term)
                       : "",
      profile.name));
  }
  return out;
}

} // namespace

std::optional<AllowlistFormat>
parse_allowlist_format(std::string_view name)
{
  static const std::map<std::string_view, AllowlistFormat> k_formats{{"plain", AllowlistFormat::plain},
                                                                     {"cidr", AllowlistFormat::cidr},
                                                                     {"postfix", AllowlistFormat::postfix},
                                                                     {"nftables", AllowlistFormat::nftables},
                                                                     {"json", AllowlistFormat::json}};
  const auto found = k_formats.find(name);
  if (found == k_formats.end()) {
    return std::nullopt;
  }
  return found->second;
}

std::string
render_allowlist(const SenderProfile& profile, AllowlistFormat format, BulkAddresses bulk)
{
  switch (format) {
  case AllowlistFormat::plain:
    return join(texts(listed_addresses(profile, bulk)), "\n") + "\n";
  case AllowlistFormat::cidr:
    return join(cidr_blocks(listed_addresses(profile, bulk)), "\n") + "\n";
  case AllowlistFormat::postfix:
    return render_postfix(profile, bulk);
  case AllowlistFormat::nftables:
    return render_nftables(profile, bulk);
  case AllowlistFormat::json:
    return render_json_list(profile, bulk);
  }
  return {};
}

std::string
render_profile_text(const SenderProfile& profile)
{
  const auto line = [](std::string_view label, std::string_view value) {
    return fmt::format("  {:<24}{}\n", label, value.empty() ? "(none)" : value);
  };
  std::string out = fmt::format("Sender profile: {} ({})\n", profile.name,
                                profile.source == "built-in" ? "built-in" : "from " + profile.source);
  out += line("ordinary addresses", join(texts(profile.ordinary_ips), " "));
  out += line("bulk-mail addresses", join(texts(profile.bulk_ips), " "));
  out += line("sending host", profile.sending_host);
  out += line("other hosts", join(profile.other_hosts, " "));
  out += line("DKIM selector", profile.dkim_selector);
  out += line("DKIM reference domain", profile.dkim_reference_domain);
  out += line("default signing domain", profile.default_signing_domain);
  out += line("minimal SPF record", profile.minimal_spf);
  out += line("Reply-To mode sender", profile.reply_to_sender);
  return out;
}

std::string
render_profile_json(const SenderProfile& profile)
{
  Json out;
  out["source"] = profile.source;
  out["profile"] = Json::parse(profile_to_file_json(profile));
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

bool
HostAddresses::failed() const
{
  return (a && dns::is_failure(a->status)) || (aaaa && dns::is_failure(aaaa->status));
}

bool
AllowlistComparison::agree() const
{
  return !any_failed() && unresolved.empty() && unlisted.empty();
}

bool
AllowlistComparison::any_failed() const
{
  return std::any_of(hosts.begin(), hosts.end(), [](const HostAddresses& host) { return host.failed(); });
}

int
AllowlistComparison::exit_code() const
{
  if (!unlisted.empty()) {
    return static_cast<int>(ExitCode::problem);
  }
  if (any_failed()) {
    return static_cast<int>(ExitCode::dns_unavailable);
  }
  return static_cast<int>(unresolved.empty() ? ExitCode::ok : ExitCode::problem);
}

util::Task<AllowlistComparison>
compare_allowlist(dns::Resolver& resolver, const SenderProfile& profile, BulkAddresses bulk)
{
  AllowlistComparison comparison;
  std::vector<std::string> names{profile.sending_host};
  for (const auto& host : profile.other_hosts) {
    if (std::find(names.begin(), names.end(), host) == names.end()) {
      names.push_back(host);
    }
  }
  for (const auto& name : names) {
    resolver.prefetch(name, dns::RRType::a);
    resolver.prefetch(name, dns::RRType::aaaa);
  }
  for (const auto& name : names) {
    HostAddresses host;
    host.host = name;
    host.a = co_await dns::lookup(resolver, name, dns::RRType::a);
    host.aaaa = co_await dns::lookup(resolver, name, dns::RRType::aaaa);
    for (const auto& answer : {host.a, host.aaaa}) {
      if (answer->status == dns::Status::ok) {
        host.addresses.insert(host.addresses.end(), answer->addresses.begin(), answer->addresses.end());
      }
    }
    comparison.hosts.push_back(std::move(host));
  }

  comparison.compared = listed_addresses(profile, bulk);
  const auto all_profile = listed_addresses(profile, BulkAddresses::include);
  for (const auto& ip : comparison.compared) {
    if (hosts_of(comparison, ip).empty()) {
      comparison.unresolved.push_back(ip);
    }
  }
  for (const auto& host : comparison.hosts) {
    for (const auto& ip : host.addresses) {
      // Under --no-bulk a host resolving to a bulk address is not a difference: the profile lists it.
      const bool known = std::find(all_profile.begin(), all_profile.end(), ip) != all_profile.end();
      if (!known && std::find(comparison.unlisted.begin(), comparison.unlisted.end(), ip) == comparison.unlisted.end()) {
        comparison.unlisted.push_back(ip);
      }
    }
  }
  co_return comparison;
}

std::string
render_comparison_text(const AllowlistComparison& comparison, const SenderProfile& profile)
{
  std::string out = fmt::format("{}'s hosts in DNS, compared with {}:\n", profile.name, profile_origin(profile));
  size_t width = 0;
  for (const auto& host : comparison.hosts) {
    width = std::max(width, host.host.size());
  }
  for (const auto& host : comparison.hosts) {
    std::string shown;
    if (host.failed()) {
      shown = failure_text(host);
      if (!host.addresses.empty()) {
        shown = join(texts(host.addresses), " ") + "; " + shown;
      }
    } else if (host.addresses.empty()) {
      shown = fmt::format("no address ({})", host_status(host));
    } else {
      shown = join(texts(host.addresses), " ");
    }
    out += fmt::format("  {:<{}}  {}\n", host.host, width, shown);
  }
  out += "\n";
  std::vector<std::string> unresolved;
  for (const auto& ip : comparison.unresolved) {
    unresolved.push_back(ip.to_string() + (is_bulk(profile, ip) ? " (bulk)" : ""));
  }
  out += fmt::format("In the profile, no host resolves to: {}{}\n", unresolved.empty() ? "-" : join(unresolved, ", "),
                     comparison.any_failed() ? " (as far as DNS answered)" : "");
  std::vector<std::string> unlisted;
  for (const auto& ip : comparison.unlisted) {
    unlisted.push_back(fmt::format("{} ({})", ip.to_string(), join(hosts_of(comparison, ip), ", ")));
  }
  out += fmt::format("In DNS, not in the profile:          {}\n", unlisted.empty() ? "-" : join(unlisted, ", "));
  out += "\n";
  for (const auto& sentence : explain(comparison, profile)) {
    out += sentence + "\n";
  }
  if (comparison.agree()) {
    out += fmt::format("Result: DNS and the profile agree ({} {}).\n", count_word(comparison.compared.size()),
                       addresses_word(comparison.compared.size()));
  } else if (comparison.exit_code() == static_cast<int>(ExitCode::dns_unavailable)) {
    out += "Result: DNS could not answer for every host, so the comparison is incomplete.\n";
  } else {
    out += "Result: DNS and the profile differ.\n";
  }
  return out;
}

std::string
render_comparison_json(const AllowlistComparison& comparison, const SenderProfile& profile,
                       const std::vector<std::string>& notes)
{
  Json out;
  out["profile"] = {{"name", profile.name}, {"source", profile.source}};
  Json hosts = Json::array();
  for (const auto& host : comparison.hosts) {
    Json entry;
    entry["host"] = host.host;
    entry["status"] = host_status(host);
    entry["addresses"] = texts(host.addresses);
    if (host.failed()) {
      entry["error"] = failure_text(host);
    }
    hosts.push_back(std::move(entry));
  }
  out["hosts"] = std::move(hosts);
  out["compared"] = texts(comparison.compared);
  out["missing_from_dns"] = texts(comparison.unresolved);
  Json unlisted = Json::array();
  for (const auto& ip : comparison.unlisted) {
    unlisted.push_back({{"address", ip.to_string()}, {"hosts", hosts_of(comparison, ip)}});
  }
  out["not_in_profile"] = std::move(unlisted);
  out["explanation"] = explain(comparison, profile);
  out["agree"] = comparison.agree();
  out["exit_code"] = comparison.exit_code();
  out["notes"] = notes;
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::optional<int>
run_profile_modes(Options& options)
{
  constexpr int k_usage = static_cast<int>(ExitCode::usage);
  if (!options.profile_file.empty()) {
    auto loaded = load_profile(options.profile_file);
    if (!loaded) {
      std::fputs(fmt::format("sendcheck: --profile: {}\n", loaded.error()).c_str(), stderr);
      return k_usage;
    }
    options.profile = std::make_shared<const SenderProfile>(std::move(*loaded));
  } else if (!options.profile) {
    options.profile = std::shared_ptr<const SenderProfile>(&directo_profile(), [](const SenderProfile*) {});
  }
  if (!options.show_profile && !options.allowlist) {
    return std::nullopt;
  }
  const char* mode = options.show_profile ? "--show-profile" : "--allowlist";
  if (options.show_profile && options.allowlist) {
    std::fputs("sendcheck: give either --show-profile or --allowlist, not both\n", stderr);
    return k_usage;
  }
  if (!options.domains.empty() || !options.domain_file.empty()) {
    std::fputs(fmt::format("sendcheck: {} takes no domain (it prints the sender's facts); leave out '{}'\n", mode,
                           options.domains.empty() ? "-f " + options.domain_file : options.domains.front())
                 .c_str(),
               stderr);
    return k_usage;
  }
  const SenderProfile& profile = *options.profile;
  if (options.show_profile) {
    const auto text = options.json ? render_profile_json(profile) : render_profile_text(profile);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return static_cast<int>(ExitCode::ok);
  }

  auto format = options.json ? AllowlistFormat::json : AllowlistFormat::plain;
  if (!options.allowlist_format.empty()) {
    const auto named = parse_allowlist_format(options.allowlist_format);
    if (!named || (options.json && *named != AllowlistFormat::json)) {
      std::fputs(fmt::format("sendcheck: --format {} {}\n", options.allowlist_format,
                             named ? "contradicts --json" : "is not one of plain, cidr, postfix, nftables, json")
                   .c_str(),
                 stderr);
      return k_usage;
    }
    format = *named;
  }
  const auto bulk = options.no_bulk ? BulkAddresses::leave_out : BulkAddresses::include;
  if (!options.allowlist_check) {
    const auto text = render_allowlist(profile, format, bulk);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return static_cast<int>(ExitCode::ok);
  }

  auto stack = build_resolver_stack(options);
  if (!stack) {
    std::fputs(fmt::format("sendcheck: {}\n", stack.error()).c_str(), stderr);
    return k_usage;
  }
  const auto comparison = dns::run_sync((*stack)->top(), compare_allowlist((*stack)->top(), profile, bulk));
  std::string text = format == AllowlistFormat::json ? render_comparison_json(comparison, profile, (*stack)->notes)
                                                     : render_comparison_text(comparison, profile);
  if (format != AllowlistFormat::json) {
    for (const auto& note : (*stack)->notes) {
      text += "Note: " + note + "\n";
    }
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return comparison.exit_code();
}

} // namespace sendcheck::cli
