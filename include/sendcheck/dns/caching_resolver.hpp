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
  /// The default bound on stored answers.
  static constexpr size_t k_default_max_entries = 20000;

  /// A resolver that caches the answers of `upstream`, which must outlive it. `max_entries` 0 means no limit.
  explicit CachingResolver(Resolver& upstream, size_t max_entries = k_default_max_entries);

  /// Answers from the cache (synchronously) when it can, else joins or sends an upstream query.
  void query(std::string_view name, RRType type, Callback done) override;

  /// Runs the upstream resolver until every query (and so every waiter) is done.
  void run() override;

  /// Sends the query for (`name`, `type`) upstream now unless it is cached or in flight; its answer is cached.
  void prefetch(std::string_view name, RRType type) override;

  /// The counters so far.
  const CacheStats& stats() const { return m_stats; }

  /// How many answers are stored now (not counting queries in flight).
  size_t size() const { return m_lru.size(); }

  /// The stored answer for (`name`, `type`), or null when there is none (yet).
  AnswerPtr cached(std::string_view name, RRType type) const;

private:
  struct Entry
  {
    AnswerPtr answer;                                     ///< Null while the upstream query is in flight.
    std::vector<Callback> waiters;                        ///< Who waits for the answer in flight.
    std::list<const std::string*>::iterator lru_position; ///< Valid once answered.
  };

  static std::string make_key(std::string_view name, RRType type);
  void send(const std::string& key, std::string_view name, RRType type);
  void complete(const std::string& key, AnswerPtr answer);
  void evict();

  Resolver& m_upstream;
  size_t m_max_entries;
  std::unordered_map<std::string, Entry> m_entries;
  std::list<const std::string*> m_lru; ///< Keys (in m_entries) of answered entries, most recently used last.
  CacheStats m_stats;
};

} // namespace sendcheck::dns
