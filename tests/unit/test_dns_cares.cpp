// CaresResolver parts that need no DNS server: option parsing, unaskable names, and timeouts against a loopback
// socket that never answers. The tests against a real server are in tests/integration/test_dns_cares_knot.cpp.

#include <sendcheck/dns/cares_resolver.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

using namespace sendcheck;
using dns::AnswerPtr;
using dns::RRType;
using dns::Status;

namespace {

/// A UDP socket on 127.0.0.1 that receives queries and never answers (the kernel queues and drops them).
class SilentServer
{
public:
  SilentServer()
  {
    m_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    m_port = ntohs(address.sin_port);
  }
  ~SilentServer() { ::close(m_fd); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }

private:
  int m_fd = -1;
  uint16_t m_port = 0;
};

} // namespace

TEST_CASE("dns::parse_server")
{
  auto server = dns::parse_server("192.0.2.1");
  REQUIRE(server);
  CHECK(server->first.to_string() == "192.0.2.1");
  CHECK(server->second == 53);
  server = dns::parse_server("127.0.0.1:5300");
  REQUIRE(server);
  CHECK(server->second == 5300);
  server = dns::parse_server("[::1]:5353");
  REQUIRE(server);
  CHECK(server->first.to_string() == "::1");
  CHECK(server->second == 5353);
  server = dns::parse_server("2001:db8::53");
  REQUIRE(server);
  CHECK(server->second == 53);
  CHECK(dns::parse_server("[2001:db8::53]"));
  CHECK_FALSE(dns::parse_server("192.0.2"));
  CHECK_FALSE(dns::parse_server("192.0.2.1:"));
  CHECK_FALSE(dns::parse_server("192.0.2.1:0"));
  CHECK_FALSE(dns::parse_server("192.0.2.1:65536"));
  CHECK_FALSE(dns::parse_server("192.0.2.1:53x"));
  CHECK_FALSE(dns::parse_server("[192.0.2.1]:53"));
  CHECK_FALSE(dns::parse_server("[::1]5353"));
  CHECK_FALSE(dns::parse_server("dns.example:53"));
  CHECK_FALSE(dns::parse_server(""));
}

TEST_CASE("dns::unaskable_name_reason")
{
  CHECK(dns::unaskable_name_reason("example.ee") == "");
  CHECK(dns::unaskable_name_reason("_spf.example-1.ee") == "");
  CHECK(dns::unaskable_name_reason("") == "the name is empty");
  CHECK(dns::unaskable_name_reason("a..b") == "the name has an empty label (two dots in a row, or a leading dot)");
  CHECK(dns::unaskable_name_reason(std::string(64, 'a') + ".ee") ==
        "a label of the name is 64 octets long; DNS allows 63");
  std::string long_name;
  for (int i = 0; i < 5; ++i) {
    long_name += std::string(60, 'a') + ".";
  }
  long_name += "ee";
  CHECK(dns::unaskable_name_reason(long_name) == "the name is 307 octets long; DNS allows 253");
  CHECK(dns::unaskable_name_reason("a b.ee").find("' '") != std::string::npos);
  CHECK(dns::unaskable_name_reason("t\xc3\xa4ht.ee").find("'\\xC3'") != std::string::npos);
  CHECK_FALSE(dns::unaskable_name_reason("a\\.b").empty());
}

TEST_CASE("dns::unaskable_name_reason: label edges")
{
  const std::string empty_label = "the name has an empty label (two dots in a row, or a leading dot)";
  CHECK(dns::unaskable_name_reason(".") == empty_label);
  CHECK(dns::unaskable_name_reason(".ee") == empty_label);
  CHECK(dns::unaskable_name_reason("ee.") == empty_label);
  CHECK(dns::unaskable_name_reason("a.b..") == empty_label);
  CHECK(dns::unaskable_name_reason("a") == "");
  CHECK(dns::unaskable_name_reason(std::string(63, 'a')) == "");
  CHECK(dns::unaskable_name_reason(std::string(63, 'a') + "." + std::string(63, 'b')) == "");
  CHECK(dns::unaskable_name_reason(std::string(64, 'a')) == "a label of the name is 64 octets long; DNS allows 63");
  CHECK(dns::unaskable_name_reason("ee." + std::string(70, 'b')) ==
        "a label of the name is 70 octets long; DNS allows 63");
  // The first problem in the name is reported, labels before characters.
  CHECK(dns::unaskable_name_reason("a b." + std::string(64, 'c')) ==
        "a label of the name is 64 octets long; DNS allows 63");
  CHECK(dns::unaskable_name_reason("a b..ee") == empty_label);
  CHECK(dns::unaskable_name_reason(std::string(64, 'c') + "..ee") ==
        "a label of the name is 64 octets long; DNS allows 63");
  CHECK(dns::unaskable_name_reason(std::string(253, 'a')) == "a label of the name is 253 octets long; DNS allows 63");
  CHECK(dns::unaskable_name_reason(std::string(254, 'a')) == "the name is 254 octets long; DNS allows 253");
}

TEST_CASE("dns::CaresResolver::create")
{
  SUBCASE("bad server strings are refused with a clear message")
  {
    dns::CaresOptions options;
    options.servers = { "127.0.0.1:5300", "nonsense" };
    const auto resolver = dns::CaresResolver::create(options);
    REQUIRE_FALSE(resolver);
    CHECK(resolver.error().message == "bad DNS server \"nonsense\": expected IP, IP:PORT or [IPv6]:PORT");
  }
  SUBCASE("servers are listed as configured")
  {
    dns::CaresOptions options;
    options.servers = { "127.0.0.1:5300", "[::1]:5353" };
    const auto resolver = dns::CaresResolver::create(options);
    REQUIRE(resolver);
    CHECK((*resolver)->servers() == std::vector<std::string>{ "127.0.0.1:5300", "[::1]:5353" });
  }
  SUBCASE("version")
  {
    CHECK(dns::CaresResolver::library_version() == "1.18.1");
  }
}

TEST_CASE("dns::CaresResolver timeouts")
{
  SilentServer silent;
  dns::CaresOptions options;
  options.servers = { silent.address() };
  options.timeout = std::chrono::milliseconds(200);
  options.tries = 1;
  auto created = dns::CaresResolver::create(options);
  REQUIRE(created);
  auto& resolver = **created;

  SUBCASE("a server that never answers gives timeout within the time allowed, naming the server")
  {
    std::vector<AnswerPtr> answers(5);
    for (auto& answer : answers) {
      resolver.query("example.ee", RRType::txt, [&answer](AnswerPtr a) { answer = std::move(a); });
    }
    const auto started = std::chrono::steady_clock::now();
    resolver.run();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(elapsed >= std::chrono::milliseconds(150));
    CHECK(elapsed < std::chrono::milliseconds(1500));
    for (const auto& answer : answers) {
      REQUIRE(answer);
      CHECK(answer->status == Status::timeout);
      CHECK(answer->server == silent.address());
      CHECK(answer->detail == "no answer within 200 ms and 1 try");
    }
  }
  SUBCASE("an unaskable name is answered at once, without waiting")
  {
    AnswerPtr answer;
    resolver.query("bad..name", RRType::a, [&answer](AnswerPtr a) { answer = std::move(a); });
    REQUIRE(answer);
    CHECK(answer->status == Status::error);
    resolver.run();
  }
  SUBCASE("destroying the resolver with queries in flight is safe")
  {
    auto other = dns::CaresResolver::create(options);
    REQUIRE(other);
    bool called = false;
    (*other)->query("example.ee", RRType::a, [&called](AnswerPtr) { called = true; });
    other->reset();
    CHECK_FALSE(called);
  }
}

TEST_CASE("dns::CaresResolver connection refused")
{
  // A port with nothing bound: the kernel answers ICMP port unreachable.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);

  dns::CaresOptions options;
  options.servers = { "127.0.0.1:" + std::to_string(ntohs(address.sin_port)) };
  // Long enough that a refusal the resolver failed to pass on would show up as a timeout instead.
  options.timeout = std::chrono::milliseconds(2000);
  options.tries = 2;
  auto resolver = dns::CaresResolver::create(options);
  REQUIRE(resolver);

  SUBCASE("one query")
  {
    AnswerPtr answer;
    (*resolver)->query("example.ee", RRType::a, [&answer](AnswerPtr a) { answer = std::move(a); });
    (*resolver)->run();
    REQUIRE(answer);
    CHECK(answer->status == Status::error);
    CHECK(answer->detail == "connection refused: no DNS server is listening there");
  }

  SUBCASE("many queries sent in one batch, and more started as the first ones fail")
  {
    // The datagrams of one event-loop round leave together (sendmmsg); the refusal of the first is pending on the
    // socket when the next are sent, and every query must still end as refused, none as a timeout.
    std::vector<AnswerPtr> answers(40);
    for (size_t i = 0; i < 20; ++i) {
      (*resolver)->query(fmt::format("d{}.example.ee", i), RRType::txt, [&answers, &resolver, i](AnswerPtr a) {
        answers[i] = std::move(a);
        (*resolver)->query(fmt::format("e{}.example.ee", i), RRType::a,
                           [&answers, i](AnswerPtr b) { answers[20 + i] = std::move(b); });
      });
    }
    (*resolver)->run();
    for (const auto& answer : answers) {
      REQUIRE(answer);
      CHECK(answer->status == Status::error);
      CHECK(answer->detail == "connection refused: no DNS server is listening there");
    }
  }
}
