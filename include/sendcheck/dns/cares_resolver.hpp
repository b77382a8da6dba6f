#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/util/result.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The network resolver: c-ares (1.18.1 on Debian 12) driven by our own poll() loop through ARES_OPT_SOCK_STATE_CB,
// ares_timeout and ares_process_fd (c-ares deprecates select/ares_fds; ares_process_fds only exists from 1.34). Its
// sockets are opened through ares_set_socket_functions, so that the UDP queries of one loop round leave in one
// sendmmsg(2) per socket, and waiting answers are read up to 32 at a time with recvmmsg(2).

namespace sendcheck::dns {

/// How a CaresResolver asks.
struct CaresOptions
{
  /// Servers to ask, each "IP" or "IP:PORT" (IPv6 with a port as "[::1]:5353"); empty means those of
  /// /etc/resolv.conf.
  std::vector<std::string> servers;
  /// How long c-ares waits for the first try; later tries wait longer (c-ares doubles it per round of servers).
  std::chrono::milliseconds timeout{ 2000 };
  /// How many times each query is sent (to each server in turn) before it times out.
  int tries = 2;
  /// How many queries are on the network at once; the rest wait in a queue in the order asked. A server's socket
  /// buffer holds about 200 queries (knotd's, with Linux's default 212,992 bytes): at 200 in flight it dropped
  /// datagrams whenever it waited for a CPU, and each drop costs a retry after the timeout (100,000 domains: 7 s ->
  /// 25-48 s). 128 dropped none and was also the fastest on the 10,000-domain benchmark (0.38 s against 0.44 s).
  size_t max_in_flight = 128;
};

/// Why a CaresResolver could not be made.
struct CaresError
{
  std::string message; ///< What was wrong: "bad server address \"1.2.3\": expected IP or IP:PORT", ...
};

/// A Resolver that asks DNS servers with c-ares: one channel, many queries in flight, one event loop in `run`.
///
/// Statuses: NXDOMAIN → `nxdomain`; NOERROR without records of the type → `nodata`; SERVFAIL → `servfail`;
/// REFUSED → `refused`; no answer in the time and tries allowed → `timeout`; anything else (a malformed answer,
/// connection refused, ...) → `error`. A name that cannot be asked (a label over 63 octets, over 253 octets, an
/// empty label, a byte outside printable ASCII, a backslash) gives `error` without a query. Queries offer EDNS
/// (k_edns_udp_payload), so answers up to 1232 octets come over UDP; truncated UDP answers are asked again over TCP
/// (c-ares does it). A server that answers FORMERR to a query with EDNS is asked again without, and the resolver
/// sends it no more EDNS. SERVFAIL and REFUSED are final (ARES_FLAG_NOCHECKRESP, as Node.js
/// does): c-ares 1.18 would otherwise try the next server and report "connection refused", losing the rcode; only
/// timeouts move on to the next server. `Answer::server` names the configured server (or all of them, comma
/// separated, when there are several: c-ares 1.18 does not say which one answered).
class CaresResolver : public Resolver
{
public:
  /// Makes a resolver with `options`; a bad server string or a c-ares failure (no /etc/resolv.conf servers, no
  /// memory) gives a CaresError.
  static util::Result<std::unique_ptr<CaresResolver>, CaresError> create(const CaresOptions& options);

  /// Destroys the channel; callbacks of queries still queued or in flight are never called.
  ~CaresResolver() override;
  CaresResolver(const CaresResolver&) = delete;
  CaresResolver& operator=(const CaresResolver&) = delete;

  /// Sends the query now, or queues it when `max_in_flight` are on the network; an unaskable name is answered
  /// `error` at once. `done` runs from `run`.
  void query(std::string_view name, RRType type, Callback done) override;

  /// `query` without normalizing `name` again.
  void query_normalized(std::string_view name, RRType type, Callback done) override;

  /// Polls the channel's sockets and delivers answers until no query is queued, in flight or undelivered.
  /// Callbacks run here (never inside c-ares), so they may call `query` again.
  void run() override;

  /// The servers in use, as "IP:PORT" ("[IPv6]:PORT").
  const std::vector<std::string>& servers() const { return m_servers; }

  /// How many queries are queued or on the network now.
  size_t outstanding() const { return m_queue.size() + m_in_flight; }

  /// The version of the c-ares library in use, for `--version`: "1.18.1".
  static std::string_view library_version();

private:
  struct Channel;
  struct Pending;

  explicit CaresResolver(const CaresOptions& options);
  void start(std::unique_ptr<Pending> pending);
  void start_queued();
  void finish(std::unique_ptr<Pending> pending, int status, const unsigned char* abuf, int alen);
  /// The id for a new query: random, and not the id of a query in flight (c-ares 1.18's ares_send takes the id the
  /// message holds; ares_query drew it so).
  uint16_t take_query_id();
  /// Makes `id` free for another query.
  void release_query_id(uint16_t id);
  void on_socket_state(int fd, bool readable, bool writable);

  static void socket_state_callback(void* data, int fd, int readable, int writable);
  /// What ares_send calls: the rcode becomes the status as ares_query's own callback makes it, then query_callback.
  static void send_callback(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  /// Ends the query `arg` (a Pending) with `status`, as ares_query would call it.
  static void query_callback(void* arg, int status, int timeouts, unsigned char* abuf, int alen);

  std::unique_ptr<Channel> m_channel;
  CaresOptions m_options;
  std::vector<std::string> m_servers;
  std::string m_server_label;
  std::map<int, short> m_sockets; ///< fd → poll events c-ares wants.
  std::deque<std::unique_ptr<Pending>> m_queue;
  /// Pendings of finished queries, kept for new ones with their name's buffer: two allocations less per query.
  std::vector<std::unique_ptr<Pending>> m_spare;
  size_t m_in_flight = 0;
  bool m_edns = true; ///< Whether new queries offer EDNS: until a server answers one with FORMERR.
  std::deque<std::pair<Callback, AnswerPtr>> m_done; ///< Answers to deliver from `run`.
};

/// Why `name` (normalized) cannot be asked in DNS, or empty when it can.
std::string unaskable_name_reason(std::string_view name);

/// The UDP payload size CaresResolver's queries offer with EDNS (RFC 6891): 1232 octets, the size DNS Flag Day 2020
/// recommends (an answer that size fits an IPv6 packet on a 1280-octet link, so it is never fragmented). Without
/// EDNS a server truncates every answer over 512 octets, and the query has to be asked again over TCP.
inline constexpr uint16_t k_edns_udp_payload = 1232;

/// Writes to `message` (replacing what it held) the DNS query that c-ares 1.18's ares_create_query makes for `name`
/// (normalized, without escapes), class IN, `type`, query id `id` and `edns_payload` (its max_udp_size): recursion
/// desired and, unless `edns_payload` is 0, an OPT record offering that UDP payload size (EDNS version 0, no
/// options, DO clear). False, with `message` empty, when `name` cannot be written: an empty label, a label over 63
/// octets, or over 255 octets on the wire.
bool write_query(std::string_view name, RRType type, uint16_t id, uint16_t edns_payload,
                 std::vector<unsigned char>& message);

/// Parses a server given as "IP", "IP:PORT" or "[IPv6]:PORT" into the address and port (53 when none);
/// nullopt when it is not one of these.
std::optional<std::pair<IpAddress, uint16_t>> parse_server(std::string_view text);

/// How many octets the wire-format name at offset `at` of DNS message `message` takes there (RFC 1035 section
/// 4.1.4): its labels up to and including the zero octet that ends it, or up to and including its first
/// compression pointer. Compression pointers are followed to check the rest of the name, which is never copied.
/// nullopt for a malformed name, exactly when c-ares's ares_expand_name refuses it: a label or pointer that runs
/// past the end (a label must leave room for at least the end octet after it), a length octet with the reserved
/// prefix 0x40 or 0x80, a pointer at or beyond the end of the message, or more than 50 pointers (a loop).
std::optional<size_t> wire_name_length(std::span<const unsigned char> message, size_t at);

} // namespace sendcheck::dns
