#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <array>

using namespace sendcheck;
using dns::IpAddress;
using dns::RRType;
using dns::Status;

TEST_CASE("dns::IpAddress")
{
  SUBCASE("parse and format")
  {
    CHECK(IpAddress::parse("90.190.150.212")->to_string() == "90.190.150.212");
    CHECK(IpAddress::parse("2001:DB8::1")->to_string() == "2001:db8::1");
    // write_text as to_string, for IPv6 too.
    const auto longest = IpAddress::parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
    REQUIRE(longest);
    char written[IpAddress::k_text_room];
    CHECK(std::string(written, longest->write_text(written)) == longest->to_string());
    CHECK(longest->to_string().size() + 1 <= IpAddress::k_text_room);
    CHECK_FALSE(IpAddress::parse("90.190.150"));
    CHECK_FALSE(IpAddress::parse("1.2.3.4/24"));
    CHECK_FALSE(IpAddress::parse(std::string("1.2.3.4\0", 8)));
    CHECK_FALSE(IpAddress::parse(""));
  }
  SUBCASE("IPv4 text is inet_ntop's for every octet value in every position")
  {
    for (unsigned value = 0; value < 256; ++value) {
      for (size_t position = 0; position < 4; ++position) {
        std::array<uint8_t, 4> bytes = {1, 20, 255, 0};
        bytes[position] = static_cast<uint8_t>(value);
        char expected[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, bytes.data(), expected, sizeof(expected));
        const auto ip = IpAddress::parse(expected);
        REQUIRE(ip);
        CHECK(ip->to_string() == expected);
        std::string appended = "x";
        ip->append_to(appended);
        CHECK(appended == std::string("x") + expected);
        char written[IpAddress::k_text_room];
        CHECK(std::string(written, ip->write_text(written)) == expected);
      }
    }
  }
  SUBCASE("IPv4-mapped IPv6")
  {
    const auto mapped = IpAddress::parse("::FFFF:1.2.3.4")->mapped_v4();
    REQUIRE(mapped);
    CHECK(mapped->to_string() == "1.2.3.4");
    CHECK_FALSE(IpAddress::parse("2001:db8::1")->mapped_v4());
  }
  SUBCASE("networks")
  {
    const auto ip = *IpAddress::parse("90.190.150.211");
    CHECK(ip.in_network(*IpAddress::parse("90.190.150.210"), 31));
    CHECK_FALSE(ip.in_network(*IpAddress::parse("90.190.150.212"), 31));
    CHECK(ip.in_network(*IpAddress::parse("1.2.3.4"), 0));
    CHECK(ip.in_network(*IpAddress::parse("90.190.150.211"), 99));
    CHECK_FALSE(ip.in_network(*IpAddress::parse("::"), 0));
  }
  SUBCASE("reverse names")
  {
    CHECK(IpAddress::parse("1.2.3.4")->reverse_name() == "4.3.2.1.in-addr.arpa");
    CHECK(IpAddress::parse("2001:db8::1")->reverse_name()
          == "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  }
}

TEST_CASE("dns::TxtRecord::text views a one-string record and joins a split one into the storage")
{
  const dns::TxtRecord one{{"v=spf1 -all"}};
  std::string storage;
  const auto view = one.text(storage);
  CHECK(view == "v=spf1 -all");
  CHECK(view.data() == one.strings.front().data()); // not copied
  CHECK(storage.empty());
  const dns::TxtRecord split{{"v=spf1 ", "ip4:192.0.2.1", " -all"}};
  CHECK(split.text(storage) == "v=spf1 ip4:192.0.2.1 -all");
  CHECK(storage == split.joined());
  const dns::TxtRecord none{};
  CHECK(none.text(storage).empty());
}

TEST_CASE("dns::ZoneResolver")
{
  dns::ZoneResolver zone("test data");
  zone.add_txt("Example.EE.", {"v=spf1 ", "-all"});
  zone.add_address("mail.example.ee", *IpAddress::parse("192.0.2.1"));
  zone.add_mx("example.ee", 10, "mail.example.ee.");
  zone.add_cname("www.example.ee", "example.ee");
  zone.add_cname("loop1.example.ee", "loop2.example.ee");
  zone.add_cname("loop2.example.ee", "loop1.example.ee");
  zone.add_txt("slow.example.ee", {"v=spf1 -all"});
  zone.add_failure("slow.example.ee", Status::timeout);
  zone.add_address("deep.below.example.ee", *IpAddress::parse("192.0.2.2"));

  SUBCASE("records, strings kept")
  {
    const auto answer = zone.answer("EXAMPLE.ee", RRType::txt);
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].strings.size() == 2);
    CHECK(answer->txt[0].joined() == "v=spf1 -all");
  }
  SUBCASE("absent: nodata, nxdomain, empty non-terminal")
  {
    CHECK(zone.answer("example.ee", RRType::aaaa)->status == Status::nodata);
    CHECK(zone.answer("nothing.example.ee", RRType::txt)->status == Status::nxdomain);
    CHECK(zone.answer("below.example.ee", RRType::a)->status == Status::nodata);
  }
  SUBCASE("CNAME followed, loops are errors")
  {
    const auto answer = zone.answer("www.example.ee", RRType::mx);
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->mx.size() == 1);
    CHECK(answer->mx[0].exchange == "mail.example.ee");
    CHECK(answer->cname_chain == std::vector<std::string>{"example.ee"});
    CHECK(zone.answer("loop1.example.ee", RRType::a)->status == Status::error);
  }
  SUBCASE("failure after records: the openspf TIMEOUT rule")
  {
    CHECK(zone.answer("slow.example.ee", RRType::txt)->status == Status::ok);
    CHECK(zone.answer("slow.example.ee", RRType::a)->status == Status::timeout);
  }
  SUBCASE("names that cannot be asked")
  {
    CHECK(zone.answer(std::string(64, 'a') + ".example.ee", RRType::a)->status == Status::error);
  }
  SUBCASE("apex coverage")
  {
    zone.add_apex("example.ee");
    CHECK(zone.covers("example.ee"));
    CHECK(zone.covers("x.Example.ee."));
    CHECK_FALSE(zone.covers("notexample.ee"));
    CHECK_FALSE(zone.covers("ee"));
  }
  SUBCASE("awaitable lookup")
  {
    struct Probe
    {
      static util::Task<size_t>
      count(dns::Resolver& resolver)
      {
        const auto answer = co_await dns::lookup(resolver, "mail.example.ee", RRType::a);
        co_return answer->addresses.size();
      }
    };
    CHECK(dns::run_sync(zone, Probe::count(zone)) == 1);
  }
}
