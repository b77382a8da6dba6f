#include <sendcheck/cli/resolver_stack.hpp>

#include <sendcheck/dns/zone_file.hpp>

#include <fmt/format.h>

namespace sendcheck::cli {

util::Result<std::unique_ptr<ResolverStack>, std::string>
build_resolver_stack(const Options& options)
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

  const bool offline = options.offline;
  if (offline) {
    stack->m_layered = std::make_unique<dns::LayeredResolver>();
    stack->notes.push_back(
      "offline: names outside the zone files given are treated as absent, so the result is only as complete as "
      "those zones");
  } else {
    return util::unexpected(std::string("live DNS is not available in this build yet; use --offline with --zone"));
  }
  for (const auto& zone : stack->m_zones) {
    stack->m_layered->add_zone(*zone);
  }
  stack->m_overlay = std::make_unique<dns::OverlayResolver>(*stack->m_layered);
  stack->m_top = stack->m_overlay.get();
  return stack;
}

} // namespace sendcheck::cli
