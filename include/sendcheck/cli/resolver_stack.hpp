#pragma once

#include <sendcheck/cli/options.hpp>
#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/dns/layered_resolver.hpp>
#include <sendcheck/dns/overlay_resolver.hpp>
#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/util/result.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sendcheck::cli {

/// The resolvers of a run, from the bottom up: the network (absent offline) behind a per-run cache, the zone files
/// layered over it, and the `--record` candidates on top; offline, a cache over all of that (the zones and candidates
/// do not change during a run, and each domain asks for the same names several times). `top()` is what the checks
/// ask.
class ResolverStack
{
public:
  /// The resolver the checks use.
  dns::Resolver& top() { return *m_top; }

  /// The layered resolver (zones over network), for the offline completeness note.
  const dns::LayeredResolver& layered() const { return *m_layered; }

  /// The overlay holding the `--record` candidates.
  dns::OverlayResolver& overlay() { return *m_overlay; }

  /// The cache over the network (null offline).
  const dns::CachingResolver* cache() const { return m_cache.get(); }

  /// Notes for the report about where answers come from ("offline: ...").
  std::vector<std::string> notes;

private:
  friend util::Result<std::unique_ptr<ResolverStack>, std::string> build_resolver_stack(const Options& options,
                                                                                       unsigned workers);

  std::unique_ptr<dns::Resolver> m_network;
  std::unique_ptr<dns::CachingResolver> m_cache;
  std::vector<std::unique_ptr<dns::ZoneResolver>> m_zones;
  std::unique_ptr<dns::LayeredResolver> m_layered;
  std::unique_ptr<dns::OverlayResolver> m_overlay;
  std::unique_ptr<dns::CachingResolver> m_offline_cache; ///< Offline only: answers of the overlay, for the run.
  dns::Resolver* m_top = nullptr;
};

/// One worker's part of a bound shared by `workers` workers (a cache size, the queries in flight): at least 1, and
/// together no more than the whole, so memory and load on the server do not grow with --jobs.
inline size_t
worker_share(size_t total, size_t workers)
{
  return std::max<size_t>(1, total / std::max<size_t>(1, workers));
}

/// Builds the resolvers for `options`: loads every `--zone` file (an error names the file, line and problem),
/// sets up the network unless `--offline`. With several `workers`, each builds a stack of its own and they split
/// the queries kept on the network between them.
util::Result<std::unique_ptr<ResolverStack>, std::string> build_resolver_stack(const Options& options,
                                                                               unsigned workers = 1);

} // namespace sendcheck::cli
