// The sender profile file: load_profile, parse_profile, profile_to_file_json.

#include <sendcheck/profile.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

using namespace sendcheck;

namespace {

/// The error of parsing `text` as "p.json"; empty (and a failed check) when it parsed.
std::string
error_of(const std::string& text)
{
  auto parsed = parse_profile(text, "p.json");
  CHECK_FALSE(parsed.has_value());
  return parsed ? std::string() : parsed.error();
}

/// A file holding `text` in a fresh temporary directory; removed with the object.
class TempFile
{
public:
  explicit TempFile(const std::string& text, const std::string& name = "profile.json")
  {
    m_dir = std::filesystem::temp_directory_path() / ("sendcheck-profile-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(m_dir);
    m_path = (m_dir / name).string();
    std::ofstream(m_path, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove_all(m_dir); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return m_path; }
  std::string dir() const { return m_dir.string(); }

private:
  std::filesystem::path m_dir;
  std::string m_path;
};

} // namespace

TEST_CASE("parse_profile")
{
  SUBCASE("a complete file")
  {
    auto parsed = parse_profile(R"({
      "comment": "a test sender",
      "name": "Acme ERP",
      "ordinary_ips": ["192.0.2.10", "192.0.2.11", "2001:DB8::25"],
      "bulk_ips": ["198.51.100.7"],
      "sending_host": "Mail.Acme.Example.",
      "other_hosts": ["login.acme.example", "app.acme.example"],
      "dkim_selector": "acme._mail",
      "dkim_reference_domain": "acme.example",
      "default_signing_domain": "send.acme.example",
      "minimal_spf": "v=spf1 a:mail.acme.example -all",
      "reply_to_sender": "<company>@reply.acme.example"
    })",
                                "acme.json");
    REQUIRE(parsed.has_value());
    const auto& p = *parsed;
    CHECK(p.name == "Acme ERP");
    REQUIRE(p.ordinary_ips.size() == 3);
    CHECK(p.ordinary_ips[0].to_string() == "192.0.2.10");
    CHECK(p.ordinary_ips[2].is_v6());
    CHECK(p.ordinary_ips[2].to_string() == "2001:db8::25");
    REQUIRE(p.bulk_ips.size() == 1);
    CHECK(p.bulk_ips[0].to_string() == "198.51.100.7");
    CHECK(p.sending_host == "mail.acme.example");
    CHECK(p.other_hosts == std::vector<std::string>{"login.acme.example", "app.acme.example"});
    CHECK(p.dkim_selector == "acme._mail");
    CHECK(p.dkim_reference_domain == "acme.example");
    CHECK(p.default_signing_domain == "send.acme.example");
    CHECK(p.minimal_spf == "v=spf1 a:mail.acme.example -all");
    CHECK(p.reply_to_sender == "<company>@reply.acme.example");
    CHECK(p.source == "acme.json");
  }

  SUBCASE("missing fields take the built-in values")
  {
    auto parsed = parse_profile(R"({"bulk_ips": ["90.190.150.83"]})", "p.json");
    REQUIRE(parsed.has_value());
    SenderProfile expected = directo_profile();
    expected.bulk_ips = {*dns::IpAddress::parse("90.190.150.83")};
    expected.source = "p.json";
    CHECK(*parsed == expected);

    auto empty = parse_profile("{}", "empty.json");
    REQUIRE(empty.has_value());
    CHECK(empty->ordinary_ips == directo_profile().ordinary_ips);
    CHECK(empty->source == "empty.json");
  }

  SUBCASE("empty lists")
  {
    auto parsed = parse_profile(R"({"bulk_ips": [], "other_hosts": []})", "p.json");
    REQUIRE(parsed.has_value());
    CHECK(parsed->bulk_ips.empty());
    CHECK(parsed->other_hosts.empty());
    CHECK(parsed->ordinary_ips.size() == 4);
    CHECK(error_of(R"({"ordinary_ips": []})")
          == "p.json: 'ordinary_ips': the list is empty; the sender needs at least one ordinary sending address");
  }

  SUBCASE("IPv6 addresses")
  {
    auto parsed = parse_profile(R"({"ordinary_ips": ["2001:db8:0:0:0:0:0:1", "::1"], "bulk_ips": ["fe80::1"]})",
                                "p.json");
    REQUIRE(parsed.has_value());
    CHECK(parsed->ordinary_ips[0].to_string() == "2001:db8::1");
    CHECK(parsed->ordinary_ips[1].to_string() == "::1");
    CHECK(parsed->bulk_ips[0].to_string() == "fe80::1");
    CHECK(error_of(R"({"ordinary_ips": ["::ffff:192.0.2.1"]})")
          == "p.json: 'ordinary_ips'[0]: '::ffff:192.0.2.1' is an IPv4-mapped IPv6 address; write it as "
             "\"192.0.2.1\"");
    CHECK(error_of(R"({"ordinary_ips": ["2001:db8::1::2"]})")
          == "p.json: 'ordinary_ips'[0]: '2001:db8::1::2' is not an IPv4 or IPv6 address");
  }

  SUBCASE("bad addresses")
  {
    CHECK(error_of(R"({"ordinary_ips": ["90.190.150.210", "90.190.150.211", "90.190.150.300"]})")
          == "p.json: 'ordinary_ips'[2]: '90.190.150.300' is not an IPv4 or IPv6 address");
    CHECK(error_of(R"({"bulk_ips": ["90.190.150.0/24"]})")
          == "p.json: 'bulk_ips'[0]: '90.190.150.0/24' is a network, not an address (list each sending address on "
             "its own; --allowlist --format cidr compacts them)");
    CHECK(error_of(R"({"ordinary_ips": ["192.0.2.1", "192.0.2.1"]})")
          == "p.json: 'ordinary_ips'[1]: '192.0.2.1' is listed twice");
    CHECK(error_of(R"({"bulk_ips": ["90.190.150.212"]})")
          == "p.json: 'bulk_ips'[0]: '90.190.150.212' is also in 'ordinary_ips' (an address is either ordinary or "
             "bulk)");
    CHECK(error_of(R"({"ordinary_ips": [1]})")
          == "p.json: 'ordinary_ips'[0]: expected an IP address string, like \"90.190.150.210\", got a number");
    CHECK(error_of(R"({"ordinary_ips": "192.0.2.1"})")
          == "p.json: 'ordinary_ips': expected an array of IP address strings, like [\"90.190.150.210\"], got a "
             "string");
  }

  SUBCASE("bad host names")
  {
    CHECK(error_of(R"({"sending_host": "directo..gate.ee"})")
          == "p.json: 'sending_host': 'directo..gate.ee' is not a host name: it has an empty label (two dots in a "
             "row, or a leading dot)");
    CHECK(error_of(R"({"sending_host": "localhost"})")
          == "p.json: 'sending_host': 'localhost' is not a host name: it has a single label (a host name has at "
             "least two, like \"directo.gate.ee\")");
    CHECK(error_of(R"({"sending_host": ""})") == "p.json: 'sending_host': '' is not a host name: it is empty");
    CHECK(error_of(R"({"other_hosts": ["login.directo.ee", "a b.ee"]})")
          == "p.json: 'other_hosts'[1]: 'a b.ee' is not a host name: it contains ' ', which a host name cannot "
             "(letters, digits and '-' only; internationalized names are written as xn--...)");
    CHECK(error_of(R"({"other_hosts": ["x.ee", "X.ee."]})") == "p.json: 'other_hosts'[1]: 'x.ee' is listed twice");
    CHECK(error_of(R"({"other_hosts": "login.directo.ee"})")
          == "p.json: 'other_hosts': expected an array of host names, like [\"login.directo.ee\"], got a string");
    CHECK(error_of(R"({"dkim_reference_domain": "-bad.ee"})")
          == "p.json: 'dkim_reference_domain': '-bad.ee' is not a host name: it has a label that starts or ends "
             "with '-'");
    CHECK(error_of(R"({"default_signing_domain": null})")
          == "p.json: 'default_signing_domain': expected a host name string, like \"directo.gate.ee\", got null");
    CHECK(error_of(R"({"dkim_selector": "dir/ecto"})")
          == "p.json: 'dkim_selector': 'dir/ecto' is not a DKIM selector: it contains '/', which a host name cannot "
             "(letters, digits and '-' only; internationalized names are written as xn--...)");
  }

  SUBCASE("bad text fields")
  {
    CHECK(error_of(R"({"minimal_spf": "spf1 mx -all"})")
          == "p.json: 'minimal_spf': 'spf1 mx -all' is not an SPF record (it must start with \"v=spf1 \" and be "
             "printable ASCII)");
    CHECK(error_of(R"({"minimal_spf": "v=spf10 -all"})")
          == "p.json: 'minimal_spf': 'v=spf10 -all' is not an SPF record (it must start with \"v=spf1 \" and be "
             "printable ASCII)");
    CHECK(error_of(R"({"reply_to_sender": "event.data.directo.ee"})")
          == "p.json: 'reply_to_sender': 'event.data.directo.ee' is not a mail address (expected LOCAL@DOMAIN, like "
             "\"<company>@event.data.directo.ee\"; <company> stands for the customer's name)");
    CHECK(error_of(R"({"name": "  "})")
          == "p.json: 'name': '' is not a sender name (expected 1 to 64 printable ASCII characters, like "
             "\"Directo\")");
    CHECK(error_of(R"({"name": ["Directo"]})")
          == "p.json: 'name': expected a string (the sender's name, like \"Directo\"), got an array");
    CHECK(error_of(R"({"comment": 5})") == "p.json: 'comment': expected a string (free text, ignored), got a number");
  }

  SUBCASE("unknown and repeated fields")
  {
    CHECK(error_of(R"({"ordinary_ip": ["192.0.2.1"]})")
          == "p.json: unknown field 'ordinary_ip' (the fields are: comment, name, ordinary_ips, bulk_ips, "
             "sending_host, other_hosts, dkim_selector, dkim_reference_domain, default_signing_domain, minimal_spf, "
             "reply_to_sender)");
    CHECK(error_of(R"({"bulk_ips": ["192.0.2.1"], "bulk_ips": []})") == "p.json: field 'bulk_ips' is given twice");
  }

  SUBCASE("not a JSON object")
  {
    CHECK(error_of("[]")
          == "p.json: expected a JSON object with the profile's fields (see docs/profile.md), got an array");
    CHECK(error_of(" \n")
          == "p.json: the file is empty; a profile is a JSON object such as {\"bulk_ips\": []} (see docs/profile.md)");
    const auto trailing_comma = error_of("{\n  \"name\": \"X\",\n}");
    CHECK(trailing_comma.starts_with("p.json: not valid JSON: parse error at line 3, column 1: "));
  }
}

TEST_CASE("profile_to_file_json")
{
  SUBCASE("round trip of the built-in profile")
  {
    const auto text = profile_to_file_json(directo_profile());
    CHECK(text.find("\"ordinary_ips\": [\n    \"90.190.150.210\",") != std::string::npos);
    CHECK(text.find("source") == std::string::npos);
    CHECK(text.back() == '\n');
    auto parsed = parse_profile(text, "built-in");
    REQUIRE(parsed.has_value());
    CHECK(*parsed == directo_profile());
  }

  SUBCASE("round trip with IPv6 and empty lists")
  {
    SenderProfile profile = directo_profile();
    profile.ordinary_ips.push_back(*dns::IpAddress::parse("2001:db8::25"));
    profile.bulk_ips.clear();
    profile.other_hosts.clear();
    profile.source = "x.json";
    auto parsed = parse_profile(profile_to_file_json(profile), "x.json");
    REQUIRE(parsed.has_value());
    CHECK(*parsed == profile);
  }

  SUBCASE("the example in docs/ loads and differs from the built-in profile only where it says")
  {
    const std::string path = SENDCHECK_SOURCE_DIR "/docs/profile-example.json";
    auto loaded = load_profile(path);
    REQUIRE_MESSAGE(loaded.has_value(), (loaded ? "" : loaded.error()));
    CHECK(loaded->source == path);
    CHECK(loaded->name == "Directo");
    CHECK(loaded->sending_host == "directo.gate.ee");
  }
}

TEST_CASE("load_profile")
{
  SUBCASE("a file")
  {
    TempFile file(R"({"bulk_ips": ["2001:db8::82"]})");
    auto loaded = load_profile(file.path());
    REQUIRE(loaded.has_value());
    CHECK(loaded->bulk_ips.at(0).to_string() == "2001:db8::82");
    CHECK(loaded->source == file.path());
  }

  SUBCASE("errors name the file")
  {
    TempFile file(R"({"ordinary_ips": ["10.0.0.1", "10.0.0.256"]})");
    auto loaded = load_profile(file.path());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == file.path() + ": 'ordinary_ips'[1]: '10.0.0.256' is not an IPv4 or IPv6 address");
  }

  SUBCASE("a missing file")
  {
    auto loaded = load_profile("/nonexistent/sendcheck/profile.json");
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error()
          == "cannot read the profile /nonexistent/sendcheck/profile.json: No such file or directory");
  }

  SUBCASE("a directory")
  {
    TempFile file("{}");
    auto loaded = load_profile(file.dir());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error() == "cannot read the profile " + file.dir() + ": Is a directory");
  }

  SUBCASE("binary garbage")
  {
    TempFile file(std::string("\x7f" "ELF\0\0", 6));
    auto loaded = load_profile(file.path());
    REQUIRE_FALSE(loaded.has_value());
    CHECK(loaded.error().starts_with(file.path() + ": not valid JSON: parse error at line 1, column 1"));
  }
}
