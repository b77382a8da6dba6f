// The allowlist mode: every output format, the profile printouts, and compare_allowlist against in-memory zones.

#include <sendcheck/cli/allowlist.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace sendcheck;
using namespace sendcheck::cli;

namespace {

dns::IpAddress
ip(const char* text)
{
  return *dns::IpAddress::parse(text);
}

/// The built-in profile with an IPv6 ordinary address and an IPv6 bulk address added.
SenderProfile
dual_stack_profile()
{
  SenderProfile profile = directo_profile();
  profile.ordinary_ips.push_back(ip("2001:db8:10::25"));
  profile.bulk_ips.push_back(ip("2001:db8:10::82"));
  profile.source = "dual.json";
  return profile;
}

/// A zone where directo.gate.ee has `gate` and login.directo.ee has `login`.
std::unique_ptr<dns::ZoneResolver>
zone(std::initializer_list<const char*> gate, std::initializer_list<const char*> login)
{
  auto resolver = std::make_unique<dns::ZoneResolver>("test data");
  resolver->add_apex("gate.ee");
  resolver->add_apex("directo.ee");
  for (const auto* text : gate) {
    resolver->add_address("directo.gate.ee", ip(text));
  }
  for (const auto* text : login) {
    resolver->add_address("login.directo.ee", ip(text));
  }
  return resolver;
}

AllowlistComparison
compare(dns::Resolver& resolver, const SenderProfile& profile, BulkAddresses bulk = BulkAddresses::include)
{
  return dns::run_sync(resolver, compare_allowlist(resolver, profile, bulk));
}

std::vector<std::string>
texts(const std::vector<dns::IpAddress>& ips)
{
  std::vector<std::string> out;
  for (const auto& address : ips) {
    out.push_back(address.to_string());
  }
  return out;
}

} // namespace

TEST_CASE("cli::parse_allowlist_format")
{
  CHECK(parse_allowlist_format("plain") == AllowlistFormat::plain);
  CHECK(parse_allowlist_format("cidr") == AllowlistFormat::cidr);
  CHECK(parse_allowlist_format("postfix") == AllowlistFormat::postfix);
  CHECK(parse_allowlist_format("nftables") == AllowlistFormat::nftables);
  CHECK(parse_allowlist_format("json") == AllowlistFormat::json);
  CHECK_FALSE(parse_allowlist_format("JSON"));
  CHECK_FALSE(parse_allowlist_format(""));
}

TEST_CASE("cli::render_allowlist")
{
  const auto& directo = directo_profile();

  SUBCASE("plain")
  {
    CHECK(render_allowlist(directo, AllowlistFormat::plain, BulkAddresses::include)
          == "90.190.150.210\n90.190.150.211\n90.190.150.212\n90.190.150.213\n90.190.150.82\n");
    CHECK(render_allowlist(directo, AllowlistFormat::plain, BulkAddresses::leave_out)
          == "90.190.150.210\n90.190.150.211\n90.190.150.212\n90.190.150.213\n");
    CHECK(render_allowlist(dual_stack_profile(), AllowlistFormat::plain, BulkAddresses::include)
          == "90.190.150.210\n90.190.150.211\n90.190.150.212\n90.190.150.213\n2001:db8:10::25\n90.190.150.82\n"
             "2001:db8:10::82\n");
  }

  SUBCASE("cidr")
  {
    CHECK(render_allowlist(directo, AllowlistFormat::cidr, BulkAddresses::include)
          == "90.190.150.82/32\n90.190.150.210/31\n90.190.150.212/31\n");
    CHECK(render_allowlist(directo, AllowlistFormat::cidr, BulkAddresses::leave_out)
          == "90.190.150.210/31\n90.190.150.212/31\n");
    CHECK(render_allowlist(dual_stack_profile(), AllowlistFormat::cidr, BulkAddresses::include)
          == "90.190.150.82/32\n90.190.150.210/31\n90.190.150.212/31\n2001:db8:10::25/128\n2001:db8:10::82/128\n");
    SenderProfile block = directo;
    block.ordinary_ips = {ip("192.0.2.0"), ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3")};
    block.bulk_ips.clear();
    CHECK(render_allowlist(block, AllowlistFormat::cidr, BulkAddresses::include) == "192.0.2.0/30\n");
  }

  SUBCASE("postfix")
  {
    CHECK(render_allowlist(directo, AllowlistFormat::postfix, BulkAddresses::include)
          == "# Directo's sending addresses (sendcheck, the built-in profile)\n"
             "# In /etc/postfix/main.cf, add these after the networks mynetworks already lists (postconf "
             "mynetworks):\n"
             "mynetworks = 90.190.150.82/32 90.190.150.210/31 90.190.150.212/31\n");
    const auto v6 = render_allowlist(dual_stack_profile(), AllowlistFormat::postfix, BulkAddresses::leave_out);
    CHECK(v6.starts_with("# Directo's sending addresses, without the bulk-mail ones (sendcheck, the profile "
                         "dual.json)\n"));
    CHECK(v6.ends_with("\nmynetworks = 90.190.150.210/31 90.190.150.212/31 [2001:db8:10::25]/128\n"));
  }

  SUBCASE("nftables")
  {
    CHECK(render_allowlist(directo, AllowlistFormat::nftables, BulkAddresses::include)
          == "# Directo's sending addresses (sendcheck, the built-in profile)\n"
             "# Use in a rule: ip saddr $directo_senders tcp dport { 25, 465, 587 } accept\n"
             "define directo_senders = { 90.190.150.82, 90.190.150.210/31, 90.190.150.212/31 }\n");
    CHECK(render_allowlist(dual_stack_profile(), AllowlistFormat::nftables, BulkAddresses::include)
          == "# Directo's sending addresses (sendcheck, the profile dual.json)\n"
             "# Use in a rule: ip saddr $directo_senders tcp dport { 25, 465, 587 } accept; ip6 saddr "
             "$directo_senders_v6 tcp dport { 25, 465, 587 } accept\n"
             "define directo_senders = { 90.190.150.82, 90.190.150.210/31, 90.190.150.212/31 }\n"
             "define directo_senders_v6 = { 2001:db8:10::25, 2001:db8:10::82 }\n");

    SenderProfile only_v6 = directo;
    only_v6.name = "3rd Party ERP!";
    only_v6.ordinary_ips = {ip("2001:db8::1")};
    only_v6.bulk_ips.clear();
    CHECK(render_allowlist(only_v6, AllowlistFormat::nftables, BulkAddresses::include)
          == "# 3rd Party ERP!'s sending addresses (sendcheck, the built-in profile)\n"
             "# Use in a rule: ip6 saddr $sender_3rd_party_erp_senders_v6 tcp dport { 25, 465, 587 } accept\n"
             "define sender_3rd_party_erp_senders_v6 = { 2001:db8::1 }\n");
  }

  SUBCASE("json")
  {
    const auto json = nlohmann::json::parse(render_allowlist(dual_stack_profile(), AllowlistFormat::json,
                                                             BulkAddresses::include));
    CHECK(json["profile"] == "Directo");
    CHECK(json["source"] == "dual.json");
    CHECK(json["bulk_included"] == true);
    REQUIRE(json["addresses"].size() == 7);
    CHECK(json["addresses"][0] == nlohmann::json{{"address", "90.190.150.210"}, {"family", "ipv4"}, {"kind", "ordinary"}});
    CHECK(json["addresses"][4] == nlohmann::json{{"address", "2001:db8:10::25"}, {"family", "ipv6"}, {"kind", "ordinary"}});
    CHECK(json["addresses"][5] == nlohmann::json{{"address", "90.190.150.82"}, {"family", "ipv4"}, {"kind", "bulk"}});
    CHECK(json["cidr"]
          == nlohmann::json{"90.190.150.82/32", "90.190.150.210/31", "90.190.150.212/31", "2001:db8:10::25/128",
                            "2001:db8:10::82/128"});

    const auto no_bulk = nlohmann::json::parse(render_allowlist(directo, AllowlistFormat::json,
                                                                BulkAddresses::leave_out));
    CHECK(no_bulk["bulk_included"] == false);
    CHECK(no_bulk["addresses"].size() == 4);
    CHECK(no_bulk["cidr"] == nlohmann::json{"90.190.150.210/31", "90.190.150.212/31"});
  }
}

TEST_CASE("cli::render_profile_text")
{
  CHECK(render_profile_text(directo_profile())
        == "Sender profile: Directo (built-in)\n"
           "  ordinary addresses      90.190.150.210 90.190.150.211 90.190.150.212 90.190.150.213\n"
           "  bulk-mail addresses     90.190.150.82\n"
           "  sending host            directo.gate.ee\n"
           "  other hosts             login.directo.ee\n"
           "  DKIM selector           directo\n"
           "  DKIM reference domain   directo.ee\n"
           "  default signing domain  directo.ee\n"
           "  minimal SPF record      v=spf1 mx a:directo.gate.ee -all\n"
           "  Reply-To mode sender    <company>@event.data.directo.ee\n");
  SenderProfile empty_lists = directo_profile();
  empty_lists.bulk_ips.clear();
  empty_lists.other_hosts.clear();
  empty_lists.source = "mine.json";
  const auto text = render_profile_text(empty_lists);
  CHECK(text.starts_with("Sender profile: Directo (from mine.json)\n"));
  CHECK(text.find("  bulk-mail addresses     (none)\n") != std::string::npos);
  CHECK(text.find("  other hosts             (none)\n") != std::string::npos);
}

TEST_CASE("cli::render_profile_json")
{
  const auto json = nlohmann::json::parse(render_profile_json(dual_stack_profile()));
  CHECK(json["source"] == "dual.json");
  // The "profile" member is itself a profile file.
  auto reread = parse_profile(json["profile"].dump(), "dual.json");
  REQUIRE(reread.has_value());
  CHECK(*reread == dual_stack_profile());
}

TEST_CASE("cli::compare_allowlist")
{
  const auto& directo = directo_profile();

  SUBCASE("DNS matches the profile")
  {
    auto resolver = zone({"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"},
                         {"90.190.150.82"});
    const auto result = compare(*resolver, directo);
    REQUIRE(result.hosts.size() == 2);
    CHECK(result.hosts[0].host == "directo.gate.ee");
    CHECK(result.hosts[1].host == "login.directo.ee");
    CHECK(texts(result.hosts[1].addresses) == std::vector<std::string>{"90.190.150.82"});
    CHECK(result.unresolved.empty());
    CHECK(result.unlisted.empty());
    CHECK(result.agree());
    CHECK(result.exit_code() == 0);
    const auto text = render_comparison_text(result, directo);
    CHECK(text.find("In the profile, no host resolves to: -\n") != std::string::npos);
    CHECK(text.find("Result: DNS and the profile agree (five addresses).\n") != std::string::npos);
  }

  SUBCASE("the documented state: directo.gate.ee has one of the four ordinary addresses")
  {
    auto resolver = zone({"90.190.150.212"}, {});
    const auto result = compare(*resolver, directo);
    CHECK(texts(result.unresolved)
          == std::vector<std::string>{"90.190.150.210", "90.190.150.211", "90.190.150.213", "90.190.150.82"});
    CHECK(result.unlisted.empty());
    CHECK_FALSE(result.agree());
    CHECK(result.exit_code() == 1);
    const auto text = render_comparison_text(result, directo);
    CHECK(text
          == "Directo's hosts in DNS, compared with the built-in profile:\n"
             "  directo.gate.ee   90.190.150.212\n"
             "  login.directo.ee  no address (nxdomain)\n"
             "\n"
             "In the profile, no host resolves to: 90.190.150.210, 90.190.150.211, 90.190.150.213, 90.190.150.82 "
             "(bulk)\n"
             "In DNS, not in the profile:          -\n"
             "\n"
             "a:directo.gate.ee in your SPF covers only 90.190.150.212 today; Directo documents four ordinary "
             "addresses (90.190.150.210, 90.190.150.211, 90.190.150.212, 90.190.150.213) and one bulk-mail address "
             "(90.190.150.82).\n"
             "Mail Directo sends from the others fails SPF unless your record lists them as ip4:/ip6: terms "
             "(sendcheck --suggest --ip-style ip4 DOMAIN prints such a record).\n"
             "On your own SMTP server, allow the profile's addresses (sendcheck --allowlist), not what "
             "directo.gate.ee resolves to.\n"
             "Result: DNS and the profile differ.\n");
  }

  SUBCASE("--no-bulk leaves the bulk address out of the comparison")
  {
    auto resolver = zone({"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"}, {});
    const auto with_bulk = compare(*resolver, directo);
    CHECK(texts(with_bulk.unresolved) == std::vector<std::string>{"90.190.150.82"});
    CHECK(with_bulk.exit_code() == 1);
    const auto without = compare(*resolver, directo, BulkAddresses::leave_out);
    CHECK(without.unresolved.empty());
    CHECK(without.agree());
    CHECK(render_comparison_text(without, directo)
            .find("a:directo.gate.ee in your SPF covers all four of Directo's documented sending addresses today.\n")
          != std::string::npos);
  }

  SUBCASE("a host resolves to an address the profile lacks")
  {
    auto resolver = zone({"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "192.0.2.99"},
                         {"90.190.150.82"});
    const auto result = compare(*resolver, directo);
    CHECK(result.unresolved.empty());
    CHECK(texts(result.unlisted) == std::vector<std::string>{"192.0.2.99"});
    CHECK(result.exit_code() == 1);
    const auto text = render_comparison_text(result, directo);
    CHECK(text.find("In DNS, not in the profile:          192.0.2.99 (directo.gate.ee)\n") != std::string::npos);
    CHECK(text.find("directo.gate.ee resolves to 192.0.2.99, which the built-in profile does not list: "
                    "a:directo.gate.ee in SPF covers it, an allowlist built from the profile does not. Ask Directo "
                    "whether mail is sent from it;")
          != std::string::npos);
    const auto json = nlohmann::json::parse(render_comparison_json(result, directo, {"a note"}));
    CHECK(json["not_in_profile"]
          == nlohmann::json::parse(R"([{"address": "192.0.2.99", "hosts": ["directo.gate.ee"]}])"));
    CHECK(json["missing_from_dns"] == nlohmann::json::array());
    CHECK(json["agree"] == false);
    CHECK(json["exit_code"] == 1);
    CHECK(json["notes"] == nlohmann::json{"a note"});
  }

  SUBCASE("IPv6 addresses are looked up as AAAA")
  {
    auto resolver = zone({"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213",
                          "2001:db8:10::25"},
                         {"90.190.150.82", "2001:db8:10::82"});
    const auto result = compare(*resolver, dual_stack_profile());
    CHECK(texts(result.hosts[0].addresses)
          == std::vector<std::string>{"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213",
                                      "2001:db8:10::25"});
    CHECK(result.agree());
  }

  SUBCASE("a failed lookup is exit 3 unless an unlisted address was found")
  {
    auto resolver = zone({"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"}, {});
    resolver->add_failure("login.directo.ee", dns::Status::servfail);
    const auto result = compare(*resolver, directo);
    CHECK(result.any_failed());
    CHECK(result.hosts[1].failed());
    CHECK(result.exit_code() == 3);
    const auto text = render_comparison_text(result, directo);
    CHECK(text.find("  login.directo.ee  A lookup failed: servfail (test data: servfail for login.directo.ee A); AAAA "
                    "lookup failed: servfail (test data: servfail for login.directo.ee AAAA)\n")
          != std::string::npos);
    CHECK(text.find("Result: DNS could not answer for every host, so the comparison is incomplete.\n")
          != std::string::npos);
    const auto json = nlohmann::json::parse(render_comparison_json(result, directo, {}));
    CHECK(json["hosts"][1]["status"] == "servfail");
    CHECK(json["exit_code"] == 3);

    resolver->add_address("directo.gate.ee", ip("192.0.2.7"));
    CHECK(compare(*resolver, directo).exit_code() == 1);
  }

  SUBCASE("the sending host fails")
  {
    auto resolver = zone({}, {"90.190.150.82"});
    resolver->add_failure("directo.gate.ee", dns::Status::timeout);
    const auto result = compare(*resolver, directo);
    CHECK(result.exit_code() == 3);
    CHECK(render_comparison_text(result, directo)
            .find("What a:directo.gate.ee in your SPF covers is unknown: A lookup failed: timeout (test data: timeout "
                  "for directo.gate.ee A); AAAA lookup failed: timeout (test data: timeout for directo.gate.ee "
                  "AAAA).\n")
          != std::string::npos);
  }

  SUBCASE("the sending host does not exist; other hosts are asked once each")
  {
    auto resolver = zone({}, {"90.190.150.210"});
    SenderProfile profile = directo;
    profile.other_hosts = {"login.directo.ee", "directo.gate.ee", "login.directo.ee"};
    const auto result = compare(*resolver, profile);
    REQUIRE(result.hosts.size() == 2);
    CHECK(render_comparison_text(result, profile)
            .find("a:directo.gate.ee in your SPF covers nothing today (directo.gate.ee has no address: nxdomain); ")
          != std::string::npos);
  }
}
