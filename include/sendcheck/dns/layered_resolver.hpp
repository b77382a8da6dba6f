#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sendcheck::dns {

/// A Resolver that answers authoritatively from zones (`--zone FILE`) for the names they cover, and sends every other
/// name to a fallback resolver (the network) or, offline, answers NXDOMAIN for it and counts it.
///
/// A zone covers the names at or below its apexes (`ZoneResolver::add_apex`); a zone loaded without an apex covers
/// only the names that hold data in it. When zones overlap the one with the longest apex wins. A name a zone covers
/// but does not hold gives NXDOMAIN (or NODATA for an empty non-terminal), as an authoritative server would. A CNAME
/// in a zone that points outside every zone is followed through the fallback (or counted, offline).
class LayeredResolver : public Resolver
{
public:
  /// Offline: names outside the zones are answered NXDOMAIN with the detail "outside the zones given (--offline)".
  LayeredResolver();

  /// Names outside the zones are asked of `fallback`, which must outlive this resolver. Until a zone is added every
  /// call goes to `fallback` unchanged (`answering()` is `fallback`'s).
  explicit LayeredResolver(Resolver& fallback);

  /// Adds `zone`, which must outlive this resolver, to the zones answered authoritatively.
  void add_zone(const ZoneResolver& zone);

  /// Whether names outside the zones are answered NXDOMAIN rather than asked of a fallback.
  bool offline() const { return m_fallback == nullptr; }

  /// The zone that answers for `name`, or null when the name is outside every zone.
  const ZoneResolver* zone_for(std::string_view name) const;

  /// How many queries were answered NXDOMAIN because they were outside the zones (offline only).
  size_t outside_queries() const { return m_outside_queries; }

  /// The distinct names (normalized, sorted) answered NXDOMAIN because they were outside the zones (offline only),
  /// so a report can say its result is only as complete as the zones given.
  const std::set<std::string>& outside_names() const { return m_outside_names; }

  /// Answers from the zone that covers `name` (synchronously), else asks the fallback or answers NXDOMAIN offline.
  /// Without zones `name` goes to the fallback's `query` as given (the fallback normalizes it), not normalized here.
  void query(std::string_view name, RRType type, Callback done) override;
  /// Runs the fallback's event loop (nothing to do offline).
  void run() override;
  /// Passes the hint to the fallback for names outside the zones (as given when there are no zones, as in `query`).
  void prefetch(std::string_view name, RRType type) override;
  /// `query` without normalizing `name` again; the fallback gets it the same way.
  void query_normalized(std::string_view name, RRType type, Callback done) override;
  /// `prefetch` without normalizing `name` again; the fallback gets it the same way.
  void prefetch_normalized(std::string_view name, RRType type) override;

private:
  /// `zone_for` of a name normalized already.
  const ZoneResolver* zone_for_normalized(std::string_view key) const;
  /// Asks the fallback for `name` (normalized), or answers NXDOMAIN offline.
  void ask_outside(std::string_view name, RRType type, Callback done);

  Resolver* m_fallback = nullptr;
  std::vector<const ZoneResolver*> m_zones;
  size_t m_outside_queries = 0;
  std::set<std::string> m_outside_names;
};

} // namespace sendcheck::dns
