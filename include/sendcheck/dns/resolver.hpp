#pragma once

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/util/task.hpp>

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// The one seam between the checks and DNS. Every check asks a Resolver; the network (CaresResolver), zone files
// and test data (ZoneResolver), the per-run cache and the candidate-record overlay all implement it.

namespace sendcheck::dns {

/// The record types sendcheck asks for.
enum class RRType : uint16_t { a = 1, ptr = 12, mx = 15, txt = 16, aaaa = 28 };

/// The mnemonic of `type`: "A", "TXT", ...
std::string_view to_string(RRType type);

/// How a lookup ended. `nxdomain` and `nodata` mean the data is absent; `servfail`, `refused`, `timeout` and
/// `error` mean the lookup failed and nothing is known about the data (RFC 7208 temperror territory).
enum class Status : uint8_t {
  ok,       ///< NOERROR with at least one record of the type asked for.
  nodata,   ///< NOERROR, the name exists but has no record of that type.
  nxdomain, ///< The name does not exist.
  servfail, ///< The server could not answer (SERVFAIL).
  refused,  ///< The server refused to answer (REFUSED).
  timeout,  ///< No answer within the time and tries allowed.
  error,    ///< Anything else: a malformed answer, a CNAME loop, a name that cannot be asked.
};

/// The lower-case name of `status`: "ok", "nxdomain", ...
std::string_view to_string(Status status);

/// Whether `status` says the data does not exist (NXDOMAIN or NODATA): a "void lookup" in RFC 7208 terms.
inline bool
is_absent(Status status)
{
  return status == Status::nxdomain || status == Status::nodata;
}

/// Whether `status` says the lookup failed, so nothing is known about the data.
inline bool
is_failure(Status status)
{
  return status != Status::ok && !is_absent(status);
}

/// One MX record.
struct MxRecord
{
  uint16_t preference = 0;
  std::string exchange; ///< Without the trailing dot.
};

/// One TXT record: its character-strings exactly as published (each at most 255 octets on the wire).
struct TxtRecord
{
  std::vector<std::string> strings;

  /// The strings concatenated with nothing in between (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
  std::string joined() const;

  /// The same text without a copy when the record is one string (nearly always): a view of that string, else
  /// `joined()` put into `storage`. Valid while this record and `storage` are.
  std::string_view text(std::string& storage) const;
};

/// The answer to one (name, type) question. Only the vector matching `type` is filled.
struct Answer
{
  std::string name; ///< The name asked, normalized (lower-case, no trailing dot).
  RRType type = RRType::a;
  Status status = Status::error;
  uint32_t ttl = 0; ///< The smallest TTL of the records (or of the negative answer's SOA); 0 when unknown.

  std::vector<IpAddress> addresses; ///< A or AAAA.
  std::vector<MxRecord> mx;         ///< MX, in the order received.
  std::vector<std::string> names;   ///< PTR targets, without trailing dots.
  std::vector<TxtRecord> txt;       ///< TXT.

  std::vector<std::string> cname_chain; ///< The CNAME targets followed from `name`, in order.
  std::string server; ///< Who answered or failed to: "127.0.0.1:5300", "zone file demo.zone", ...
  std::string detail; ///< For failures, what went wrong in a few words.

  /// How many records the answer holds.
  size_t record_count() const;
};

using AnswerPtr = std::shared_ptr<const Answer>;

/// Puts TXT records in one canonical order (by their character-strings). An RRset has no order, and servers differ
/// (knotd sends canonical DNSSEC order, a zone file keeps the written order), so resolvers sort TXT answers: a
/// report then reads the same whichever server answered.
void sort_txt_records(std::vector<TxtRecord>& records);

/// Makes an answer with no records and the given `status`.
AnswerPtr make_status_answer(std::string_view name, RRType type, Status status, std::string server = {},
                             std::string detail = {});

/// Asynchronous DNS lookups, in the shape of c-ares: many queries in flight, answered from one event loop.
class Resolver
{
public:
  using Callback = std::function<void(AnswerPtr)>;

  virtual ~Resolver() = default;

  /// Asks for the records of `type` at `name` (CNAMEs are followed). `done` is called exactly once with the answer,
  /// either before `query` returns (data already known) or later from `run`.
  virtual void query(std::string_view name, RRType type, Callback done) = 0;

  /// Processes events until no query is outstanding and every callback has been called.
  virtual void run() = 0;

  /// Hints that the answer for (`name`, `type`) will be wanted soon, so that a network resolver can send the query
  /// now. The default does nothing; a prefetch is never counted toward any limit.
  virtual void prefetch(std::string_view name, RRType type);

  /// `query` for a `name` that is normalized already (util::is_normalized_name: lower-case, no trailing dot), which
  /// is not checked. The layers of a resolver stack normalize a name once, where it enters the stack, and hand it
  /// down through this, so that no layer below scans it again. `name` need only stay valid until `done` is called
  /// (a resolver copies what it keeps before answering): a cache passes the name of an entry that the answer may
  /// evict. The default calls `query`.
  virtual void query_normalized(std::string_view name, RRType type, Callback done);

  /// `prefetch` for a `name` that is normalized already, as for `query_normalized`. The default calls `prefetch`.
  virtual void prefetch_normalized(std::string_view name, RRType type);

  /// The resolver that answers for this one: itself, or, while this one hands every call to a resolver below it
  /// unchanged (an overlay without candidates, layers without zones over a network), that one's `answering()`. A
  /// caller that asks many questions asks it directly: a layer that only hands the call on costs a virtual call
  /// and a move of the callback for nothing.
  Resolver&
  answering() noexcept
  {
    Resolver* resolver = this;
    while (resolver->m_passes_to != nullptr) {
      resolver = resolver->m_passes_to;
    }
    return *resolver;
  }

protected:
  /// Says that from now on every call (query, prefetch, their `_normalized` forms) is handed to `below` unchanged,
  /// or, with null, that it no longer is.
  void passes_everything_to(Resolver* below) noexcept { m_passes_to = below; }

private:
  Resolver* m_passes_to = nullptr; ///< See `answering`.
};

/// Awaitable lookup: `AnswerPtr answer = co_await lookup(resolver, name, type);`. It keeps a view of `name`, not a
/// copy (one allocation less per lookup): the name must stay valid until the co_await completes, as a variable or a
/// temporary in the co_await expression does. Do not keep a Lookup to await later.
class Lookup
{
public:
  /// A lookup of (`name`, `type`) in `resolver`; `name` is viewed, not copied.
  Lookup(Resolver& resolver, std::string_view name, RRType type)
    : m_resolver(resolver), m_name(name), m_type(type)
  {
  }

  bool await_ready() const noexcept { return false; }

  bool
  await_suspend(std::coroutine_handle<> waiter)
  {
    m_waiter = waiter;
    m_resolver.answering().query(m_name, m_type, [this](AnswerPtr answer) {
      m_answer = std::move(answer);
      m_answered = true;
      if (m_suspended) {
        m_waiter.resume();
      }
    });
    // Answered synchronously: continue without suspending.
    m_suspended = !m_answered;
    return m_suspended;
  }

  /// The answer; a resolver that broke its contract and passed null gets an `error` answer instead.
  AnswerPtr
  await_resume()
  {
    if (!m_answer) {
      return make_status_answer(m_name, m_type, Status::error, {}, "the resolver gave no answer");
    }
    return std::move(m_answer);
  }

private:
  Resolver& m_resolver;
  std::string_view m_name; ///< The caller's name, valid until the co_await completes.
  RRType m_type;
  std::coroutine_handle<> m_waiter;
  AnswerPtr m_answer;
  bool m_suspended = false;
  bool m_answered = false;
};

/// Returns an awaitable for the answer to (`name`, `type`) from `resolver`.
inline Lookup
lookup(Resolver& resolver, std::string_view name, RRType type)
{
  return Lookup(resolver, name, type);
}

/// Runs `task` to completion on `resolver`'s event loop and returns its value (rethrowing its exception). For tests,
/// tools and single checks; the CLI's scheduler uses `util::spawn` directly to keep many tasks in flight.
template<typename T>
T
run_sync(Resolver& resolver, util::Task<T> task)
{
  std::optional<T> value;
  std::exception_ptr error;
  util::spawn<T>(
    std::move(task), [&](T result) { value.emplace(std::move(result)); }, [&](std::exception_ptr e) { error = e; });
  resolver.run();
  if (error) {
    std::rethrow_exception(error);
  }
  if (!value) {
    throw std::logic_error("run_sync: the task did not complete when the resolver ran out of work");
  }
  return std::move(*value);
}

} // namespace sendcheck::dns
