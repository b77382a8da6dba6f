#include <sendcheck/cli/resolver_stack.hpp>

#include <sendcheck/dns/cares_resolver.hpp>
#include <sendcheck/dns/zone_file.hpp>

#include <fmt/format.h>

namespace sendcheck::cli {

util::Result<std::unique_ptr<ResolverStack>, std::string>
build_resolver_stack(const Options& options, unsigned workers)
{
  auto stack = std::make_unique<ResolverStack>();
  for (const auto& path : options.zones) {
    auto zone = std::make_unique<dns::ZoneResolver>(fmt::format("zone file {}", path));
    auto loaded = dns::load_zone_file(*zone, path);
    if (!loaded) {
      return util::unexpected(fmt::format("--zone: {}", dns::to_string(loaded.error())));
    }
    stack->m_zones.push_back(std::move(zone));
  }

  // The workers' caches together hold as many answers as one worker's would.
  const size_t cache_entries = worker_share(dns::CachingResolver::k_default_max_entries, workers);
  const bool offline = options.offline;
  if (offline) {
    stack->m_layered = std::make_unique<dns::LayeredResolver>();
    stack->notes.push_back(
      "offline: names outside the zone files given are treated as absent, so the result is only as complete as "
      "those zones");
  } else {
    dns::CaresOptions network;
    network.servers = options.servers;
    network.timeout = std::chrono::milliseconds(options.timeout_ms);
    network.tries = static_cast<int>(options.tries);
    // The workers share the server: together they keep as many queries on the network as one would (more overflow
    // a server's receive buffer -- see CaresOptions::max_in_flight -- and each lost datagram costs a retry after
    // --timeout).
    network.max_in_flight = worker_share(network.max_in_flight, workers);
    auto resolver = dns::CaresResolver::create(network);
    if (!resolver) {
      return util::unexpected(fmt::format("cannot set up DNS: {}", resolver.error().message));
    }
    stack->m_network = std::move(*resolver);
    stack->m_cache = std::make_unique<dns::CachingResolver>(*stack->m_network, cache_entries);
    stack->m_layered = std::make_unique<dns::LayeredResolver>(*stack->m_cache);
  }
  for (const auto& zone : stack->m_zones) {
    stack->m_layered->add_zone(*zone);
  }
  stack->m_overlay = std::make_unique<dns::OverlayResolver>(*stack->m_layered);
  stack->m_top = stack->m_overlay.get();
  if (offline) {
    stack->m_offline_cache = std::make_unique<dns::CachingResolver>(*stack->m_overlay, cache_entries);
    stack->m_top = stack->m_offline_cache.get();
  }
  return stack;
}

} // namespace sendcheck::cli
