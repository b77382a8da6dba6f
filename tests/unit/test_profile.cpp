#include <sendcheck/profile.hpp>

#include <doctest/doctest.h>

using namespace sendcheck;

namespace {

std::vector<dns::IpAddress>
ips(std::initializer_list<const char*> texts)
{
  std::vector<dns::IpAddress> out;
  for (const auto* text : texts) {
    out.push_back(*dns::IpAddress::parse(text));
  }
  return out;
}

} // namespace

TEST_CASE("compact_ip_terms")
{
  CHECK(compact_ip_terms(directo_profile().ordinary_ips)
        == std::vector<std::string>{"ip4:90.190.150.210/31", "ip4:90.190.150.212/31"});
  CHECK(compact_ip_terms(directo_profile().all_ips(true))
        == std::vector<std::string>{"ip4:90.190.150.82", "ip4:90.190.150.210/31", "ip4:90.190.150.212/31"});
  CHECK(compact_ip_terms(ips({"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"}))
        == std::vector<std::string>{"ip4:10.0.0.0/30"});
  CHECK(compact_ip_terms(ips({"10.0.0.1", "10.0.0.2"})) == std::vector<std::string>{"ip4:10.0.0.1", "ip4:10.0.0.2"});
  CHECK(compact_ip_terms(ips({"10.0.0.5", "10.0.0.5"})) == std::vector<std::string>{"ip4:10.0.0.5"});
  CHECK(compact_ip_terms(ips({"0.0.0.0", "255.255.255.255"}))
        == std::vector<std::string>{"ip4:0.0.0.0", "ip4:255.255.255.255"});
  CHECK(compact_ip_terms(ips({"2001:db8::1"})) == std::vector<std::string>{"ip6:2001:db8::1"});
  CHECK(compact_ip_terms({}).empty());
}
