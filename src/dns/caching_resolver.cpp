#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/util/strings.hpp>

namespace sendcheck::dns {

CachingResolver::CachingResolver(Resolver& upstream, size_t max_entries)
  : m_upstream(upstream)
  , m_max_entries(max_entries)
{
}

std::string
CachingResolver::make_key(std::string_view name, RRType type)
{
  auto key = util::normalize_name(name);
  key += '/';
  key += std::to_string(static_cast<unsigned>(type));
  return key;
}

void
CachingResolver::query(std::string_view name, RRType type, Callback done)
{
  ++m_stats.queries;
  auto key = make_key(name, type);
  const auto it = m_entries.find(key);
  if (it != m_entries.end()) {
    Entry& entry = it->second;
    if (entry.answer) {
      ++m_stats.hits;
      m_lru.splice(m_lru.end(), m_lru, entry.lru_position);
      const AnswerPtr answer = entry.answer; // the callback may query again and rehash the map
      done(answer);
    } else {
      ++m_stats.coalesced;
      entry.waiters.push_back(std::move(done));
    }
    return;
  }
  m_entries[key].waiters.push_back(std::move(done));
  send(key, name, type);
}

void
CachingResolver::prefetch(std::string_view name, RRType type)
{
  auto key = make_key(name, type);
  if (m_entries.count(key) != 0) {
    return;
  }
  ++m_stats.prefetches;
  m_entries[key];
  send(key, name, type);
}

void
CachingResolver::send(const std::string& key, std::string_view name, RRType type)
{
  ++m_stats.upstream;
  m_upstream.query(name, type, [this, key](AnswerPtr answer) { complete(key, std::move(answer)); });
}

void
CachingResolver::complete(const std::string& key, AnswerPtr answer)
{
  if (!answer) {
    answer = make_status_answer(key.substr(0, key.rfind('/')), RRType::a, Status::error, {}, "no answer given");
  }
  const auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    return;
  }
  Entry& entry = it->second;
  std::vector<Callback> waiters = std::move(entry.waiters);
  entry.waiters.clear();
  entry.answer = answer;
  entry.lru_position = m_lru.insert(m_lru.end(), &it->first);
  evict();
  for (auto& waiter : waiters) {
    waiter(answer);
  }
}

void
CachingResolver::evict()
{
  if (m_max_entries == 0) {
    return;
  }
  while (m_lru.size() > m_max_entries) {
    const auto oldest = m_entries.find(*m_lru.front());
    m_lru.pop_front();
    m_entries.erase(oldest);
    ++m_stats.evictions;
  }
}

AnswerPtr
CachingResolver::cached(std::string_view name, RRType type) const
{
  const auto it = m_entries.find(make_key(name, type));
  return it == m_entries.end() ? nullptr : it->second.answer;
}

void
CachingResolver::run()
{
  m_upstream.run();
}

} // namespace sendcheck::dns
