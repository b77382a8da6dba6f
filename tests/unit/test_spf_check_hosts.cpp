// spf::check_hosts(): one evaluation serves every address that no step tells apart, and each address's evaluation
// equals check_host() for it alone in every field, the trace included. Every scenario compares the two field by field
// (tests/conformance/evaluation_diff.hpp) and counts the TXT queries to show how many evaluations ran.

#include "../conformance/evaluation_diff.hpp"
#include "../support/counting_resolver.hpp"

#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/evaluator.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace sendcheck;
using spf::SpfResult;

namespace {

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

std::vector<dns::IpAddress>
ips(const std::vector<std::string>& texts)
{
  std::vector<dns::IpAddress> out;
  for (const auto& text : texts) {
    out.push_back(ip(text));
  }
  return out;
}

/// Directo's four ordinary addresses and its bulk one.
const std::vector<std::string> k_directo = {"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213",
                                            "90.190.150.82"};

spf::Options
options_with(spf::Trace trace, std::shared_ptr<spf::EvaluationMemo> memo = nullptr)
{
  spf::Options options;
  options.helo = "mail.example.net";
  options.timestamp = 1700000000;
  options.trace = trace;
  options.memo = std::move(memo);
  return options;
}

/// check_hosts() for `addresses`; checks each evaluation against check_host() alone and returns the results.
/// `evaluations` (when given) gets how many evaluations check_hosts() ran: its TXT queries for `domain`.
std::vector<SpfResult>
shared_results(dns::ZoneResolver& zone, const std::vector<std::string>& addresses, const std::string& domain,
               const spf::Options& options, size_t* evaluations = nullptr)
{
  test::CountingResolver counter(zone);
  const auto shared = dns::run_sync(
    counter, spf::check_hosts(counter, ips(addresses), domain, "postmaster@" + domain, options));
  REQUIRE(shared.size() == addresses.size());
  if (evaluations != nullptr) {
    *evaluations = counter.queries(domain, dns::RRType::txt);
  }
  std::vector<SpfResult> results;
  for (size_t i = 0; i < addresses.size(); ++i) {
    const auto alone = dns::run_sync(
      zone, spf::check_host(zone, ip(addresses[i]), domain, "postmaster@" + domain, options));
    INFO(domain, " for ", addresses[i]);
    REQUIRE(shared[i] != nullptr);
    CHECK(test::evaluation_difference(alone, *shared[i]) == "");
    CHECK(test::trace_difference(alone, *shared[i]) == "");
    results.push_back(shared[i]->result);
  }
  return results;
}

} // namespace

TEST_CASE("spf::check_hosts: addresses share an evaluation until a decision tells them apart")
{
  dns::ZoneResolver zone("check_hosts test");
  for (const auto& address : {"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"}) {
    zone.add_address("directo.gate.ee", ip(address));
  }
  zone.add_txt("vendor.example", {"v=spf1 a:directo.gate.ee -all"});
  zone.add_txt("split.example", {"v=spf1 ip4:90.190.150.210/31 -all"});
  zone.add_txt("single.example", {"v=spf1 ip4:90.190.150.212 ip4:90.190.150.82 ~all"});
  zone.add_mx("mx.example", 10, "mail.mx.example");
  zone.add_address("mail.mx.example", ip("90.190.150.211"));
  zone.add_address("mail.mx.example", ip("90.190.150.82"));
  zone.add_txt("mx.example", {"v=spf1 mx -all"});
  zone.add_txt("macro.example", {"v=spf1 exists:%{i}.allow.macro.example -all"});
  zone.add_address("90.190.150.211.allow.macro.example", ip("127.0.0.2"));
  zone.add_txt("ptr.example", {"v=spf1 ptr -all"});
  zone.add_txt("none.example", {"v=spf1 -all"});

  for (const auto trace : {spf::Trace::on, spf::Trace::off}) {
    CAPTURE(static_cast<int>(trace));
    const auto options = options_with(trace);
    size_t evaluations = 0;

    SUBCASE("the vendor's record: one evaluation for the four ordinary addresses, one for the bulk address")
    {
      CHECK(shared_results(zone, k_directo, "vendor.example", options, &evaluations)
            == std::vector{SpfResult::pass, SpfResult::pass, SpfResult::pass, SpfResult::pass, SpfResult::fail});
      CHECK(evaluations == 2);
    }
    SUBCASE("a network that splits the addresses: the first evaluation serves the two inside it")
    {
      CHECK(shared_results(zone, k_directo, "split.example", options, &evaluations)
            == std::vector{SpfResult::pass, SpfResult::pass, SpfResult::fail, SpfResult::fail, SpfResult::fail});
      CHECK(evaluations == 2);
    }
    SUBCASE("two networks of one address each: the addresses they name get evaluations of their own")
    {
      CHECK(shared_results(zone, k_directo, "single.example", options, &evaluations)
            == std::vector{SpfResult::softfail, SpfResult::softfail, SpfResult::pass, SpfResult::softfail,
                           SpfResult::pass});
      CHECK(evaluations == 3);
    }
    SUBCASE("an mx host's addresses split them the same way")
    {
      CHECK(shared_results(zone, k_directo, "mx.example", options, &evaluations)
            == std::vector{SpfResult::fail, SpfResult::pass, SpfResult::fail, SpfResult::fail, SpfResult::pass});
      CHECK(evaluations == 2);
    }
    SUBCASE("a macro of the address: every address is evaluated")
    {
      CHECK(shared_results(zone, k_directo, "macro.example", options, &evaluations)
            == std::vector{SpfResult::fail, SpfResult::pass, SpfResult::fail, SpfResult::fail, SpfResult::fail});
      CHECK(evaluations == 5);
    }
    SUBCASE("a ptr term: every address is evaluated")
    {
      shared_results(zone, k_directo, "ptr.example", options, &evaluations);
      CHECK(evaluations == 5);
    }
    SUBCASE("nothing about the address decides: one evaluation for all")
    {
      CHECK(shared_results(zone, k_directo, "none.example", options, &evaluations) == std::vector(5, SpfResult::fail));
      CHECK(evaluations == 1);
    }
    SUBCASE("IPv6 and IPv4-mapped addresses: a family shares only with its own")
    {
      const std::vector<std::string> mixed = {"2001:db8::1", "90.190.150.210", "::ffff:90.190.150.211", "2001:db8::2"};
      CHECK(shared_results(zone, mixed, "vendor.example", options, &evaluations)
            == std::vector{SpfResult::fail, SpfResult::pass, SpfResult::pass, SpfResult::fail});
      CHECK(evaluations == 2);
    }
    SUBCASE("no address, and one address")
    {
      CHECK(shared_results(zone, {}, "vendor.example", options).empty());
      CHECK(shared_results(zone, {"90.190.150.82"}, "vendor.example", options) == std::vector{SpfResult::fail});
    }
    SUBCASE("a domain with a trailing dot is the domain without it")
    {
      CHECK(shared_results(zone, k_directo, "vendor.example.", options, &evaluations)
            == std::vector{SpfResult::pass, SpfResult::pass, SpfResult::pass, SpfResult::pass, SpfResult::fail});
      const auto shared = dns::run_sync(
        zone, spf::check_hosts(zone, ips(k_directo), "vendor.example.", "postmaster@vendor.example", options));
      CHECK(shared[0]->deciding_domain == "vendor.example");
    }
    SUBCASE("an invalid domain: every address gets the same none, and nothing is asked")
    {
      for (const std::string domain : {"localhost", "a..example", "example..", ".", "", "[192.0.2.1]"}) {
        CAPTURE(domain);
        CHECK(shared_results(zone, k_directo, domain, options, &evaluations) == std::vector(5, SpfResult::none));
        CHECK(evaluations == 0);
        const auto shared = dns::run_sync(
          zone, spf::check_hosts(zone, ips(k_directo), domain, "postmaster@" + domain, options));
        const std::string without_dot = !domain.empty() && domain.back() == '.' ? domain.substr(0, domain.size() - 1)
                                                                               : domain;
        for (const auto& evaluation : shared) {
          CHECK(evaluation->error_code == "spf.invalid_domain");
          CHECK(evaluation->deciding_domain == without_dot);
        }
      }
    }
  }
}

TEST_CASE("spf::check_hosts: a memoized include keeps telling addresses apart")
{
  dns::ZoneResolver zone("check_hosts memo test");
  zone.add_txt("_spf.provider.example", {"v=spf1 ip4:90.190.150.210 ~all"});
  zone.add_txt("a.example", {"v=spf1 include:_spf.provider.example -all"});
  zone.add_txt("b.example", {"v=spf1 include:_spf.provider.example -all"});
  const std::vector expected{SpfResult::pass, SpfResult::fail, SpfResult::fail, SpfResult::fail, SpfResult::fail};

  SUBCASE("stored by check_hosts() for the same addresses, reused for another domain")
  {
    const auto memo = std::make_shared<spf::EvaluationMemo>();
    const auto options = options_with(spf::Trace::off, memo);
    CHECK(shared_results(zone, k_directo, "a.example", options) == expected);
    const auto hits_before = memo->stats().hits;
    size_t evaluations = 0;
    CHECK(shared_results(zone, k_directo, "b.example", options, &evaluations) == expected);
    CHECK(memo->stats().hits > hits_before);
    CHECK(evaluations == 2);
  }
  SUBCASE("stored by check_host() for one address: tells nothing about the others")
  {
    const auto memo = std::make_shared<spf::EvaluationMemo>();
    const auto options = options_with(spf::Trace::off, memo);
    dns::run_sync(zone, spf::check_host(zone, ip("90.190.150.210"), "a.example", "postmaster@a.example", options));
    const auto hits_before = memo->stats().hits;
    CHECK(shared_results(zone, k_directo, "b.example", options) == expected);
    CHECK(memo->stats().hits > hits_before);
  }
  SUBCASE("stored by check_hosts() for other addresses")
  {
    const auto memo = std::make_shared<spf::EvaluationMemo>();
    const auto options = options_with(spf::Trace::off, memo);
    CHECK(shared_results(zone, {"90.190.150.210", "90.190.150.82"}, "a.example", options)
          == std::vector{SpfResult::pass, SpfResult::fail});
    CHECK(shared_results(zone, k_directo, "b.example", options) == expected);
  }
}

TEST_CASE("spf::check_hosts: the addresses one evaluation serves share it, the others have their own")
{
  dns::ZoneResolver zone("check_hosts sharing test");
  zone.add_txt("split.example", {"v=spf1 ip4:90.190.150.210/31 -all"});
  zone.add_txt("single.example", {"v=spf1 ip4:90.190.150.212 ip4:90.190.150.82 ~all"});
  const auto options = options_with(spf::Trace::off);
  const auto check = [&](const std::string& domain) {
    return dns::run_sync(zone, spf::check_hosts(zone, ips(k_directo), domain, "postmaster@" + domain, options));
  };

  SUBCASE("a network that splits the addresses: one shared evaluation on each side")
  {
    const auto shared = check("split.example");
    REQUIRE(shared.size() == 5);
    CHECK(shared[0] == shared[1]);
    CHECK(shared[2] == shared[3]);
    CHECK(shared[3] == shared[4]);
    CHECK(shared[0] != shared[2]);
    CHECK(shared[0]->result == SpfResult::pass);
    CHECK(shared[2]->result == SpfResult::fail);
    REQUIRE(shared[0]->deciding_term);
    CHECK(shared[0]->deciding_term->text == "ip4:90.190.150.210/31");
    REQUIRE(shared[2]->deciding_term);
    CHECK(shared[2]->deciding_term->text == "-all");
  }
  SUBCASE("two networks of one address each: the addresses they name do not share")
  {
    const auto shared = check("single.example");
    REQUIRE(shared.size() == 5);
    CHECK(shared[0] == shared[1]);
    CHECK(shared[0] == shared[3]);
    CHECK(shared[2] != shared[0]);
    CHECK(shared[4] != shared[0]);
    CHECK(shared[4] != shared[2]);
    CHECK(shared[0]->result == SpfResult::softfail);
    REQUIRE(shared[2]->deciding_term);
    CHECK(shared[2]->deciding_term->text == "ip4:90.190.150.212");
    REQUIRE(shared[4]->deciding_term);
    CHECK(shared[4]->deciding_term->text == "ip4:90.190.150.82");
  }
}
