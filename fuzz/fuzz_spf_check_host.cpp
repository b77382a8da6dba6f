// Fuzzes spf::check_host over an in-memory zone built from the input. The input is split at '\n' into up to eight
// TXT records; record i is published at the i-th of a few names (the checked domain, names it can include or
// redirect to, and a macro target); '\t' splits a record into separate character-strings. A few fixed A, AAAA, MX
// and PTR records give the mechanisms something to match. Checks the RFC limits are honoured.

#include "fuzz_common.hpp"

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/evaluator.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

using namespace sendcheck;

namespace {

constexpr std::array<const char*, 8> k_names = {
  "example.com", "a.example.com", "b.example.com", "example.org",
  "example.com", "3.2.0.192.in-addr.arpa.example.com", "user.example.com", "a.example.com",
};

dns::IpAddress
address(const char* text)
{
  auto ip = dns::IpAddress::parse(text);
  if (!ip) {
    fuzz::fail("fixed address does not parse", text);
  }
  return *ip;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  if (size < 1 || size > 16384) {
    return 0;
  }
  const uint8_t selector = data[0];
  const auto records = fuzz::split_input(fuzz::as_text(data + 1, size - 1), '\n', k_names.size());

  dns::ZoneResolver zone("fuzz zone");
  zone.add_apex("example.com");
  zone.add_apex("example.org");
  for (size_t i = 0; i < records.size(); ++i) {
    zone.add_txt(k_names[i], fuzz::split_input(records[i], '\t', 16));
  }
  zone.add_address("example.com", address("192.0.2.3"));
  zone.add_address("a.example.com", address("192.0.2.3"));
  zone.add_address("a.example.com", address("2001:db8::3"));
  zone.add_address("mail.example.com", address("192.0.2.4"));
  zone.add_mx("example.com", 10, "mail.example.com");
  zone.add_mx("example.org", 10, "a.example.com");
  zone.add_ptr("3.2.0.192.in-addr.arpa", "a.example.com");
  zone.add_cname("c.example.com", "b.example.com");
  zone.add_cname("loop.example.com", "loop2.example.com");
  zone.add_cname("loop2.example.com", "loop.example.com");
  zone.add_failure("fail.example.com", dns::Status::servfail);

  spf::Options options;
  options.helo = "mail.example.com";
  options.timestamp = 1'700'000'000;
  options.prefetch = (selector & 1) != 0 ? spf::Prefetch::on : spf::Prefetch::off;
  const dns::IpAddress ip = address((selector & 2) != 0 ? "2001:db8::3" : "192.0.2.3");
  const std::string sender = (selector & 4) != 0 ? "" : "user@example.com";

  const spf::Evaluation evaluation =
    dns::run_sync(zone, spf::check_host(zone, ip, "example.com", sender, options));
  if (evaluation.dns_terms > options.limits.dns_terms + 1) {
    fuzz::fail("more DNS-querying terms evaluated than the limit allows", records[0]);
  }
  if (evaluation.void_lookups > options.limits.void_lookups + 1) {
    fuzz::fail("more void lookups than the limit allows", records[0]);
  }
  if (evaluation.result == spf::SpfResult::fail && evaluation.explanation.empty()) {
    fuzz::fail("fail without an explanation", records[0]);
  }
  return 0;
}
