// CaresResolver against a real authoritative server: knotd started by tests/integration/knot/knot_server.py
// (`knot_server.py run --zone tests/zones/knot-test.zone --zone tests/zones/knot-reverse.zone -- THIS_PROGRAM`),
// which passes the server as SENDCHECK_KNOT_SERVER=127.0.0.1:PORT.

#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/dns/cares_resolver.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

using namespace sendcheck;
using dns::AnswerPtr;
using dns::IpAddress;
using dns::RRType;
using dns::Status;

namespace {

std::string
knot_server()
{
  const char* server = std::getenv("SENDCHECK_KNOT_SERVER");
  REQUIRE_MESSAGE(server != nullptr, "run me through tests/integration/knot/knot_server.py run ... -- PROGRAM");
  return server;
}

std::unique_ptr<dns::CaresResolver>
make_resolver(size_t max_in_flight = 100)
{
  dns::CaresOptions options;
  options.servers = { knot_server() };
  options.timeout = std::chrono::milliseconds(1000);
  options.tries = 2;
  options.max_in_flight = max_in_flight;
  auto resolver = dns::CaresResolver::create(options);
  REQUIRE_MESSAGE(resolver, (resolver ? "" : resolver.error().message));
  return std::move(*resolver);
}

AnswerPtr
ask(dns::Resolver& resolver, std::string_view name, RRType type)
{
  AnswerPtr answer;
  resolver.query(name, type, [&answer](AnswerPtr a) { answer = std::move(a); });
  resolver.run();
  REQUIRE(answer);
  return answer;
}

std::vector<std::string>
addresses(const dns::Answer& answer)
{
  std::vector<std::string> out;
  for (const auto& address : answer.addresses) {
    out.push_back(address.to_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// A check written as a coroutine: the MX exchange's first address, as "IP" (or the status that stopped it).
util::Task<std::string>
first_mx_address(dns::Resolver& resolver, std::string domain)
{
  const AnswerPtr mx = co_await dns::lookup(resolver, domain, RRType::mx);
  if (mx->status != Status::ok) {
    co_return std::string(dns::to_string(mx->status));
  }
  const AnswerPtr a = co_await dns::lookup(resolver, mx->mx.at(0).exchange, RRType::a);
  co_return a->status == Status::ok ? a->addresses.at(0).to_string() : std::string(dns::to_string(a->status));
}

} // namespace

TEST_CASE("dns::CaresResolver with coroutines")
{
  auto resolver = make_resolver();
  CHECK(dns::run_sync(*resolver, first_mx_address(*resolver, "c1.knot.test")) == "192.0.2.25");
  CHECK(dns::run_sync(*resolver, first_mx_address(*resolver, "nothing.knot.test")) == "nxdomain");
}

TEST_CASE("dns::CaresResolver against knotd")
{
  auto resolver = make_resolver();
  const auto server = knot_server();

  SUBCASE("A and AAAA, with TTL and server")
  {
    auto answer = ask(*resolver, "A.Knot.Test.", RRType::a);
    CHECK(answer->status == Status::ok);
    CHECK(answer->name == "a.knot.test");
    CHECK(addresses(*answer) == std::vector<std::string>{ "192.0.2.1", "192.0.2.2" });
    CHECK(answer->ttl == 300);
    CHECK(answer->server == server);
    CHECK(answer->cname_chain.empty());

    answer = ask(*resolver, "aaaa.knot.test", RRType::aaaa);
    CHECK(answer->status == Status::ok);
    CHECK(addresses(*answer) == std::vector<std::string>{ "2001:db8::1" });
  }
  SUBCASE("MX")
  {
    const auto answer = ask(*resolver, "knot.test", RRType::mx);
    REQUIRE(answer->status == Status::ok);
    REQUIRE(answer->mx.size() == 2);
    auto mx = answer->mx;
    std::sort(mx.begin(), mx.end(), [](const auto& x, const auto& y) { return x.preference < y.preference; });
    CHECK(mx[0].preference == 10);
    CHECK(mx[0].exchange == "mx1.knot.test");
    CHECK(mx[1].preference == 20);
    CHECK(mx[1].exchange == "mx2.example.net");
    CHECK(answer->ttl == 300);
  }
  SUBCASE("TXT: records and their strings kept separate")
  {
    auto answer = ask(*resolver, "knot.test", RRType::txt);
    REQUIRE(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 2);
    auto txt = answer->txt;
    std::sort(txt.begin(), txt.end(), [](const auto& x, const auto& y) { return x.joined() < y.joined(); });
    CHECK(txt[0].strings == std::vector<std::string>{ "other=yes" });
    CHECK(txt[1].strings == std::vector<std::string>{ "v=spf1 ip4:192.0.2.0/24 ", "include:_spf.knot.test -all" });

    answer = ask(*resolver, "quote.knot.test", RRType::txt);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].strings == std::vector<std::string>{ "say \"hi\"; ok", "A" });

    answer = ask(*resolver, "empty.knot.test", RRType::txt);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].strings == std::vector<std::string>{ "" });
  }
  SUBCASE("a TXT answer over 512 bytes comes whole over UDP (EDNS)")
  {
    const auto answer = ask(*resolver, "big.knot.test", RRType::txt);
    REQUIRE(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].strings ==
          std::vector<std::string>{ std::string(200, 'a'), std::string(200, 'b'), std::string(200, 'c') });
  }
  SUBCASE("a 2 KB TXT record in 255-octet strings: over 1232 bytes, so over TCP")
  {
    const auto answer = ask(*resolver, "huge.knot.test", RRType::txt);
    REQUIRE(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    const auto& strings = answer->txt[0].strings;
    REQUIRE(strings.size() == 9);
    for (size_t i = 0; i < 8; ++i) {
      CHECK(strings[i] == std::string(255, static_cast<char>('A' + i)));
    }
    CHECK(strings[8] == std::string(40, 'z'));
    CHECK(answer->txt[0].joined().size() == 2080);
  }
  SUBCASE("CNAMEs are followed and the chain recorded")
  {
    auto answer = ask(*resolver, "www.knot.test", RRType::a);
    CHECK(answer->status == Status::ok);
    CHECK(addresses(*answer) == std::vector<std::string>{ "192.0.2.1", "192.0.2.2" });
    CHECK(answer->cname_chain == std::vector<std::string>{ "a.knot.test" });

    answer = ask(*resolver, "c1.knot.test", RRType::mx);
    CHECK(answer->status == Status::ok);
    CHECK(answer->mx.size() == 2);
    CHECK(answer->cname_chain == std::vector<std::string>{ "c2.knot.test", "knot.test" });

    answer = ask(*resolver, "www.knot.test", RRType::txt); // the target has no TXT
    CHECK(answer->status == Status::nodata);
    CHECK(answer->cname_chain == std::vector<std::string>{ "a.knot.test" });
  }
  SUBCASE("PTR")
  {
    const auto answer = ask(*resolver, IpAddress::parse("192.0.2.1")->reverse_name(), RRType::ptr);
    REQUIRE(answer->status == Status::ok);
    auto names = answer->names;
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{ "a.knot.test", "alias.knot.test" });
    CHECK(ask(*resolver, "9.2.0.192.in-addr.arpa", RRType::ptr)->status == Status::nxdomain);
  }
  SUBCASE("NXDOMAIN and NODATA, with the negative TTL of the SOA")
  {
    auto answer = ask(*resolver, "nothing.knot.test", RRType::txt);
    CHECK(answer->status == Status::nxdomain);
    CHECK(answer->ttl == 120);
    CHECK(answer->server == server);
    CHECK(answer->record_count() == 0);

    answer = ask(*resolver, "a.knot.test", RRType::txt);
    CHECK(answer->status == Status::nodata);
    CHECK(answer->ttl == 120);
  }
  SUBCASE("REFUSED outside the server's zones")
  {
    const auto answer = ask(*resolver, "example.com", RRType::a);
    CHECK(answer->status == Status::refused);
    CHECK(answer->detail == "the server refused to answer (REFUSED)");
  }
  SUBCASE("a name that cannot be asked fails without a query")
  {
    AnswerPtr answer;
    resolver->query(std::string(64, 'x') + ".knot.test", RRType::txt, [&](AnswerPtr a) { answer = std::move(a); });
    REQUIRE(answer); // synchronous
    CHECK(answer->status == Status::error);
    CHECK(answer->detail == "a label of the name is 64 octets long; DNS allows 63");
    CHECK(resolver->outstanding() == 0);
  }
  SUBCASE("many queries through a small window")
  {
    auto narrow = make_resolver(3);
    std::vector<AnswerPtr> answers(60);
    for (size_t i = 0; i < answers.size(); ++i) {
      const auto name = i % 3 == 0 ? "a.knot.test" : i % 3 == 1 ? "huge.knot.test" : "nothing.knot.test";
      narrow->query(name, i % 3 == 1 ? RRType::txt : RRType::a, [&answers, i](AnswerPtr a) { answers[i] = a; });
    }
    CHECK(narrow->outstanding() == 60);
    narrow->run();
    CHECK(narrow->outstanding() == 0);
    for (size_t i = 0; i < answers.size(); ++i) {
      REQUIRE(answers[i]);
      CHECK(answers[i]->status == (i % 3 == 2 ? Status::nxdomain : Status::ok));
    }
  }
  SUBCASE("callbacks may ask again from inside run")
  {
    AnswerPtr second;
    resolver->query("knot.test", RRType::mx, [&](AnswerPtr mx) {
      resolver->query(mx->mx.at(0).exchange, RRType::a, [&](AnswerPtr a) { second = std::move(a); });
    });
    resolver->run();
    REQUIRE(second);
    CHECK(addresses(*second) == std::vector<std::string>{ "192.0.2.25" });
  }
  SUBCASE("behind a CachingResolver: one upstream query for many askers")
  {
    dns::CachingResolver cache(*resolver);
    std::vector<AnswerPtr> answers(20);
    for (auto& answer : answers) {
      cache.query("knot.test", RRType::txt, [&answer](AnswerPtr a) { answer = std::move(a); });
    }
    cache.run();
    for (const auto& answer : answers) {
      REQUIRE(answer);
      CHECK(answer->status == Status::ok);
    }
    CHECK(cache.stats().upstream == 1);
  }
}
