#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/util/string_hash.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace sendcheck::dns {

/// A Resolver that answers from records held in memory: loaded from zone files (`--zone`), or built in code by tests
/// and the RFC 7208 conformance runner. Answers are given synchronously, inside `query`.
///
/// Names are compared case-insensitively. CNAMEs are followed (a loop or a chain longer than 16 is an `error`).
/// A name with a label over 63 octets or over 253 octets in all cannot be asked and gives `error`, as a real
/// resolver would. A name that holds no record at all gives `nxdomain`, unless it is an ancestor of a name that
/// does (an "empty non-terminal", which gives `nodata`).
class ZoneResolver : public Resolver
{
public:
  /// `source` names where the data came from, for `Answer::server` ("zone file demo.zone", "test data").
  explicit ZoneResolver(std::string source = "in-memory zone");

  void add_address(std::string_view name, const IpAddress& address);
  void add_mx(std::string_view name, uint16_t preference, std::string_view exchange);
  /// Adds one TXT record made of `strings` (kept separate, as published).
  void add_txt(std::string_view name, std::vector<std::string> strings);
  void add_ptr(std::string_view name, std::string_view target);
  void add_cname(std::string_view name, std::string_view target);

  /// Makes queries at `name` fail with `status` (timeout, servfail, ...) for every type that has no record added
  /// before this call; records added after it are never returned (the openspf suite's TIMEOUT rule).
  void add_failure(std::string_view name, Status status);

  /// Marks `apex` as the top of a zone held here: `covers` then answers for every name at or below it.
  void add_apex(std::string_view apex);

  /// Whether `name` is at or below an apex given to `add_apex`, so that this resolver is authoritative for it.
  bool covers(std::string_view name) const;

  /// The apexes given to `add_apex`.
  const std::vector<std::string>& apexes() const { return m_apexes; }

  /// Whether the name has any data (records, CNAME or failure) of its own.
  bool has_name(std::string_view name) const;

  /// Every name with data of its own, normalized and sorted.
  std::vector<std::string> names() const;

  /// The answer for (`name`, `type`), computed now.
  AnswerPtr answer(std::string_view name, RRType type) const;

  void query(std::string_view name, RRType type, Callback done) override;
  void run() override;

private:
  struct Failure
  {
    Status status;
  };
  /// One record (an address, MX, TXT or PTR target) or a failure marker.
  using Entry = std::variant<IpAddress, MxRecord, TxtRecord, std::string, Failure>;
  struct Node
  {
    std::vector<std::pair<RRType, Entry>> entries; // in the order added; a Failure's type is unused
    std::string cname;
  };

  /// The node of `name`, made (and its ancestors marked) when new.
  Node& node(std::string_view name);
  /// Records every proper ancestor of `name` (normalized) as an empty non-terminal.
  void mark_ancestors(std::string_view name);

  std::string m_source;
  std::unordered_map<std::string, Node, util::StringHash, std::equal_to<>> m_nodes; ///< By normalized name.
  std::unordered_set<std::string, util::StringHash, std::equal_to<>> m_empty_non_terminals;
  std::vector<std::string> m_apexes;
};

/// Where a zone file failed to load.
struct ZoneFileError
{
  std::string file;
  uint64_t line = 0;
  uint64_t column = 0; ///< 0 when the parser does not know.
  std::string message; ///< What was wrong and what was expected.
};

/// What a zone file held.
struct ZoneFileInfo
{
  std::string origin;         ///< The zone's origin (apex), normalized.
  size_t record_count = 0;    ///< Records loaded.
  size_t skipped_types = 0;   ///< Records of types sendcheck does not use (NS, SOA, SRV, ...), ignored.
};

} // namespace sendcheck::dns
