#pragma once

#include <sendcheck/dns/resolver.hpp>

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
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
class CachingResolver : public Resolver
{
public:
  /// The default bound on stored answers. The entries that matter are the shared ones (a provider's include, the
  /// sending host), which stay at the recent end of the LRU; a customer's own names are asked while its check runs.
  /// 8192 sent no more queries than 20000 on the 10,000-domain benchmark and keeps 100,000 domains 8 MB smaller.
  static constexpr size_t k_default_max_entries = 8192;

  /// A resolver that caches the answers of `upstream`, which must outlive it. `max_entries` 0 means no limit.
  explicit CachingResolver(Resolver& upstream, size_t max_entries = k_default_max_entries);

  /// Answers from the cache (synchronously) when it can, else joins or sends an upstream query.
  void query(std::string_view name, RRType type, Callback done) override;

  /// Runs the upstream resolver until every query (and so every waiter) is done.
  void run() override;

  /// Sends the query for (`name`, `type`) upstream now unless it is cached or in flight; its answer is cached.
  void prefetch(std::string_view name, RRType type) override;

  /// `query` without normalizing `name` again; the upstream query gets the normalized name the same way.
  void query_normalized(std::string_view name, RRType type, Callback done) override;

  /// `prefetch` without normalizing `name` again.
  void prefetch_normalized(std::string_view name, RRType type) override;

  /// The counters so far.
  const CacheStats& stats() const { return m_stats; }

  /// How many answers are stored now (not counting queries in flight).
  size_t size() const { return m_lru.size(); }

  /// The stored answer for (`name`, `type`), or null when there is none (yet).
  AnswerPtr cached(std::string_view name, RRType type) const;

private:
  /// What an answer is stored under: the normalized name and the type, with their hash.
  struct Key
  {
    std::string name; ///< Normalized.
    RRType type;      ///< The type asked.
    size_t hash;      ///< `hash_key(name, type)`, kept: the map asks again for the hash of every key it steps over.
  };
  /// A key to look up without building a Key (C++20 heterogeneous lookup).
  struct KeyView
  {
    std::string_view name; ///< Normalized.
    RRType type;           ///< The type asked.
    size_t hash;           ///< `hash_key(name, type)`.
  };
  /// The hash of (`name`, `type`).
  static size_t hash_key(std::string_view name, RRType type) noexcept;
  /// The KeyView of (`name` (normalized), `type`), with its hash.
  static KeyView make_key(std::string_view name, RRType type) noexcept { return { name, type, hash_key(name, type) }; }
  /// Gives the hash that Key and KeyView carry, so that no key is hashed twice.
  struct KeyHash
  {
    using is_transparent = void; ///< Lets find() take a KeyView.
    /// The hash of `key` (a Key or a KeyView).
    template<typename K>
    size_t
    operator()(const K& key) const noexcept
    {
      return key.hash;
    }
  };
  /// Compares Key and KeyView alike.
  struct KeyEqual
  {
    using is_transparent = void; ///< Lets find() take a KeyView.
    /// Whether `a` and `b` (each a Key or a KeyView) name the same (name, type). The hashes are compared first: a
    /// bucket's other keys nearly always differ there, and comparing them is cheaper than comparing names.
    template<typename A, typename B>
    bool
    operator()(const A& a, const B& b) const noexcept
    {
      return a.hash == b.hash && a.type == b.type && std::string_view(a.name) == std::string_view(b.name);
    }
  };
  /// One stored answer, or a query in flight with who waits for it.
  struct Entry
  {
    AnswerPtr answer;                   ///< Null while the upstream query is in flight.
    Callback first_waiter;              ///< The first who waits for the answer in flight (usually the only one).
    std::vector<Callback> more_waiters; ///< Who else waits, in the order they asked.
    std::list<const Key*>::iterator lru_position; ///< Valid once answered.
  };
  using Entries = std::unordered_map<Key, Entry, KeyHash, KeyEqual>;

  /// Asks upstream for `entry`'s key (its normalized name); the answer goes to `complete`.
  void send(Entries::value_type& entry);
  /// Stores `answer` in `entry` and calls the entry's waiters.
  void complete(Entries::value_type& entry, AnswerPtr answer);
  /// Drops the least recently used answers beyond the entry limit.
  void evict();

  Resolver& m_upstream;
  size_t m_max_entries;
  Entries m_entries;           ///< Nodes never move, so the LRU list and callbacks point at them.
  std::list<const Key*> m_lru; ///< Keys (in m_entries) of answered entries, most recently used last.
  CacheStats m_stats;
};

} // namespace sendcheck::dns
