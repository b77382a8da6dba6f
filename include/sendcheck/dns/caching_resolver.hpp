#pragma once

#include <sendcheck/dns/resolver.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sendcheck::dns {

/// Counters of a CachingResolver, for benchmarks, tests and `--verbose` output.
struct CacheStats
{
  size_t queries = 0;    ///< Calls to `query`.
  size_t hits = 0;       ///< Queries answered from a stored answer.
  size_t coalesced = 0;  ///< Queries that joined a query already in flight for the same key.
  size_t upstream = 0;   ///< Queries sent to the wrapped resolver (including prefetches).
  size_t prefetches = 0; ///< Calls to `prefetch` that sent a query.
  size_t evictions = 0;  ///< Answers dropped to stay within the entry limit.
};

/// A Resolver that remembers every answer of the wrapped resolver for the run, keyed by (normalized name, type):
/// positive, negative (NXDOMAIN, NODATA) and failed (timeout, SERVFAIL, ...) answers alike, so that one run sees one
/// consistent DNS and a shared include is fetched once for all domains. A second query for a key whose answer is
/// still in flight waits on the first: one upstream query serves both.
///
/// At most `max_entries` answers are kept (0: no limit); the least recently used is dropped first. An answer costs
/// about 500 bytes, so the default bound keeps the cache near 10 MiB, while 100,000 domains unbounded (4 queries
/// each) took about 200 MiB (measured). The bound only costs repeated queries for answers nobody asked for lately:
/// a shared include stays cached because every domain asks for it.
///
/// The entries live in one vector, named by index and reused once evicted (with their name's buffer); an
/// open-addressing index of 8-octet slots (an entry's index and half its hash) finds them, and the LRU order is a
/// list threaded through the entries. A lookup reads one or two slots and then the entry it finds, and storing an
/// answer allocates nothing once the vectors have grown: a node-based map and list cost three allocations per key and
/// a cache miss at each of bucket, node and key (about 4.5% of a run's CPU cycles).
class CachingResolver : public Resolver
{
public:
  /// The default bound on stored answers. The entries that matter are the shared ones (a provider's include, the
  /// sending host), which stay at the recent end of the LRU; a customer's own names are asked while its check runs.
  /// 8192 sent no more queries than 20000 on the 10,000-domain benchmark and keeps 100,000 domains 8 MB smaller.
  static constexpr size_t k_default_max_entries = 8192;

  /// A resolver that caches the answers of `upstream`, which must outlive it. `max_entries` 0 means no limit.
  explicit CachingResolver(Resolver& upstream, size_t max_entries = k_default_max_entries);

  /// Answers from the cache (synchronously) when it can, else joins or sends an upstream query. A `name` without a
  /// trailing dot that equals a stored key byte for byte is normalized already (every key is lower-case), so it is
  /// looked up as given first and only scanned for upper case when that finds nothing.
  void query(std::string_view name, RRType type, Callback done) override;

  /// Runs the upstream resolver until every query (and so every waiter) is done.
  void run() override;

  /// Sends the query for (`name`, `type`) upstream now unless it is cached or in flight; its answer is cached. `name`
  /// is looked up as given first, as in `query`.
  void prefetch(std::string_view name, RRType type) override;

  /// `query` without normalizing `name` again; the upstream query gets the normalized name the same way.
  void query_normalized(std::string_view name, RRType type, Callback done) override;

  /// `prefetch` without normalizing `name` again.
  void prefetch_normalized(std::string_view name, RRType type) override;

  /// The counters so far.
  const CacheStats& stats() const { return m_stats; }

  /// How many answers are stored now (not counting queries in flight).
  size_t size() const { return m_answered; }

  /// The stored answer for (`name`, `type`), or null when there is none (yet).
  AnswerPtr cached(std::string_view name, RRType type) const;

private:
  /// Where an entry is in m_entries (entries move when the vector grows, so they are named by index).
  using Index = uint32_t;
  static constexpr Index k_none = UINT32_MAX; ///< No entry: the end of a list, or an empty slot.

  /// What an entry holds.
  enum class State : uint8_t {
    free,      ///< Nothing: it waits in the free list to be reused.
    in_flight, ///< A key whose upstream query has not been answered yet.
    answered,  ///< A key and its answer; it is in the LRU list.
  };

  /// One stored answer, or a query in flight with who waits for it, or (free) an entry to reuse.
  struct Entry
  {
    std::string name;                   ///< Normalized; kept when the entry is freed, so that reuse need not allocate.
    size_t hash = 0;                    ///< `hash_key(name, type)`.
    RRType type = RRType::a;            ///< The type asked.
    State state = State::free;          ///< What the entry holds.
    uint32_t query_serial = 0;          ///< Which upstream query answers the entry in flight (others are ignored).
    AnswerPtr answer;                   ///< Set once answered.
    Callback first_waiter;              ///< The first who waits for the answer in flight (usually the only one).
    std::vector<Callback> more_waiters; ///< Who else waits, in the order they asked.
    Index older = k_none;               ///< Answered: the entry used just before this one. Free: the next free entry.
    Index newer = k_none;               ///< Answered: the entry used just after this one.
  };

  /// A slot of the open-addressing index: which entry it holds, and the high half of the entry's hash, so that a
  /// probe steps over other keys without reading their entries. Eight slots share a cache line.
  struct Slot
  {
    uint32_t tag = 0;     ///< `hash >> 32` of the entry.
    Index entry = k_none; ///< k_none: the slot is empty.
  };

  /// Where the key of a query is: the key (normalized), its hash, and its entry (k_none when it has none).
  struct Place
  {
    std::string_view key;
    size_t hash = 0;
    Index entry = k_none;
  };

  /// The Place of (`name` (normalized), `type`).
  Place locate_normalized(std::string_view name, RRType type) const noexcept;
  /// The Place of (`name`, `type`), `name` normalized or not: looked up as given, then (when not found and not
  /// normalized) normalized into `storage` and looked up again.
  Place locate(std::string_view name, RRType type, std::string& storage) const;
  /// `query` once the key's place is known.
  void query_at(const Place& place, RRType type, Callback&& done);
  /// `prefetch` once the key's place is known.
  void prefetch_at(const Place& place, RRType type);

  /// The hash of (`name`, `type`).
  static size_t hash_key(std::string_view name, RRType type) noexcept;
  /// The high half of `hash`, as slots keep it.
  static uint32_t tag_of(size_t hash) noexcept { return static_cast<uint32_t>(static_cast<uint64_t>(hash) >> 32); }

  /// The index of the slot that holds (`name` (normalized), `type`) with `hash`, or of the empty slot where it
  /// would go. There must be slots.
  size_t find_slot(std::string_view name, RRType type, size_t hash) const noexcept;
  /// The entry for (`name`, `type`) with `hash`, or k_none.
  Index find(std::string_view name, RRType type, size_t hash) const noexcept;
  /// Makes an entry for (`name`, `type`), which must not have one, and indexes it; nothing waits on it yet.
  Index insert(std::string_view name, RRType type, size_t hash);
  /// Unindexes entry `index` (answered and out of the LRU list already) and frees it for reuse.
  void erase(Index index);
  /// Doubles the slots (or makes the first ones) and puts every entry back in its place.
  void grow_slots();

  /// Appends answered entry `index` to the LRU list (most recently used).
  void link_newest(Index index) noexcept;
  /// Takes answered entry `index` out of the LRU list.
  void unlink(Index index) noexcept;

  /// Asks upstream for entry `index`'s name and type; the answer goes to `complete`.
  void send(Index index);
  /// Stores `answer` in entry `index` if `query_serial` is its query in flight, and calls the entry's waiters.
  void complete(Index index, uint32_t query_serial, AnswerPtr answer);
  /// Drops the least recently used answers beyond the entry limit.
  void evict();

  Resolver& m_upstream;
  size_t m_max_entries;
  std::vector<Entry> m_entries;     ///< Every entry, answered, in flight or free.
  Index m_free = k_none;            ///< The first free entry; they are chained through Entry::older.
  std::vector<Slot> m_slots;        ///< Linear probing; a power of two in size, at most half full.
  size_t m_indexed = 0;             ///< How many slots hold an entry (answered or in flight).
  Index m_oldest = k_none;          ///< The least recently used answered entry.
  Index m_newest = k_none;          ///< The most recently used answered entry.
  size_t m_answered = 0;            ///< How many entries hold an answer (the LRU list's length).
  uint32_t m_next_query_serial = 0; ///< The serial of the next upstream query.
  CacheStats m_stats;
};

} // namespace sendcheck::dns
