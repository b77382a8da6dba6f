// dns::CaresResolver and spf::check_host against the hostile loopback responder (tests/hostile/hostile_dns.py with
// tests/hostile/scenario.py). Run through `hostile_dns.py run scenario.py --log LOG -- test_robust_cares`, which
// puts the server's address in SENDCHECK_HOSTILE_SERVER and its query log in SENDCHECK_HOSTILE_LOG.

#include <sendcheck/dns/cares_resolver.hpp>
#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/spf/evaluator.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace sendcheck;
using dns::RRType;
using dns::Status;

namespace {

constexpr const char* k_zone = "hostile.example";
/// Every failing lookup must end within this (timeout 500 ms, one try), with room for a loaded machine.
constexpr auto k_bound = std::chrono::milliseconds(4000);

std::string
server_address()
{
  const char* server = std::getenv("SENDCHECK_HOSTILE_SERVER");
  REQUIRE_MESSAGE(server != nullptr, "run this test through tests/hostile/hostile_dns.py run");
  return server;
}

std::unique_ptr<dns::CaresResolver>
make_resolver()
{
  dns::CaresOptions options;
  options.servers = {server_address()};
  options.timeout = std::chrono::milliseconds(500);
  options.tries = 1;
  auto resolver = dns::CaresResolver::create(options);
  REQUIRE(resolver);
  return std::move(*resolver);
}

std::string
name(const std::string& label)
{
  return label + "." + k_zone;
}

/// Asks one question and returns the answer with how long it took.
std::pair<dns::AnswerPtr, std::chrono::milliseconds>
ask(const std::string& qname, RRType type)
{
  auto resolver = make_resolver();
  dns::AnswerPtr answer;
  const auto start = std::chrono::steady_clock::now();
  resolver->query(qname, type, [&](dns::AnswerPtr a) { answer = std::move(a); });
  resolver->run();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  REQUIRE(answer);
  return {answer, took};
}

/// Every name the server was asked, from its query log.
std::vector<std::string>
asked_names()
{
  std::vector<std::string> names;
  const char* log = std::getenv("SENDCHECK_HOSTILE_LOG");
  if (log == nullptr || *log == '\0') {
    return names;
  }
  std::ifstream in(log);
  std::string transport;
  std::string qname;
  std::string type;
  while (in >> transport >> qname >> type) {
    names.push_back(qname);
  }
  return names;
}

spf::Evaluation
check(const std::string& domain, const std::string& ip, const std::string& sender)
{
  auto resolver = make_resolver();
  spf::Options options;
  options.helo = "mail.example.net";
  options.timestamp = 1'700'000'000;
  const auto address = dns::IpAddress::parse(ip);
  REQUIRE(address);
  return dns::run_sync(*resolver, spf::check_host(*resolver, *address, domain, sender, options));
}

} // namespace

TEST_CASE("dns::CaresResolver big answers")
{
  SUBCASE("a 64 KB TXT record (255 strings of 255 octets) comes over TCP with its strings kept")
  {
    const auto [answer, took] = ask(name("big-txt"), RRType::txt);
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].strings.size() == 255);
    for (const auto& piece : answer->txt[0].strings) {
      CHECK(piece.size() == 255);
    }
    CHECK(answer->txt[0].joined().rfind("v=spf1 ip4:90.190.150.0/24", 0) == 0);
    CHECK(took < k_bound);
  }
  SUBCASE("10,000 MX records: the 4,092 that fit in one 64 KB message beside the OPT record all arrive")
  {
    const auto [answer, took] = ask(name("mx-many"), RRType::mx);
    CHECK(answer->status == Status::ok);
    CHECK(answer->mx.size() == 4092); // the server answers the query's EDNS with an OPT record (11 octets)
    CHECK(took < k_bound);
  }
  SUBCASE("10,000 A records: the 4,092 that fit in one 64 KB message beside the OPT record all arrive")
  {
    const auto [answer, took] = ask(name("many-a"), RRType::a);
    CHECK(answer->status == Status::ok);
    CHECK(answer->addresses.size() == 4092); // the server answers the query's EDNS with an OPT record (11 octets)
    CHECK(took < k_bound);
  }
}

TEST_CASE("dns::CaresResolver CNAMEs")
{
  SUBCASE("a chain of three CNAMEs is followed")
  {
    const auto [answer, took] = ask(name("cname-chain"), RRType::txt);
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->cname_chain == std::vector<std::string>{name("c1"), name("c2"), name("c3")});
  }
  SUBCASE("a CNAME loop ends with a failure, not a hang")
  {
    const auto [answer, took] = ask(name("cname-loop"), RRType::txt);
    CHECK(dns::is_failure(answer->status));
    CHECK_FALSE(answer->detail.empty());
    CHECK(took < k_bound);
  }
}

TEST_CASE("dns::CaresResolver hostile servers")
{
  struct Case
  {
    const char* label;
    Status expected;
  };
  const std::vector<Case> cases = {
    {"servfail", Status::servfail},   // SERVFAIL
    {"refused", Status::refused},     // REFUSED
    {"tc-notcp", Status::error},      // truncated over UDP, and TCP closes without an answer
    {"wrong-id", Status::timeout},    // answers with another message ID: ignored
    {"wrong-name", Status::timeout},  // answers another question: ignored
    {"late", Status::timeout},        // answers after 1.5 s
    {"silent", Status::timeout},      // never answers
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    const auto [answer, took] = ask(name(c.label), RRType::txt);
    CHECK(answer->status == c.expected);
    CHECK(answer->server == server_address());
    CHECK(took < k_bound);
  }
}

TEST_CASE("spf::check_host hostile local parts and addresses")
{
  SUBCASE("an ordinary local part is asked as a name")
  {
    const auto evaluation = check(name("macro-l"), "192.0.2.1", "user@" + name("macro-l"));
    CHECK(evaluation.result == spf::SpfResult::fail);
    CHECK(evaluation.void_lookups == 1);
  }
  SUBCASE("local parts that cannot make a valid name: no match, no query, and the trace says why")
  {
    for (const std::string& local : {std::string("\x01\x7f\xff"), std::string("a..b"), std::string("back\\slash"),
                                    std::string("\xc3\xa4"), std::string("nul\0byte", 8)}) {
      CAPTURE(local);
      const auto evaluation = check(name("macro-l"), "192.0.2.1", local + "@" + name("macro-l"));
      CHECK(evaluation.result == spf::SpfResult::fail);
      CHECK(evaluation.void_lookups == 0);
      bool noted = false;
      for (const auto& step : evaluation.trace) {
        noted = noted || step.note.find("not a valid domain name") != std::string::npos;
      }
      CHECK(noted);
    }
  }
  SUBCASE("a local part of one 300-octet label is cut away whole (RFC 7208 section 4.8), then the rest asked")
  {
    const auto evaluation = check(name("macro-l"), "192.0.2.1", std::string(300, 'a') + "@" + name("macro-l"));
    CHECK(evaluation.result == spf::SpfResult::fail);
    CHECK(evaluation.void_lookups == 1);
    REQUIRE(evaluation.trace.size() >= 2);
    CHECK(evaluation.trace[1].target == "l." + std::string(k_zone));
  }
  SUBCASE("a local part of many labels is cut to 253 octets from the left, then asked")
  {
    std::string local;
    for (int i = 0; i < 120; ++i) {
      local += "ab.";
    }
    local += "z";
    const auto evaluation = check(name("macro-l"), "192.0.2.1", local + "@" + name("macro-l"));
    CHECK(evaluation.result == spf::SpfResult::fail);
    CHECK(evaluation.void_lookups == 1);
  }
  SUBCASE("%{ir}.%{i} of an IPv6 client and of an IPv4 client")
  {
    CHECK(check(name("macro-i"), "2001:db8::1", "x@" + name("macro-i")).result == spf::SpfResult::fail);
    CHECK(check(name("macro-i"), "192.0.2.1", "x@" + name("macro-i")).result == spf::SpfResult::fail);
  }
  SUBCASE("twelve %{d} make a name over 253 octets: truncated, never asked whole")
  {
    const auto evaluation = check(name("macro-long"), "90.190.150.210", "x@" + name("macro-long"));
    CHECK(evaluation.result == spf::SpfResult::pass);
  }
  SUBCASE("no name the server was asked is over 253 octets or has a label over 63")
  {
    for (const auto& qname : asked_names()) {
      CAPTURE(qname);
      CHECK(qname.size() <= 253);
      size_t label = 0;
      for (const char c : qname) {
        label = c == '.' ? 0 : label + 1;
        CHECK(label <= 63);
      }
    }
  }
}
