#pragma once

#include <sendcheck/dns/resolver.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

// Test support shared by the conformance runner and the unit tests: a resolver that counts what is asked.

namespace sendcheck::test {

/// Passes every query on to another resolver and counts them, in all and per (name, type): an evaluation shared by
/// several addresses (spf::check_hosts) shows as fewer queries.
class CountingResolver : public dns::Resolver
{
public:
  explicit CountingResolver(dns::Resolver& upstream) : m_upstream(upstream) {}

  void
  query(std::string_view name, dns::RRType type, Callback done) override
  {
    ++m_queries;
    ++m_per_key[std::make_pair(std::string(name), type)];
    m_upstream.query(name, type, std::move(done));
  }

  void run() override { m_upstream.run(); }

  /// Queries so far.
  size_t queries() const { return m_queries; }

  /// Queries so far for (`name`, `type`).
  size_t
  queries(std::string_view name, dns::RRType type) const
  {
    const auto it = m_per_key.find(std::make_pair(std::string(name), type));
    return it == m_per_key.end() ? 0 : it->second;
  }

private:
  dns::Resolver& m_upstream;
  size_t m_queries = 0;
  std::map<std::pair<std::string, dns::RRType>, size_t> m_per_key;
};

} // namespace sendcheck::test
