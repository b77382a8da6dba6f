#include <sendcheck/dns/layered_resolver.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

namespace sendcheck::dns {

namespace {

constexpr size_t k_max_cname_chain = 16;
constexpr std::string_view k_offline_detail = "outside the zones given (--offline)";

/// Whether `name` is at or below `apex` (both normalized).
bool
is_at_or_below(std::string_view name, std::string_view apex)
{
  if (apex.empty() || name == apex) {
    return true;
  }
  return name.size() > apex.size() && name.ends_with(apex) && name[name.size() - apex.size() - 1] == '.';
}

} // namespace

LayeredResolver::LayeredResolver() = default;

LayeredResolver::LayeredResolver(Resolver& fallback)
  : m_fallback(&fallback)
{
  passes_everything_to(m_fallback); // until a zone is added
}

void
LayeredResolver::add_zone(const ZoneResolver& zone)
{
  m_zones.push_back(&zone);
  passes_everything_to(nullptr);
}

const ZoneResolver*
LayeredResolver::zone_for(std::string_view name) const
{
  std::string storage;
  return zone_for_normalized(util::normalize_name(name, storage));
}

const ZoneResolver*
LayeredResolver::zone_for_normalized(std::string_view key) const
{
  const ZoneResolver* best = nullptr;
  size_t best_length = 0;
  for (const auto* zone : m_zones) {
    for (const auto& apex : zone->apexes()) {
      if (is_at_or_below(key, apex) && (best == nullptr || apex.size() > best_length)) {
        best = zone;
        best_length = apex.size();
      }
    }
  }
  if (best != nullptr) {
    return best;
  }
  for (const auto* zone : m_zones) {
    if (zone->apexes().empty() && zone->has_name(key)) {
      return zone;
    }
  }
  return nullptr;
}

void
LayeredResolver::query(std::string_view name, RRType type, Callback done)
{
  if (m_zones.empty() && m_fallback != nullptr) {
    // No zone to choose: the name goes to the fallback as given, which normalizes it only if it must (a cache finds
    // a name that is normalized already without scanning it).
    m_fallback->query(name, type, std::move(done));
    return;
  }
  std::string storage;
  query_normalized(util::normalize_name(name, storage), type, std::move(done));
}

void
LayeredResolver::query_normalized(std::string_view key, RRType type, Callback done)
{
  const ZoneResolver* zone = zone_for_normalized(key);
  if (zone == nullptr) {
    ask_outside(key, type, std::move(done));
    return;
  }
  AnswerPtr answer = zone->answer(key, type);
  if (answer->status != Status::nxdomain || answer->cname_chain.empty()) {
    done(std::move(answer));
    return;
  }
  // The chain left this zone: follow its last target wherever it lives.
  const std::string target = answer->cname_chain.back();
  if (zone_for_normalized(target) == zone) {
    done(std::move(answer));
    return;
  }
  query_normalized(target, type, [answer, done = std::move(done)](AnswerPtr rest) {
    auto merged = std::make_shared<Answer>(*rest);
    merged->name = answer->name;
    merged->cname_chain = answer->cname_chain;
    merged->cname_chain.insert(merged->cname_chain.end(), rest->cname_chain.begin(), rest->cname_chain.end());
    if (merged->cname_chain.size() > k_max_cname_chain) {
      merged = std::make_shared<Answer>(*make_status_answer(
        answer->name,
        answer->type,
        Status::error,
        rest->server,
        fmt::format("CNAME chain from {} is longer than {} or loops", answer->name, k_max_cname_chain)));
    }
    done(std::move(merged));
  });
}

void
LayeredResolver::ask_outside(std::string_view name, RRType type, Callback done)
{
  if (m_fallback != nullptr) {
    m_fallback->query_normalized(name, type, std::move(done));
    return;
  }
  ++m_outside_queries;
  m_outside_names.emplace(name);
  done(make_status_answer(name, type, Status::nxdomain, "offline", std::string(k_offline_detail)));
}

void
LayeredResolver::run()
{
  if (m_fallback != nullptr) {
    m_fallback->run();
  }
}

void
LayeredResolver::prefetch(std::string_view name, RRType type)
{
  if (m_zones.empty() && m_fallback != nullptr) {
    m_fallback->prefetch(name, type); // as in `query`
  } else if (m_fallback != nullptr) {
    std::string storage;
    prefetch_normalized(util::normalize_name(name, storage), type);
  }
}

void
LayeredResolver::prefetch_normalized(std::string_view name, RRType type)
{
  if (m_fallback != nullptr && zone_for_normalized(name) == nullptr) {
    m_fallback->prefetch_normalized(name, type);
  }
}

} // namespace sendcheck::dns
