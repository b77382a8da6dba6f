// CaresResolver parts that need no DNS server: option parsing, unaskable names, wire-format names, timeouts against
// a loopback socket that never answers, and malformed answers from a loopback socket that answers with bytes the
// test writes. The tests against a real server are in tests/integration/test_dns_cares_knot.cpp.

#include <sendcheck/dns/cares_resolver.hpp>
#include <sendcheck/util/strings.hpp>

#include <ares.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

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

  /// The socket, for ScriptedServer to answer through.
  int fd() const { return m_fd; }

private:
  int m_fd = -1;
  uint16_t m_port = 0;
};

/// A UDP socket on 127.0.0.1 that answers each query with what `reply` makes of it, from a thread of its own.
class ScriptedServer
{
public:
  using Reply = std::function<std::string(const std::string& query)>;

  explicit ScriptedServer(Reply reply)
    : m_reply(std::move(reply))
    , m_thread([this] { serve(); })
  {
  }
  ~ScriptedServer()
  {
    m_stop = true;
    m_thread.join();
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  std::string address() const { return m_socket.address(); }

  /// The source port of each query received so far, in order.
  std::vector<uint16_t>
  client_ports() const
  {
    const std::lock_guard lock(m_ports_mutex);
    return m_ports;
  }

private:
  void
  serve()
  {
    const int fd = m_socket.fd();
    while (!m_stop) {
      pollfd entry{ fd, POLLIN, 0 };
      if (::poll(&entry, 1, 20) <= 0) {
        continue;
      }
      std::string query(4096, '\0');
      sockaddr_in peer{};
      socklen_t peer_length = sizeof(peer);
      const auto received =
        ::recvfrom(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
      if (received <= 0) {
        continue;
      }
      query.resize(static_cast<size_t>(received));
      {
        const std::lock_guard lock(m_ports_mutex);
        m_ports.push_back(ntohs(peer.sin_port));
      }
      const std::string answer = m_reply(query);
      ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_length);
    }
  }

  SilentServer m_socket;
  Reply m_reply;
  mutable std::mutex m_ports_mutex;
  std::vector<uint16_t> m_ports;
  std::atomic<bool> m_stop = false;
  std::thread m_thread; ///< Last: it starts once the members it uses are made.
};

/// `text` as bytes, for building messages.
std::vector<unsigned char>
bytes(std::string_view text)
{
  return { text.begin(), text.end() };
}

/// What ares_expand_name says of the name at `at`: its length in the message, or nullopt when it refuses it.
std::optional<size_t>
ares_name_length(const std::vector<unsigned char>& message, size_t at)
{
  char* name = nullptr;
  long length = 0;
  if (ares_expand_name(message.data() + at, message.data(), static_cast<int>(message.size()), &name, &length)
      != ARES_SUCCESS) {
    return std::nullopt;
  }
  ares_free_string(name);
  return static_cast<size_t>(length);
}

/// `query` without its OPT record (the resolver's queries offer EDNS: one OPT record, 11 octets, at the end).
std::string
without_opt(const std::string& query)
{
  const bool has_opt = query.size() > 12 + 11 && query[10] == 0 && query[11] == 1;
  std::string plain = has_opt ? query.substr(0, query.size() - 11) : query;
  plain[11] = 0;
  return plain;
}

/// The UDP payload size the OPT record of `query` offers, or nullopt when it has none.
std::optional<uint16_t>
edns_payload(const std::string& query)
{
  const std::string opt_start("\0\0\x29", 3); // the root name, then type 41 (OPT)
  if (query.size() < 12 + 11 || query[11] != 1 || query.compare(query.size() - 11, 3, opt_start) != 0) {
    return std::nullopt;
  }
  const auto high = static_cast<unsigned char>(query[query.size() - 8]);
  const auto low = static_cast<unsigned char>(query[query.size() - 7]);
  return static_cast<uint16_t>((high << 8) | low);
}

/// A reply to `query`: the same ID and question, NOERROR, with `answers` answer and `authorities` authority
/// records, written as `records` (wire format) after the question, and no additional records (not even OPT).
std::string
reply_with(const std::string& query, uint16_t answers, uint16_t authorities, std::string_view records)
{
  std::string reply = without_opt(query);
  reply[2] = static_cast<char>(0x81); // QR, RD
  reply[3] = static_cast<char>(0x80); // RA, NOERROR
  reply[6] = static_cast<char>(answers >> 8);
  reply[7] = static_cast<char>(answers & 0xff);
  reply[8] = static_cast<char>(authorities >> 8);
  reply[9] = static_cast<char>(authorities & 0xff);
  reply[10] = reply[11] = 0;
  reply += records;
  return reply;
}

/// A resolver that asks `server` once per query, waiting `timeout` for an answer.
std::unique_ptr<dns::CaresResolver>
resolver_for(const ScriptedServer& server, std::chrono::milliseconds timeout)
{
  dns::CaresOptions options;
  options.servers = { server.address() };
  options.timeout = timeout;
  options.tries = 1;
  auto resolver = dns::CaresResolver::create(options);
  REQUIRE(resolver);
  return std::move(*resolver);
}

/// The answer of one TXT query for "x.example" to a server that replies with `reply`.
AnswerPtr
ask_scripted(ScriptedServer::Reply reply)
{
  ScriptedServer server(std::move(reply));
  auto resolver = resolver_for(server, std::chrono::milliseconds(1000));
  AnswerPtr answer;
  resolver->query("x.example", RRType::txt, [&answer](AnswerPtr a) { answer = std::move(a); });
  resolver->run();
  REQUIRE(answer);
  return answer;
}

// Pieces of records, in wire format. The question "x.example" starts at offset 12 and "example" at 14.
constexpr std::string_view k_to_question{ "\xc0\x0c", 2 };
constexpr std::string_view k_txt_in_ttl_300{ "\x00\x10\x00\x01\x00\x00\x01\x2c", 8 };
constexpr std::string_view k_spf_rdata{ "\x00\x0c\x0bv=spf1 -all", 14 };
constexpr std::string_view k_ns_in_ttl_300{ "\x00\x02\x00\x01\x00\x00\x01\x2c", 8 };
/// NS rdata "ns" + pointer to "example".
constexpr std::string_view k_ns_rdata{ "\x00\x05\x02ns\xc0\x0e", 7 };

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

TEST_CASE("dns::unaskable_name_reason: random names against a label-by-label reading")
{
  const std::string empty_label = "the name has an empty label (two dots in a row, or a leading dot)";
  // The reason read the plain way: the labels in order, then the octets.
  const auto expected = [&empty_label](const std::string& name) -> std::string {
    if (name.size() > 253) {
      return fmt::format("the name is {} octets long; DNS allows 253", name.size());
    }
    for (size_t start = 0;;) {
      const size_t end = std::min(name.find('.', start), name.size());
      if (end == start) {
        return empty_label;
      }
      if (end - start > 63) {
        return fmt::format("a label of the name is {} octets long; DNS allows 63", end - start);
      }
      if (end == name.size()) {
        break;
      }
      start = end + 1;
    }
    for (const char c : name) {
      const auto octet = static_cast<unsigned char>(c);
      if (octet <= 0x20 || octet >= 0x7f || c == '\\') {
        return "'" + util::escape_for_display(std::string(1, c)) + "'";
      }
    }
    return "";
  };
  std::mt19937 random(7208);
  const std::string pieces[] = { "a", "b", "-", ".", ".", " ", "\\", "\xc3", "\x7f", std::string(30, 'c') };
  for (int round = 0; round < 20000; ++round) {
    std::string name;
    const size_t count = 1 + random() % 12;
    for (size_t i = 0; i < count; ++i) {
      name += pieces[random() % std::size(pieces)];
    }
    CAPTURE(name);
    const std::string reason = dns::unaskable_name_reason(name);
    const std::string want = expected(name);
    if (want.starts_with('\'')) {
      CHECK(reason.find(want) != std::string::npos); // "the name holds the character 'X', ..."
    } else {
      CHECK(reason == want);
    }
  }
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

namespace {

/// unaskable_name_reason as it was written before its one-pass form, for a name of 1 to 253 octets: every label
/// first, then every octet.
std::string
two_pass_unaskable_name_reason(std::string_view name)
{
  for (size_t start = 0; start <= name.size();) {
    const size_t end = std::min(name.find('.', start), name.size());
    if (end == start) {
      return "the name has an empty label (two dots in a row, or a leading dot)";
    }
    if (end - start > 63) {
      return fmt::format("a label of the name is {} octets long; DNS allows 63", end - start);
    }
    start = end + 1;
  }
  for (const char c : name) {
    const auto octet = static_cast<unsigned char>(c);
    if (octet <= 0x20 || octet >= 0x7f || c == '\\') {
      return fmt::format("the name holds the character '{}', which cannot be asked (use the A-label form of "
                         "international names)",
                         util::escape_for_display(std::string_view(&c, 1)));
    }
  }
  return {};
}

} // namespace

TEST_CASE("dns::unaskable_name_reason: the one pass agrees with labels-then-octets on random names")
{
  std::mt19937 random(20261130);
  // Mostly letters and dots, with the octets on either side of each boundary of what may be asked, and labels
  // near 63 octets. (Empty names and names over 253 octets are refused before any label is read: see above.)
  const std::string alphabet = std::string("ab-_.") + '\x20' + '\x21' + '\x7e' + '\x7f' + '\\' + '\x00' + '\xc3';
  size_t unaskable = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string name;
    const size_t length = std::uniform_int_distribution<size_t>(1, round % 2 == 0 ? 30 : 253)(random);
    const bool long_labels = round % 3 == 0;
    // Long labels: a dot about every 64 octets and an octet from the alphabet about every 300, else 'a'.
    const size_t range = long_labels ? 300 : alphabet.size() + 10;
    while (name.size() < length) {
      const size_t pick = std::uniform_int_distribution<size_t>(0, range)(random);
      if (!long_labels || pick < alphabet.size()) {
        name += pick < alphabet.size() ? alphabet[pick] : 'x';
      } else {
        name += pick % 64 == 0 ? '.' : 'a';
      }
    }
    const auto expected = two_pass_unaskable_name_reason(name);
    CHECK_MESSAGE(dns::unaskable_name_reason(name) == expected, util::escape_for_display(name));
    unaskable += expected.empty() ? 0 : 1;
  }
  // Both kinds of name were tried.
  CHECK(unaskable > 1000);
  CHECK(unaskable < 19000);
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

TEST_CASE("dns::wire_name_length")
{
  // A header of zeros, then the name "x.example" at 12 and "mail" + a pointer to "example" at 23.
  const auto message = bytes(std::string(12, '\0') + std::string("\x01x\x07" "example\x00", 11)
                             + std::string("\x04mail\xc0\x0e", 7));
  REQUIRE(message.size() == 30);

  SUBCASE("a name of labels ends after its zero octet")
  {
    CHECK(dns::wire_name_length(message, 12) == 11);
    CHECK(dns::wire_name_length(message, 14) == 9);
  }
  SUBCASE("a compressed name ends after its first pointer")
  {
    CHECK(dns::wire_name_length(message, 23) == 7);
    CHECK(dns::wire_name_length(message, 28) == 2);
  }
  SUBCASE("the root name is one octet, or two as a pointer")
  {
    CHECK(dns::wire_name_length(message, 22) == 1);
    auto root = message;
    root.push_back(0xc0);
    root.push_back(22);
    CHECK(dns::wire_name_length(root, 30) == 2);
  }
  SUBCASE("malformed names")
  {
    CHECK_FALSE(dns::wire_name_length(message, 30)); // at the end
    CHECK_FALSE(dns::wire_name_length(message, 99)); // beyond it
    auto bad = message;
    bad[28] = 0x40; // a reserved prefix
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad[28] = 0x80;
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad = message;
    bad[29] = 30; // a pointer to the end of the message
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad[28] = 0xff; // a pointer far beyond it
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad = message;
    bad[29] = 23; // a loop: the pointer leads back to "mail"
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad = message;
    bad.pop_back(); // the pointer cut in half
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad = message;
    bad[23] = 6; // a label running past the end
    CHECK_FALSE(dns::wire_name_length(bad, 23));
    bad = message;
    bad[22] = 'x'; // no zero octet after the last label
    CHECK_FALSE(dns::wire_name_length(bad, 12));
    bad.resize(22); // the last label ends at the end: no room for the zero octet
    CHECK_FALSE(dns::wire_name_length(bad, 12));
  }
  SUBCASE("a chain of 50 pointers is followed, one of 51 is taken for a loop (as c-ares does)")
  {
    for (const size_t pointers : { size_t{ 50 }, size_t{ 51 } }) {
      auto chain = message;
      const size_t first = chain.size();
      for (size_t i = 0; i < pointers; ++i) {
        const size_t next = i + 1 < pointers ? first + 2 * (i + 1) : 22; // the last points at a zero octet
        chain.push_back(static_cast<unsigned char>(0xc0 | (next >> 8)));
        chain.push_back(static_cast<unsigned char>(next & 0xff));
      }
      CAPTURE(pointers);
      CHECK(dns::wire_name_length(chain, first) == (pointers <= 50 ? std::optional<size_t>(2) : std::nullopt));
      CHECK(dns::wire_name_length(chain, first) == ares_name_length(chain, first));
    }
  }
  SUBCASE("it refuses exactly what ares_expand_name refuses, and agrees on the length, on random messages")
  {
    // Octets drawn mostly from those that matter to the format: short label lengths, zeros, the reserved and
    // pointer prefixes, and pointers into a short message.
    std::mt19937 engine(20240607);
    const std::vector<unsigned> interesting = { 0, 0, 0, 1, 2, 3, 'a', 63, 0x40, 0x80, 0xc0, 0xc0, 0xc0, 0xff };
    size_t accepted = 0;
    for (int round = 0; round < 3000; ++round) {
      std::vector<unsigned char> random_message(12 + engine() % 40);
      for (auto& octet : random_message) {
        const unsigned pick = engine() % (interesting.size() + 2);
        octet = static_cast<unsigned char>(pick < interesting.size() ? interesting[pick] : engine() % 48);
      }
      for (size_t at = 0; at <= random_message.size(); ++at) {
        const auto ours = dns::wire_name_length(random_message, at);
        CAPTURE(round);
        CAPTURE(at);
        REQUIRE(ours == ares_name_length(random_message, at));
        accepted += ours ? 1 : 0;
      }
    }
    CHECK(accepted > 10000); // the draw reaches well-formed names as well as malformed ones
  }
}

TEST_CASE("dns::CaresResolver malformed answers")
{
  const std::string txt_answer = std::string(k_to_question) + std::string(k_txt_in_ttl_300) + std::string(k_spf_rdata);

  SUBCASE("a well-formed answer with an authority record is read")
  {
    const auto answer = ask_scripted([&](const std::string& query) {
      return reply_with(
        query, 1, 1, txt_answer + std::string(k_to_question) + std::string(k_ns_in_ttl_300) + std::string(k_ns_rdata));
    });
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].joined() == "v=spf1 -all");
    CHECK(answer->ttl == 300);
  }
  SUBCASE("a CNAME whose owner and target are compressed is followed")
  {
    // x.example CNAME y.example (target "y" + pointer to "example"); y.example (a pointer to the target) TXT.
    const auto answer = ask_scripted([&](const std::string& query) {
      const size_t target_at = query.size() + 12;
      const std::string cname = std::string(k_to_question) + std::string("\x00\x05\x00\x01\x00\x00\x01\x2c", 8)
                                + std::string("\x00\x04\x01y\xc0\x0e", 6);
      const std::string txt = std::string{ '\xc0', static_cast<char>(target_at) } + std::string(k_txt_in_ttl_300)
                              + std::string(k_spf_rdata);
      return reply_with(query, 2, 0, cname + txt);
    });
    CHECK(answer->status == Status::ok);
    CHECK(answer->cname_chain == std::vector<std::string>{ "y.example" });
    REQUIRE(answer->txt.size() == 1);
  }
  SUBCASE("an authority owner c-ares's parser never reads is still checked")
  {
    // The TXT answer itself is well-formed; only the authority record's owner is not.
    const std::vector<std::string> bad_owners = {
      std::string("\xc0\xff", 2),       // a pointer beyond the end
      std::string("\x40x\x00", 3),      // a reserved prefix
      std::string("\x3fxyz", 4),        // a label running past the end
    };
    for (const auto& owner : bad_owners) {
      const auto answer = ask_scripted([&](const std::string& query) {
        return reply_with(query, 1, 1, txt_answer + owner + std::string(k_ns_in_ttl_300) + std::string(k_ns_rdata));
      });
      CHECK(answer->status == Status::error);
      CHECK(answer->detail == "malformed answer");
    }
  }
  SUBCASE("an authority owner whose pointer loops is refused")
  {
    const auto answer = ask_scripted([&](const std::string& query) {
      const size_t owner_at = query.size() + txt_answer.size();
      const std::string loop{ '\xc0', static_cast<char>(owner_at) }; // points at itself
      return reply_with(query, 1, 1, txt_answer + loop + std::string(k_ns_in_ttl_300) + std::string(k_ns_rdata));
    });
    CHECK(answer->status == Status::error);
    CHECK(answer->detail == "malformed answer");
  }
}

TEST_CASE("dns::write_query")
{
  // The message must be the one ares_create_query makes (recursion desired; with EDNS, the OPT record c-ares takes
  // off again for a server that answers FORMERR): c-ares matches each answer's question against it, and the server
  // sees nothing new.
  const auto same_as_cares = [](const std::string& name, RRType type, uint16_t id) {
    CAPTURE(name);
    for (const uint16_t payload : { uint16_t{ 0 }, dns::k_edns_udp_payload, uint16_t{ 4096 } }) {
      CAPTURE(payload);
      std::vector<unsigned char> ours;
      const bool written = dns::write_query(name, type, id, payload, ours);
      unsigned char* buffer = nullptr;
      int length = 0;
      const int status =
        ares_create_query(name.c_str(), 1, static_cast<int>(type), id, 1, &buffer, &length, payload);
      const std::vector<unsigned char> theirs =
        status == ARES_SUCCESS ? std::vector<unsigned char>(buffer, buffer + length) : std::vector<unsigned char>{};
      if (buffer != nullptr) {
        ares_free_string(buffer);
      }
      CHECK(written == (status == ARES_SUCCESS));
      CHECK(ours == theirs);
    }
  };
  SUBCASE("names at the length limits, and names ares_create_query refuses")
  {
    const std::string label63(63, 'a');
    const std::string long_name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b'); // 253
    for (const std::string& name : { std::string("x"), std::string("d1234.bench.test"), label63 + ".example",
                                     std::string(64, 'a') + ".example", long_name, long_name + "c",
                                     long_name + "cd", std::string("a..b"), std::string(".a"),
                                     std::string("_spf.x-y_z/1.example") }) {
      same_as_cares(name, RRType::txt, 0x1234);
    }
  }
  SUBCASE("random names, types and ids")
  {
    std::mt19937 random(8);
    const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 2000; ++i) {
      std::string name;
      const size_t labels = 1 + random() % 6;
      for (size_t label = 0; label < labels; ++label) {
        if (label > 0) {
          name += '.';
        }
        const size_t length = 1 + random() % (random() % 8 == 0 ? 70 : 12);
        for (size_t c = 0; c < length; ++c) {
          name += alphabet[random() % alphabet.size()];
        }
      }
      const RRType type =
        std::array{ RRType::a, RRType::aaaa, RRType::mx, RRType::txt, RRType::ptr }[random() % 5];
      same_as_cares(name, type, static_cast<uint16_t>(random()));
    }
  }
}

TEST_CASE("dns::CaresResolver rcodes and query ids")
{
  SUBCASE("each rcode of an answer without records gives the status ares_query gave")
  {
    struct Expected
    {
      int rcode;
      Status status;
      std::string detail;
    };
    const std::vector<Expected> cases = {
      { 0, Status::nodata, "" },
      { 1, Status::error, ares_strerror(ARES_EFORMERR) },
      { 2, Status::servfail, "the server answered SERVFAIL" },
      { 3, Status::nxdomain, "" },
      { 4, Status::error, ares_strerror(ARES_ENOTIMP) },
      { 5, Status::refused, "the server refused to answer (REFUSED)" },
      { 6, Status::nodata, "" }, // YXDOMAIN and the rest: ares_query left ARES_SUCCESS
      { 9, Status::nodata, "" },
    };
    for (const auto& expected : cases) {
      CAPTURE(expected.rcode);
      const auto answer = ask_scripted([&](const std::string& query) {
        std::string reply = reply_with(query, 0, 0, "");
        reply[3] = static_cast<char>(0x80 | expected.rcode);
        return reply;
      });
      CHECK(answer->status == expected.status);
      CHECK(answer->detail == expected.detail);
    }
  }
  SUBCASE("one UDP socket serves round after round of queries")
  {
    // c-ares 1.18 closes its sockets whenever no query is left in flight unless ARES_FLAG_STAYOPEN is set; a list
    // run then opened a socket (socket, connect, close, a new receive buffer) for every round of queries.
    ScriptedServer server([&](const std::string& query) {
      return reply_with(query, 1, 0,
                        std::string(k_to_question) + std::string(k_txt_in_ttl_300) + std::string(k_spf_rdata));
    });
    auto resolver = resolver_for(server, std::chrono::milliseconds(2000));
    for (int round = 0; round < 3; ++round) {
      resolver->query(fmt::format("r{}.example", round), RRType::txt, [](AnswerPtr answer) {
        CHECK(answer->status == Status::ok);
      });
      resolver->run(); // every query answered: none left in flight between rounds
    }
    const auto ports = server.client_ports();
    REQUIRE(ports.size() == 3);
    CHECK(ports[1] == ports[0]);
    CHECK(ports[2] == ports[0]);
  }
  SUBCASE("300 queries, 128 in flight: every one answered, with ids drawn at random")
  {
    std::vector<uint16_t> ids;
    std::mutex ids_mutex;
    ScriptedServer server([&](const std::string& query) {
      {
        const std::lock_guard lock(ids_mutex);
        const auto high = static_cast<unsigned char>(query[0]);
        const auto low = static_cast<unsigned char>(query[1]);
        ids.push_back(static_cast<uint16_t>((high << 8) | low));
      }
      return reply_with(query, 1, 0,
                        std::string(k_to_question) + std::string(k_txt_in_ttl_300) + std::string(k_spf_rdata));
    });
    auto resolver = resolver_for(server, std::chrono::milliseconds(2000));
    size_t answered = 0;
    for (int i = 0; i < 300; ++i) {
      resolver->query(fmt::format("q{}.example", i), RRType::txt, [&answered](AnswerPtr answer) {
        CHECK(answer->status == Status::ok);
        ++answered;
      });
    }
    resolver->run();
    CHECK(answered == 300);
    const std::lock_guard lock(ids_mutex);
    REQUIRE(ids.size() == 300);
    size_t steps_of_one = 0;
    for (size_t i = 1; i < ids.size(); ++i) {
      steps_of_one += static_cast<uint16_t>(ids[i] - ids[i - 1]) == 1 ? 1 : 0;
    }
    CHECK(steps_of_one < 10);
    std::sort(ids.begin(), ids.end());
    CHECK(std::unique(ids.begin(), ids.end()) - ids.begin() > 280);
  }
}

TEST_CASE("dns::CaresResolver EDNS")
{
  const std::string spf_answer =
    std::string(k_to_question) + std::string(k_txt_in_ttl_300) + std::string(k_spf_rdata);
  SUBCASE("queries offer EDNS with a 1232-octet UDP payload")
  {
    std::optional<uint16_t> offered;
    const auto answer = ask_scripted([&](const std::string& query) {
      offered = edns_payload(query);
      return reply_with(query, 1, 0, spf_answer);
    });
    CHECK(answer->status == Status::ok);
    CHECK(offered == dns::k_edns_udp_payload);
  }
  SUBCASE("a 1,000-octet answer over UDP is taken whole, without asking again over TCP")
  {
    // The scripted server has no TCP: before EDNS, c-ares took any UDP answer over 512 octets for a truncated one.
    const std::string long_text = std::string(250, 'a') + std::string(250, 'b') + std::string(250, 'c') +
                                  std::string(200, 'd');
    std::string rdata;
    for (size_t at = 0; at < long_text.size(); at += 250) {
      const std::string piece = long_text.substr(at, 250);
      rdata += static_cast<char>(piece.size());
      rdata += piece;
    }
    const std::string record = std::string(k_to_question) + std::string(k_txt_in_ttl_300) +
                               static_cast<char>(rdata.size() >> 8) + static_cast<char>(rdata.size() & 0xff) + rdata;
    size_t queries = 0;
    const auto answer = ask_scripted([&](const std::string& query) {
      ++queries;
      return reply_with(query, 1, 0, record);
    });
    REQUIRE(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    std::string joined;
    for (const auto& piece : answer->txt[0].strings) {
      joined += piece;
    }
    CHECK(joined == long_text);
    CHECK(queries == 1);
  }
  SUBCASE("a server that answers FORMERR to EDNS is asked again without it, and gets no more EDNS")
  {
    std::mutex seen_mutex;
    std::vector<bool> seen; // whether each query had EDNS, in the order they came
    ScriptedServer server([&](const std::string& query) {
      const bool edns = edns_payload(query).has_value();
      {
        const std::lock_guard lock(seen_mutex);
        seen.push_back(edns);
      }
      if (edns) { // FORMERR without an OPT record, as a server that does not know EDNS answers
        std::string reply = reply_with(query, 0, 0, "");
        reply[3] = static_cast<char>(0x80 | 1);
        return reply;
      }
      return reply_with(query, 1, 0, spf_answer);
    });
    auto resolver = resolver_for(server, std::chrono::milliseconds(2000));
    std::vector<AnswerPtr> answers;
    // Five at once, all written with EDNS before the first FORMERR comes back; then one more after.
    for (int i = 0; i < 5; ++i) {
      resolver->query("x.example", RRType::txt, [&answers](AnswerPtr a) { answers.push_back(std::move(a)); });
    }
    resolver->run();
    resolver->query("x.example", RRType::txt, [&answers](AnswerPtr a) { answers.push_back(std::move(a)); });
    resolver->run();
    REQUIRE(answers.size() == 6);
    for (const auto& answer : answers) {
      CHECK(answer->status == Status::ok);
      CHECK(answer->txt.size() == 1);
    }
    const std::lock_guard lock(seen_mutex);
    CHECK(std::count(seen.begin(), seen.end(), true) == 5);  // the five first tries
    CHECK(std::count(seen.begin(), seen.end(), false) == 6); // each again without, and the sixth at once without
    CHECK(seen.back() == false);
  }
}
