#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>

// Test support shared by the conformance runner and the unit tests: a resolver that makes prefetching observable.

namespace sendcheck::test {

/// Answers from a ZoneResolver like a network resolver would: asynchronously, from `run`. `prefetch` fetches the
/// answer at once and keeps it, and `query` serves kept answers synchronously, so prefetching has a real effect to
/// compare and both the synchronous and the suspending paths of the evaluator are exercised.
class PrefetchRecorder : public dns::Resolver
{
public:
  explicit PrefetchRecorder(dns::ZoneResolver& zone) : m_zone(zone) {}

  void
  query(std::string_view name, dns::RRType type, Callback done) override
  {
    const auto key = std::make_pair(dns::to_string(type), std::string(name));
    const auto it = m_cache.find(key);
    if (it != m_cache.end()) {
      ++m_hits;
      done(it->second);
      return;
    }
    m_pending.emplace_back(m_zone.answer(name, type), std::move(done));
  }

  void
  run() override
  {
    while (!m_pending.empty()) {
      auto [answer, done] = std::move(m_pending.front());
      m_pending.pop_front();
      done(std::move(answer));
    }
  }

  void
  prefetch(std::string_view name, dns::RRType type) override
  {
    ++m_prefetches;
    m_cache[std::make_pair(dns::to_string(type), std::string(name))] = m_zone.answer(name, type);
  }

  size_t prefetches() const { return m_prefetches; }
  /// Whether (`name`, `type`) was prefetched.
  bool
  prefetched(std::string_view name, dns::RRType type) const
  {
    return m_cache.count(std::make_pair(dns::to_string(type), std::string(name))) != 0;
  }
  size_t hits() const { return m_hits; }

private:
  dns::ZoneResolver& m_zone;
  std::map<std::pair<std::string_view, std::string>, dns::AnswerPtr> m_cache;
  std::deque<std::pair<dns::AnswerPtr, Callback>> m_pending;
  size_t m_prefetches = 0;
  size_t m_hits = 0;
};

} // namespace sendcheck::test
