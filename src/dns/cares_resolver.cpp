#include <sendcheck/dns/answer_records.hpp>
#include <sendcheck/dns/cares_resolver.hpp>
#include <sendcheck/util/strings.hpp>

#include "wire.hpp"

#include <ares.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <system_error>
#include <utility>

namespace sendcheck::dns {

namespace {

using wire::k_class_in;
using wire::k_header_size;
using wire::k_opt_record_size;
using wire::k_question_fixed_size;
using wire::k_rr_fixed_size;
using wire::k_type_cname;
using wire::k_type_opt;
using wire::k_type_soa;
using wire::read16;
using wire::read32;

/// ares_library_init's result, called once per process.
int
library_init()
{
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  return status;
}

/// Expands the (possibly compressed) name at `at` in the message, normalized; nullopt when malformed.
std::optional<std::string>
expand_name(const unsigned char* at, const unsigned char* abuf, int alen)
{
  char* name = nullptr;
  long length = 0;
  if (ares_expand_name(at, abuf, alen, &name, &length) != ARES_SUCCESS) {
    return std::nullopt;
  }
  std::string text = util::normalize_name(name);
  ares_free_string(name);
  return text;
}

/// What a walk over the answer and authority sections finds: the CNAME chain, TTLs and PTR targets (c-ares 1.18's
/// parsers give neither the chain nor the TTLs of MX/TXT/PTR records).
struct MessageFacts
{
  bool valid = false;
  std::vector<std::string> cname_chain;
  bool cname_loop = false;              ///< The chain comes back to a name already in it.
  std::optional<uint32_t> ttl;          ///< Smallest TTL of the records of the type asked.
  std::optional<uint32_t> negative_ttl; ///< min(SOA TTL, SOA MINIMUM) from the authority section.
  std::vector<std::string> ptr_targets;
};

MessageFacts
walk_message(const unsigned char* abuf, int alen, const std::string& asked, RRType type)
{
  MessageFacts facts;
  const auto size = static_cast<size_t>(alen);
  if (abuf == nullptr || size < k_header_size) {
    return facts;
  }
  const uint16_t questions = read16(abuf + 4);
  const uint16_t answers = read16(abuf + 6);
  const uint16_t authorities = read16(abuf + 8);
  // Names are only checked and stepped over (wire_name_length refuses what ares_expand_name refuses), except the
  // owner of a CNAME in the answer section, which is read to follow the chain: expanding every name was 5% of a
  // run's instructions.
  const std::span<const unsigned char> message(abuf, size);
  size_t pos = k_header_size;
  wire::CheckedName question; // the first question's name: owners point to it
  for (uint16_t i = 0; i < questions; ++i) {
    const auto length = wire_name_length(message, pos);
    if (!length || pos + *length + 4 > size) {
      return facts;
    }
    if (i == 0) {
      question = wire::CheckedName(message, pos);
    }
    pos += *length + 4;
  }
  const std::string* current = &asked; // the name whose CNAME comes next: `asked`, then the chain's last target
  for (unsigned i = 0; i < unsigned{ answers } + authorities; ++i) {
    const size_t owner_at = pos;
    const auto length = question.length_at(message, pos);
    if (!length || pos + *length + k_rr_fixed_size > size) {
      return facts;
    }
    pos += *length;
    const uint16_t rr_type = read16(abuf + pos);
    const uint16_t rr_class = read16(abuf + pos + 2);
    const uint32_t ttl = read32(abuf + pos + 4);
    const uint16_t rdlength = read16(abuf + pos + 8);
    pos += k_rr_fixed_size;
    if (pos + rdlength > size) {
      return facts;
    }
    const unsigned char* rdata = abuf + pos;
    pos += rdlength;
    if (rr_class != k_class_in) {
      continue;
    }
    if (i < answers) {
      if (rr_type == k_type_cname && expand_name(abuf + owner_at, abuf, alen) == *current) {
        const auto target = expand_name(rdata, abuf, alen);
        if (!target) {
          return facts;
        }
        if (*target == asked
            || std::find(facts.cname_chain.begin(), facts.cname_chain.end(), *target) != facts.cname_chain.end()) {
          facts.cname_loop = true;
        }
        facts.cname_chain.push_back(*target);
        current = &facts.cname_chain.back();
      } else if (rr_type == static_cast<uint16_t>(type)) {
        facts.ttl = std::min(ttl, facts.ttl.value_or(ttl));
        if (type == RRType::ptr) {
          const auto target = expand_name(rdata, abuf, alen);
          if (!target) {
            return facts;
          }
          facts.ptr_targets.push_back(*target);
        }
      }
    } else if (rr_type == k_type_soa && rdlength >= 20) {
      const uint32_t minimum = read32(rdata + rdlength - 4);
      facts.negative_ttl = std::min(ttl, minimum);
    }
  }
  facts.valid = true;
  return facts;
}

/// "IP:PORT", with brackets around an IPv6 address.
std::string
server_label(const IpAddress& address, uint16_t port)
{
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                         : fmt::format("{}:{}", address.to_string(), port);
}

/// Fills `answer` from a NOERROR message with records; returns false (with `answer->detail`) when malformed. The
/// records are read by parse_answer_records, which accepts and refuses what c-ares 1.18's ares_parse_*_reply did.
bool
parse_records(Answer& answer, const unsigned char* abuf, int alen, RecordsScratch& scratch)
{
  const auto status = parse_answer_records(std::span<const unsigned char>(abuf, static_cast<size_t>(alen)), answer,
                                           scratch);
  if (status == RecordsStatus::ok || status == RecordsStatus::no_data) {
    if (answer.type == RRType::txt) {
      sort_txt_records(answer.txt);
    }
    return true;
  }
  answer.detail = fmt::format("malformed answer: {}", ares_strerror(to_ares_status(status)));
  return false;
}

/// The socket functions c-ares uses (ares_set_socket_functions), so that the datagrams of its UDP sockets move in
/// batches. A datagram c-ares sends is held until the event loop has started every query it can and is about to
/// wait, and then each socket's datagrams leave in one sendmmsg(2): one send(2) per query was 19% of sendcheck's CPU
/// on a 10,000-domain run, most of it waking the server for every datagram. When c-ares reads (it reads until
/// EAGAIN), up to k_receive_batch waiting answers come in one recvmmsg(2) and are handed out one a call, each cut to
/// the length c-ares asks for as recvfrom(2) would cut it. TCP goes through unchanged.
///
/// A batch that fails (say, ECONNREFUSED for a port where nothing listens) is not lost on c-ares: the error is kept
/// for the socket and given to c-ares as the result of its next read, which the event loop makes at once, and c-ares
/// handles it as it would a failed send (it moves the queries on to the next server, or ends them). Loopback never
/// fails a whole batch this way (a refused port fails the datagrams after the first of a batch, and the refusal
/// reaches c-ares through its next read, as before); a route or firewall that rejects the send does.
class DatagramBatch
{
public:
  DatagramBatch() = default;
  DatagramBatch(const DatagramBatch&) = delete;
  DatagramBatch& operator=(const DatagramBatch&) = delete;

  /// What c-ares calls, with this batch as the user data.
  static const ares_socket_functions k_functions;

  /// Sends every held datagram. Datagrams the kernel has no room for stay held (wants_write tells).
  void
  flush()
  {
    for (auto& [fd, socket] : m_sockets) {
      if (socket.udp && !socket.ends.empty()) {
        send_held(fd, socket);
      }
    }
  }

  /// Whether datagrams are still held for `fd`: the loop waits for it to be writable, then flushes again.
  bool
  wants_write(int fd) const
  {
    const auto it = m_sockets.find(fd);
    return it != m_sockets.end() && !it->second.ends.empty();
  }

  /// Drops the send error kept for `fd` if c-ares did not read it (it reads every socket of a server it uses, so
  /// this only keeps a socket it no longer reads from making the event loop spin).
  void
  forget_error(int fd)
  {
    if (const auto it = m_sockets.find(fd); it != m_sockets.end()) {
      it->second.error = 0;
    }
  }

  /// The sockets whose held datagrams could not be sent: c-ares must read each to learn the error.
  std::vector<int>
  failed() const
  {
    std::vector<int> fds;
    for (const auto& [fd, socket] : m_sockets) {
      if (socket.error != 0) {
        fds.push_back(fd);
      }
    }
    return fds;
  }

private:
  /// Answers read at once by one recvmmsg(2).
  static constexpr size_t k_receive_batch = 32;
  /// Room for one answer: what c-ares 1.18 reads a UDP answer into (MAXENDSSZ + 1); a longer datagram is cut, as
  /// recvfrom(2) into c-ares's own buffer cuts it.
  static constexpr size_t k_receive_size = 4097;

  /// `message` (for sendmmsg or recvmmsg) over the one buffer `vector`, with room for the peer's address in `peer`
  /// (null: none).
  static void
  point_at(mmsghdr& message, iovec& vector, sockaddr_storage* peer)
  {
    message = mmsghdr{};
    message.msg_hdr.msg_iov = &vector;
    message.msg_hdr.msg_iovlen = 1;
    message.msg_hdr.msg_name = peer;
    message.msg_hdr.msg_namelen = peer != nullptr ? sizeof(sockaddr_storage) : 0;
  }

  /// Answers received and not yet handed to c-ares. Each message points at its own slot of `bytes` for good.
  struct Inbox
  {
    Inbox()
    {
      for (size_t i = 0; i < k_receive_batch; ++i) {
        vectors[i] = iovec{ bytes.data() + i * k_receive_size, k_receive_size };
        point_at(messages[i], vectors[i], &senders[i]);
      }
    }
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    std::vector<char> bytes = std::vector<char>(k_receive_batch * k_receive_size);
    std::array<iovec, k_receive_batch> vectors{};
    std::array<mmsghdr, k_receive_batch> messages{};
    std::array<sockaddr_storage, k_receive_batch> senders{};
    size_t count = 0; ///< Received by the last recvmmsg.
    size_t next = 0;  ///< The next one to hand out.
  };

  struct Socket
  {
    bool udp = false;
    std::string bytes;            ///< The held datagrams, one after the other.
    std::vector<size_t> ends;     ///< Where each held datagram ends in `bytes`.
    int error = 0;                ///< A failed send, given to c-ares on its next read.
    std::unique_ptr<Inbox> inbox; ///< Made at the first read.
  };

  /// The next answer waiting on `socket` (fd `fd`) as recvfrom(2) would give it, reading a batch when none is left.
  static ares_ssize_t
  take_received(int fd, Socket& socket, void* buffer, size_t length, sockaddr* from, ares_socklen_t* from_length)
  {
    if (!socket.inbox) {
      socket.inbox = std::make_unique<Inbox>();
    }
    Inbox& inbox = *socket.inbox;
    if (inbox.next == inbox.count) {
      inbox.next = inbox.count = 0;
      for (auto& message : inbox.messages) {
        message.msg_hdr.msg_namelen = sizeof(sockaddr_storage); // the kernel wrote the last sender's length there
      }
      const int received = ::recvmmsg(fd, inbox.messages.data(), k_receive_batch, 0, nullptr);
      if (received < 0) {
        return -1; // errno from recvmmsg: EAGAIN when nothing waits, or the socket's error
      }
      inbox.count = static_cast<size_t>(received);
    }
    const size_t index = inbox.next++;
    const mmsghdr& message = inbox.messages[index];
    const size_t copied = std::min<size_t>({ length, message.msg_len, k_receive_size });
    std::memcpy(buffer, inbox.vectors[index].iov_base, copied);
    if (from != nullptr && from_length != nullptr) {
      const auto sender_length = static_cast<ares_socklen_t>(message.msg_hdr.msg_namelen);
      std::memcpy(from, &inbox.senders[index], std::min(*from_length, sender_length));
      *from_length = sender_length;
    }
    return static_cast<ares_ssize_t>(copied);
  }

  void
  send_held(int fd, Socket& socket)
  {
    const size_t count = socket.ends.size();
    std::vector<iovec> vectors(count);
    std::vector<mmsghdr> messages(count);
    size_t begin = 0;
    for (size_t i = 0; i < count; ++i) {
      vectors[i] = iovec{ socket.bytes.data() + begin, socket.ends[i] - begin };
      point_at(messages[i], vectors[i], nullptr);
      begin = socket.ends[i];
    }
    size_t sent = 0;
    while (sent < count) {
      const int result = ::sendmmsg(fd, messages.data() + sent, static_cast<unsigned>(count - sent), 0);
      if (result > 0) {
        sent += static_cast<size_t>(result);
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        break; // No room now: the rest stays held until the socket is writable.
      } else {
        socket.error = errno;
        sent = count; // c-ares learns of it on its next read and deals with every query on this socket.
      }
    }
    if (sent == count) {
      socket.bytes.clear();
      socket.ends.clear();
    } else {
      const size_t consumed = sent == 0 ? 0 : socket.ends[sent - 1];
      socket.bytes.erase(0, consumed);
      socket.ends.erase(socket.ends.begin(), socket.ends.begin() + static_cast<std::ptrdiff_t>(sent));
      for (auto& end : socket.ends) {
        end -= consumed;
      }
    }
  }

  /// A socket as c-ares would make it: c-ares leaves the options of sockets it did not open itself alone, so this
  /// sets what it would set (non-blocking, close-on-exec, and no Nagle delay for TCP).
  static ares_socket_t
  open(int domain, int type, int protocol, void* data)
  {
    const int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      return ARES_SOCKET_BAD;
    }
    const bool udp = (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_DGRAM;
    if (!udp) {
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    static_cast<DatagramBatch*>(data)->m_sockets[fd].udp = udp;
    return fd;
  }

  static int
  close(ares_socket_t fd, void* data)
  {
    static_cast<DatagramBatch*>(data)->m_sockets.erase(fd);
    return ::close(fd);
  }

  static int
  connect(ares_socket_t fd, const sockaddr* address, ares_socklen_t length, void* /*data*/)
  {
    return ::connect(fd, address, length);
  }

  static ares_ssize_t
  receive(ares_socket_t fd, void* buffer, size_t length, int flags, sockaddr* from, ares_socklen_t* from_length,
          void* data)
  {
    auto& sockets = static_cast<DatagramBatch*>(data)->m_sockets;
    const auto it = sockets.find(fd);
    if (it != sockets.end() && it->second.error != 0) {
      errno = std::exchange(it->second.error, 0);
      return -1;
    }
    if (it == sockets.end() || !it->second.udp || flags != 0) {
      return ::recvfrom(fd, buffer, length, flags, from, from_length);
    }
    return take_received(fd, it->second, buffer, length, from, from_length);
  }

  static ares_ssize_t
  send(ares_socket_t fd, const iovec* vectors, int count, void* data)
  {
    auto& sockets = static_cast<DatagramBatch*>(data)->m_sockets;
    const auto it = sockets.find(fd);
    if (it == sockets.end() || !it->second.udp) {
      return ::writev(fd, vectors, count);
    }
    Socket& socket = it->second;
    size_t length = 0;
    for (int i = 0; i < count; ++i) {
      socket.bytes.append(static_cast<const char*>(vectors[i].iov_base), vectors[i].iov_len);
      length += vectors[i].iov_len;
    }
    socket.ends.push_back(socket.bytes.size());
    return static_cast<ares_ssize_t>(length);
  }

  std::map<int, Socket> m_sockets; ///< Every socket c-ares has open.
};

const ares_socket_functions DatagramBatch::k_functions = { &DatagramBatch::open, &DatagramBatch::close,
                                                           &DatagramBatch::connect, &DatagramBatch::receive,
                                                           &DatagramBatch::send };

} // namespace

/// Query ids drawn at random (from getrandom(2), a batch at a time), none given twice while a query holds it, as
/// ares_query draws them (c-ares 1.18: ares__generate_new_id, then a look for a query in flight with the id).
class QueryIds
{
public:
  QueryIds()
    : m_in_use(k_ids / 64, 0)
  {
  }

  /// A random id that no query holds; it is held until `release`.
  uint16_t
  take()
  {
    for (;;) {
      const uint16_t id = next_random();
      uint64_t& word = m_in_use[id / 64];
      const uint64_t bit = uint64_t{ 1 } << (id % 64);
      if ((word & bit) == 0) {
        word |= bit;
        return id;
      }
    }
  }

  /// Frees `id`.
  void
  release(uint16_t id)
  {
    m_in_use[id / 64] &= ~(uint64_t{ 1 } << (id % 64));
  }

private:
  static constexpr size_t k_ids = 65536;

  uint16_t
  next_random()
  {
    if (m_next == m_random.size()) {
      fill(std::as_writable_bytes(std::span(m_random)));
      m_next = 0;
    }
    return m_random[m_next++];
  }

  /// Fills `bytes` from the kernel's random source (std::random_device where getrandom is missing).
  static void
  fill(std::span<std::byte> bytes)
  {
    while (!bytes.empty()) {
      const ssize_t got = ::getrandom(bytes.data(), bytes.size(), 0);
      if (got > 0) {
        bytes = bytes.subspan(static_cast<size_t>(got));
      } else if (got < 0 && errno != EINTR) {
        std::random_device device;
        for (auto& byte : bytes) {
          byte = static_cast<std::byte>(device());
        }
        return;
      }
    }
  }

  std::array<uint16_t, 256> m_random{};
  size_t m_next = m_random.size();
  std::vector<uint64_t> m_in_use; ///< A bit per id.
};

/// Owns the ares_channel.
struct CaresResolver::Channel
{
  ares_channel handle = nullptr;
  RecordsScratch scratch;             ///< For parse_records.
  QueryIds ids;                       ///< The ids of queries in flight.
  std::vector<unsigned char> message; ///< The query being sent (ares_send copies it).
  DatagramBatch batch;                ///< Outlives `handle`: ares_destroy closes the sockets through it.

  ~Channel()
  {
    if (handle != nullptr) {
      ares_destroy(handle);
    }
  }
};

/// One query, owned by c-ares (as the callback's argument) while in flight.
struct CaresResolver::Pending
{
  CaresResolver* self = nullptr;
  std::string name;
  RRType type = RRType::a;
  uint16_t id = 0;   ///< The query id, held while in flight.
  bool edns = false; ///< Whether the query went out with EDNS.
  Callback done;
};

namespace {

/// What an octet of a name to ask is to unaskable_name_reason.
enum class NameOctet : uint8_t {
  plain,     ///< Part of a label.
  dot,       ///< The end of a label.
  unaskable, ///< Not allowed in a name asked (a control, space, backslash or non-ASCII octet).
};

} // namespace

std::string
unaskable_name_reason(std::string_view name)
{
  if (name.empty()) {
    return "the name is empty";
  }
  if (name.size() > 253) {
    return fmt::format("the name is {} octets long; DNS allows 253", name.size());
  }
  // One pass over the name, as this runs for every query sent: plain octets, nearly all of them, take one table
  // look-up each in a loop of their own, and only a dot or an octet that cannot be asked leaves it. Each dot (and the
  // end) closes a label, whose length is checked at once; the first octet that cannot be asked is only noted,
  // because a bad label anywhere in the name is the reason given before it.
  static constexpr auto k_octet_kinds = [] {
    std::array<NameOctet, 256> kinds{};
    for (unsigned c = 0; c < kinds.size(); ++c) {
      kinds[c] = c == '.' ? NameOctet::dot : c <= 0x20 || c >= 0x7f || c == '\\' ? NameOctet::unaskable
                                                                                  : NameOctet::plain;
    }
    return kinds;
  }();
  const auto kind_at = [&name](size_t i) { return k_octet_kinds[static_cast<unsigned char>(name[i])]; };
  size_t bad_octet = name.size();
  size_t start = 0; // where the label being read starts
  for (size_t i = 0;; ++i) {
    while (i < name.size() && kind_at(i) == NameOctet::plain) {
      ++i;
    }
    if (i < name.size() && kind_at(i) == NameOctet::unaskable) {
      bad_octet = std::min(bad_octet, i);
      continue;
    }
    if (i == start) {
      return "the name has an empty label (two dots in a row, or a leading dot)";
    }
    if (i - start > 63) {
      return fmt::format("a label of the name is {} octets long; DNS allows 63", i - start);
    }
    if (i == name.size()) {
      break;
    }
    start = i + 1;
  }
  if (bad_octet < name.size()) {
    return fmt::format("the name holds the character '{}', which cannot be asked (use the A-label form of "
                       "international names)",
                       util::escape_for_display(name.substr(bad_octet, 1)));
  }
  return {};
}

std::optional<size_t>
wire_name_length(std::span<const unsigned char> message, size_t at)
{
  // The checks of c-ares 1.18's name_length (ares_expand_name.c), in the same order, so that a name is refused
  // here exactly when ares_expand_name refuses it.
  constexpr size_t k_max_pointers = 50; // c-ares's MAX_INDIRS
  using wire::k_pointer_prefix;
  const size_t size = message.size();
  if (at >= size) {
    return std::nullopt;
  }
  std::optional<size_t> length; // set at the first pointer, which ends the name where it is written
  size_t pos = at;
  size_t pointers = 0;
  while (message[pos] != 0) {
    const unsigned octet = message[pos];
    if ((octet & k_pointer_prefix) == k_pointer_prefix) {
      if (pos + 1 >= size) {
        return std::nullopt;
      }
      const size_t target = ((octet & ~k_pointer_prefix) << 8) | message[pos + 1];
      if (target >= size) {
        return std::nullopt;
      }
      if (!length) {
        length = pos + 2 - at;
      }
      // More pointers than octets, or than c-ares allows: a loop.
      if (++pointers > std::min(size, k_max_pointers)) {
        return std::nullopt;
      }
      pos = target;
    } else if ((octet & k_pointer_prefix) == 0) {
      // The label, and room for at least the octet after it.
      if (pos + octet + 1 >= size) {
        return std::nullopt;
      }
      pos += octet + 1;
    } else {
      return std::nullopt; // the prefixes 01 and 10 are reserved (RFC 1035 section 4.1.4; RFC 6891 retired 01)
    }
  }
  return length ? *length : pos + 1 - at;
}

std::optional<std::pair<IpAddress, uint16_t>>
parse_server(std::string_view text)
{
  std::string_view host = text;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) {
        return std::nullopt;
      }
      port_text = rest.substr(1);
      if (port_text.empty()) {
        return std::nullopt;
      }
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.empty()) {
      return std::nullopt;
    }
  }
  auto address = IpAddress::parse(host);
  if (!address || (text.starts_with('[') && !address->is_v6())) {
    return std::nullopt;
  }
  uint16_t port = 53;
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    port = static_cast<uint16_t>(value);
  }
  return std::make_pair(*address, port);
}

std::string_view
CaresResolver::library_version()
{
  return ares_version(nullptr);
}

CaresResolver::CaresResolver(const CaresOptions& options)
  : m_channel(std::make_unique<Channel>())
  , m_options(options)
{
  if (m_options.max_in_flight == 0) {
    m_options.max_in_flight = 1;
  }
  if (m_options.tries < 1) {
    m_options.tries = 1;
  }
}

CaresResolver::~CaresResolver()
{
  // Queries still in flight get ARES_EDESTRUCTION and are dropped by query_callback; their callbacks never run.
  m_channel.reset();
}

util::Result<std::unique_ptr<CaresResolver>, CaresError>
CaresResolver::create(const CaresOptions& options)
{
  if (const int status = library_init(); status != ARES_SUCCESS) {
    return util::unexpected(CaresError{ fmt::format("cannot initialize c-ares: {}", ares_strerror(status)) });
  }

  std::vector<ares_addr_port_node> nodes(options.servers.size());
  for (size_t i = 0; i < options.servers.size(); ++i) {
    const auto server = parse_server(options.servers[i]);
    if (!server) {
      return util::unexpected(CaresError{ fmt::format("bad DNS server \"{}\": expected IP, IP:PORT or [IPv6]:PORT",
                                                      util::escape_for_display(options.servers[i])) });
    }
    auto& node = nodes[i];
    node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
    node.family = server->first.is_v4() ? AF_INET : AF_INET6;
    std::memcpy(&node.addr, server->first.bytes(), server->first.size());
    node.udp_port = server->second;
    node.tcp_port = server->second;
  }

  std::unique_ptr<CaresResolver> resolver(new CaresResolver(options));
  ares_options ares{};
  ares.sock_state_cb = &CaresResolver::socket_state_callback;
  ares.sock_state_cb_data = resolver.get();
  ares.timeout = static_cast<int>(std::max<std::chrono::milliseconds::rep>(1, options.timeout.count()));
  ares.tries = resolver->m_options.tries;
  // NOCHECKRESP: take SERVFAIL and REFUSED as the answer. Without it c-ares 1.18 moves on to the next server and,
  // when none is left, reports ARES_ECONNREFUSED, losing the rcode.
  // EDNS: c-ares 1.18 takes a UDP answer up to ednspsz octets (not 512) as whole, and retries a query it sent with
  // EDNS without it when the server answers FORMERR. The queries themselves are written by write_query.
  // STAYOPEN: keep the sockets when no query is left in flight. Without it c-ares 1.18 closes them every time the
  // last answer is in, and a list run opens a new UDP socket for each round of queries (271 sockets, socket +
  // connect + close and a new receive buffer each, on the 10,000-domain benchmark). The query ids stay random.
  ares.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_EDNS | ARES_FLAG_STAYOPEN;
  ares.ednspsz = k_edns_udp_payload;
  const int mask =
    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
  if (const int status = ares_init_options(&resolver->m_channel->handle, &ares, mask); status != ARES_SUCCESS) {
    return util::unexpected(CaresError{ fmt::format("cannot set up the DNS resolver: {}", ares_strerror(status)) });
  }
  ares_set_socket_functions(resolver->m_channel->handle, &DatagramBatch::k_functions, &resolver->m_channel->batch);
  if (!nodes.empty()) {
    if (const int status = ares_set_servers_ports(resolver->m_channel->handle, nodes.data()); status != ARES_SUCCESS) {
      return util::unexpected(CaresError{ fmt::format("cannot set the DNS servers: {}", ares_strerror(status)) });
    }
  }

  ares_addr_port_node* servers = nullptr;
  if (ares_get_servers_ports(resolver->m_channel->handle, &servers) == ARES_SUCCESS) {
    for (const auto* p = servers; p != nullptr; p = p->next) {
      std::optional<IpAddress> address;
      if (p->family == AF_INET) {
        std::array<uint8_t, 4> octets{};
        std::memcpy(octets.data(), &p->addr.addr4, 4);
        address = IpAddress::v4(octets);
      } else if (p->family == AF_INET6) {
        std::array<uint8_t, 16> octets{};
        std::memcpy(octets.data(), &p->addr.addr6, 16);
        address = IpAddress::v6(octets);
      }
      if (address) {
        const int port = p->udp_port != 0 ? p->udp_port : 53;
        resolver->m_servers.push_back(server_label(*address, static_cast<uint16_t>(port)));
      }
    }
    ares_free_data(servers);
  }
  if (resolver->m_servers.empty()) {
    return util::unexpected(CaresError{ "no DNS server to ask (none given and none in /etc/resolv.conf)" });
  }
  for (const auto& label : resolver->m_servers) {
    if (!resolver->m_server_label.empty()) {
      resolver->m_server_label += ", ";
    }
    resolver->m_server_label += label;
  }
  return resolver;
}

void
CaresResolver::query(std::string_view name, RRType type, Callback done)
{
  std::string storage;
  query_normalized(util::normalize_name(name, storage), type, std::move(done));
}

void
CaresResolver::query_normalized(std::string_view name, RRType type, Callback done)
{
  if (auto reason = unaskable_name_reason(name); !reason.empty()) {
    done(make_status_answer(name, type, Status::error, {}, std::move(reason)));
    return;
  }
  std::unique_ptr<Pending> pending;
  if (m_spare.empty()) {
    pending = std::make_unique<Pending>();
    pending->self = this;
  } else {
    pending = std::move(m_spare.back());
    m_spare.pop_back();
  }
  pending->name.assign(name);
  pending->type = type;
  pending->done = std::move(done);
  if (m_in_flight < m_options.max_in_flight && m_queue.empty()) {
    start(std::move(pending));
  } else {
    m_queue.push_back(std::move(pending));
  }
}

void
CaresResolver::start(std::unique_ptr<Pending> pending)
{
  ++m_in_flight;
  // What ares_query does, without its allocations: the message is written into a buffer kept for the next query
  // (ares_create_query allocated it) and the callback is ours (ares_query allocated a record to call us through).
  pending->id = take_query_id();
  pending->edns = m_edns;
  const uint16_t payload = m_edns ? k_edns_udp_payload : 0;
  if (!write_query(pending->name, pending->type, pending->id, payload, m_channel->message)) {
    query_callback(pending.release(), ARES_EBADNAME, 0, nullptr, 0);
    return;
  }
  ares_send(m_channel->handle,
            m_channel->message.data(),
            static_cast<int>(m_channel->message.size()),
            &CaresResolver::send_callback,
            pending.release());
}

uint16_t
CaresResolver::take_query_id()
{
  return m_channel->ids.take();
}

void
CaresResolver::release_query_id(uint16_t id)
{
  m_channel->ids.release(id);
}

void
CaresResolver::start_queued()
{
  while (!m_queue.empty() && m_in_flight < m_options.max_in_flight) {
    auto pending = std::move(m_queue.front());
    m_queue.pop_front();
    start(std::move(pending));
  }
}

void
CaresResolver::send_callback(void* arg, int status, int timeouts, unsigned char* abuf, int alen)
{
  // ares_send reports any answer as success; ares_query turned the rcode into the status (qcallback in
  // ares_query.c), and so do we. Other rcodes stay ARES_SUCCESS, as there.
  if (status == ARES_SUCCESS && abuf != nullptr && alen >= static_cast<int>(k_header_size)) {
    // By rcode: NOERROR (ARES_ENODATA without answer records), FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED.
    constexpr std::array k_status_by_rcode = { ARES_SUCCESS,   ARES_EFORMERR, ARES_ESERVFAIL,
                                               ARES_ENOTFOUND, ARES_ENOTIMP,  ARES_EREFUSED };
    const size_t rcode = abuf[3] & 0x0f;
    if (rcode == 0 && read16(abuf + 6) == 0) {
      status = ARES_ENODATA;
    } else if (rcode < k_status_by_rcode.size()) {
      status = k_status_by_rcode[rcode];
    }
  }
  query_callback(arg, status, timeouts, abuf, alen);
}

void
CaresResolver::query_callback(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen)
{
  std::unique_ptr<Pending> pending(static_cast<Pending*>(arg));
  if (status == ARES_EDESTRUCTION) {
    return;
  }
  CaresResolver* self = pending->self;
  self->release_query_id(pending->id);
  if (status == ARES_EFORMERR && pending->edns) {
    // A server that does not know EDNS answers FORMERR (RFC 6891 section 7): ask again without it, and send no more
    // EDNS to it. (c-ares 1.18 does this itself for the first such answer: it then turns its own ARES_FLAG_EDNS off,
    // takes the OPT record off that query and sends it again; the queries we wrote with EDNS before we knew end here.)
    self->m_edns = false;
    --self->m_in_flight;
    self->start(std::move(pending));
    return;
  }
  self->finish(std::move(pending), status, abuf, alen);
}

bool
write_query(std::string_view name, RRType type, uint16_t id, uint16_t edns_payload, std::vector<unsigned char>& message)
{
  constexpr size_t k_max_label = 63;      // MAXLABEL
  constexpr size_t k_max_wire_name = 255; // MAXCDNAME
  constexpr unsigned char k_recursion_desired = 0x01;
  message.clear();
  if (name.empty() || name.size() + 2 > k_max_wire_name) {
    return false; // ares_create_query writes "" as the root name, but an empty name is never asked
  }
  const size_t question_end = k_header_size + name.size() + 2 + k_question_fixed_size;
  message.resize(question_end + (edns_payload != 0 ? k_opt_record_size : 0));
  unsigned char* out = message.data();
  const auto put16 = [](unsigned char* at, uint16_t value) {
    at[0] = static_cast<unsigned char>(value >> 8);
    at[1] = static_cast<unsigned char>(value & 0xff);
  };
  // Header: the id, opcode QUERY with RD, one question, no other records.
  std::fill(out, out + k_header_size, 0);
  put16(out, id);
  out[2] = k_recursion_desired;
  put16(out + 4, 1);
  // The name goes in one piece after its first length octet; each dot then becomes the length octet of the label
  // after it.
  unsigned char* wire = out + k_header_size;
  std::memcpy(wire + 1, name.data(), name.size());
  unsigned char* length_octet = wire;
  for (size_t start = 0; start <= name.size();) {
    const size_t end = std::min(name.find('.', start), name.size());
    const size_t length = end - start;
    if (length == 0 || length > k_max_label) {
      message.clear();
      return false;
    }
    *length_octet = static_cast<unsigned char>(length);
    length_octet = wire + 1 + end;
    start = end + 1;
  }
  *length_octet = 0; // the root label that ends the name
  put16(length_octet + 1, static_cast<uint16_t>(type));
  put16(length_octet + 3, k_class_in);
  if (edns_payload != 0) {
    // One additional record, OPT (RFC 6891 section 6.1.2): the root name, type OPT, the UDP payload size in the
    // class field, then extended rcode, version 0 and flags (DO clear) in the TTL field, and no options.
    put16(out + 10, 1);
    unsigned char* opt = out + question_end;
    std::fill(opt, opt + k_opt_record_size, 0);
    put16(opt + 1, k_type_opt);
    put16(opt + 3, edns_payload);
  }
  return true;
}

void
CaresResolver::finish(std::unique_ptr<Pending> pending, int status, const unsigned char* abuf, int alen)
{
  --m_in_flight;
  auto answer = std::make_shared<Answer>();
  answer->name = pending->name;
  answer->type = pending->type;
  answer->server = m_server_label;

  auto facts = walk_message(abuf, alen, pending->name, pending->type);
  if (facts.valid) {
    answer->cname_chain = std::move(facts.cname_chain);
  }
  switch (status) {
    case ARES_SUCCESS:
      if (!facts.valid) {
        answer->status = Status::error;
        answer->detail = "malformed answer";
      } else if (!parse_records(*answer, abuf, alen, m_channel->scratch)) {
        answer->status = Status::error;
      } else {
        if (answer->type == RRType::ptr) {
          answer->names = std::move(facts.ptr_targets);
        }
        if (answer->record_count() == 0) {
          answer->status = Status::nodata;
          answer->ttl = facts.negative_ttl.value_or(0);
        } else {
          answer->status = Status::ok;
          answer->ttl = facts.ttl.value_or(0);
        }
      }
      break;
    case ARES_ENODATA:
      answer->status = Status::nodata;
      answer->ttl = facts.negative_ttl.value_or(0);
      break;
    case ARES_ENOTFOUND:
      answer->status = Status::nxdomain;
      answer->ttl = facts.negative_ttl.value_or(0);
      break;
    case ARES_ESERVFAIL:
      answer->status = Status::servfail;
      answer->detail = "the server answered SERVFAIL";
      break;
    case ARES_EREFUSED:
      answer->status = Status::refused;
      answer->detail = "the server refused to answer (REFUSED)";
      break;
    case ARES_ETIMEOUT:
      answer->status = Status::timeout;
      answer->detail = fmt::format("no answer within {} ms and {} {}",
                                   m_options.timeout.count(),
                                   m_options.tries,
                                   m_options.tries == 1 ? "try" : "tries");
      break;
    case ARES_ECONNREFUSED:
      answer->status = Status::error;
      answer->detail = "connection refused: no DNS server is listening there";
      break;
    default:
      answer->status = Status::error;
      answer->detail = ares_strerror(status);
      break;
  }
  // A server that hands out a CNAME loop (a -> b -> a) without data: an error, not "no such data".
  if (facts.valid && facts.cname_loop && answer->record_count() == 0 && !is_failure(answer->status)) {
    answer->status = Status::error;
    answer->detail = fmt::format("CNAME loop: {}", pending->name);
    for (const auto& target : answer->cname_chain) {
      answer->detail += " -> " + target;
      if (target == pending->name) {
        break;
      }
    }
  }
  m_done.emplace_back(std::move(pending->done), std::move(answer));
  pending->done = nullptr;
  // Enough spares for every query on the network to be followed by a new one; the rest are freed.
  if (m_spare.size() < m_options.max_in_flight) {
    m_spare.push_back(std::move(pending));
  }
}

void
CaresResolver::socket_state_callback(void* data, int fd, int readable, int writable)
{
  static_cast<CaresResolver*>(data)->on_socket_state(fd, readable != 0, writable != 0);
}

void
CaresResolver::on_socket_state(int fd, bool readable, bool writable)
{
  if (!readable && !writable) {
    m_sockets.erase(fd);
    return;
  }
  m_sockets[fd] = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
}

void
CaresResolver::run()
{
  std::vector<pollfd> fds;
  for (;;) {
    start_queued();
    while (!m_done.empty()) {
      auto [done, answer] = std::move(m_done.front());
      m_done.pop_front();
      done(std::move(answer));
      start_queued();
    }
    if (m_in_flight == 0) {
      if (m_queue.empty() && m_done.empty()) {
        return;
      }
      continue;
    }

    // Every query that could start has: its datagrams leave now, together. A socket whose batch failed is read at
    // once, so that c-ares learns of the error without waiting for a timeout.
    m_channel->batch.flush();
    if (const auto failed = m_channel->batch.failed(); !failed.empty()) {
      for (const int fd : failed) {
        ares_process_fd(m_channel->handle, fd, ARES_SOCKET_BAD);
        m_channel->batch.forget_error(fd);
      }
      continue;
    }
    fds.clear();
    for (const auto& [fd, events] : m_sockets) {
      fds.push_back(pollfd{ fd, static_cast<short>(events | (m_channel->batch.wants_write(fd) ? POLLOUT : 0)), 0 });
    }
    timeval limit{};
    int timeout_ms = 100;
    if (const timeval* next = ares_timeout(m_channel->handle, nullptr, &limit); next != nullptr) {
      timeout_ms = static_cast<int>(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
    }
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw std::system_error(errno, std::generic_category(), "poll on the DNS sockets");
    }
    if (ready == 0) {
      ares_process_fd(m_channel->handle, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      continue;
    }
    for (const auto& entry : fds) {
      if (entry.revents == 0) {
        continue;
      }
      const bool readable = (entry.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      // Writable matters to c-ares only while it waits for a TCP connection or a TCP write (it asked for POLLOUT);
      // otherwise it is the batch's held datagrams, flushed at the top of the loop.
      const auto wanted = m_sockets.find(entry.fd);
      const bool writable =
        (entry.revents & POLLOUT) != 0 && wanted != m_sockets.end() && (wanted->second & POLLOUT) != 0;
      if (!readable && !writable) {
        continue;
      }
      ares_process_fd(m_channel->handle, readable ? entry.fd : ARES_SOCKET_BAD, writable ? entry.fd : ARES_SOCKET_BAD);
    }
  }
}

} // namespace sendcheck::dns
