#include <sendcheck/dns/zone_resolver.hpp>

#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck::dns {

namespace {

constexpr size_t k_max_cname_chain = 16;

/// Why `name` cannot be asked in DNS, or empty when it can.
std::string
unaskable_reason(std::string_view name)
{
  if (name.size() > 253) {
    return fmt::format("the name is {} octets long; DNS allows 253", name.size());
  }
  size_t start = 0;
  while (true) {
    const auto end = std::min(name.find('.', start), name.size());
    if (end - start > 63) {
      return fmt::format("a label of the name is {} octets long; DNS allows 63", end - start);
    }
    if (end == name.size()) {
      return {};
    }
    start = end + 1;
  }
}

} // namespace

ZoneResolver::ZoneResolver(std::string source) : m_source(std::move(source))
{
}

ZoneResolver::Node&
ZoneResolver::node(std::string_view name)
{
  std::string storage;
  const std::string_view key = util::normalize_name(name, storage);
  if (const auto it = m_nodes.find(key); it != m_nodes.end()) {
    return it->second;
  }
  mark_ancestors(key);
  return m_nodes.emplace(std::string(key), Node{}).first->second;
}

void
ZoneResolver::mark_ancestors(std::string_view name)
{
  // Walk up from the parent; once an ancestor is known, so are all above it.
  for (auto dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    const auto ancestor = name.substr(dot + 1);
    if (m_empty_non_terminals.find(ancestor) != m_empty_non_terminals.end()) {
      return;
    }
    m_empty_non_terminals.emplace(ancestor);
  }
}

void
ZoneResolver::add_address(std::string_view name, const IpAddress& address)
{
  node(name).entries.emplace_back(address.is_v4() ? RRType::a : RRType::aaaa, address);
}

void
ZoneResolver::add_mx(std::string_view name, uint16_t preference, std::string_view exchange)
{
  node(name).entries.emplace_back(RRType::mx, MxRecord{preference, util::normalize_name(exchange)});
}

void
ZoneResolver::add_txt(std::string_view name, std::vector<std::string> strings)
{
  node(name).entries.emplace_back(RRType::txt, TxtRecord{std::move(strings)});
}

void
ZoneResolver::add_ptr(std::string_view name, std::string_view target)
{
  node(name).entries.emplace_back(RRType::ptr, util::normalize_name(target));
}

void
ZoneResolver::add_cname(std::string_view name, std::string_view target)
{
  node(name).cname = util::normalize_name(target);
}

void
ZoneResolver::add_failure(std::string_view name, Status status)
{
  node(name).entries.emplace_back(RRType::a, Failure{status});
}

void
ZoneResolver::add_apex(std::string_view apex)
{
  auto key = util::normalize_name(apex);
  for (const auto& known : m_apexes) {
    if (known == key) {
      return;
    }
  }
  m_apexes.push_back(std::move(key));
}

bool
ZoneResolver::covers(std::string_view name) const
{
  std::string storage;
  const std::string_view key = util::normalize_name(name, storage);
  for (const auto& apex : m_apexes) {
    if (apex.empty() || key == apex
        || (key.size() > apex.size() && key.ends_with(apex) && key[key.size() - apex.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

bool
ZoneResolver::has_name(std::string_view name) const
{
  std::string storage;
  return m_nodes.find(util::normalize_name(name, storage)) != m_nodes.end();
}

std::vector<std::string>
ZoneResolver::names() const
{
  std::vector<std::string> out;
  out.reserve(m_nodes.size());
  for (const auto& [name, data] : m_nodes) {
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

AnswerPtr
ZoneResolver::answer(std::string_view name, RRType type) const
{
  std::string storage;
  const std::string_view asked = util::normalize_name(name, storage);
  if (auto reason = unaskable_reason(asked); !reason.empty()) {
    return make_status_answer(asked, type, Status::error, m_source, std::move(reason));
  }

  auto result = std::make_shared<Answer>();
  result->name = asked;
  result->type = type;
  result->server = m_source;

  std::string_view current = asked; // then a CNAME target held in m_nodes, which does not change while we answer
  for (size_t hops = 0;; ++hops) {
    const auto it = m_nodes.find(current);
    if (it == m_nodes.end()) {
      result->status =
        m_empty_non_terminals.find(current) != m_empty_non_terminals.end() ? Status::nodata : Status::nxdomain;
      return result;
    }
    const Node& data = it->second;
    if (!data.cname.empty()) {
      if (hops >= k_max_cname_chain) {
        result->status = Status::error;
        result->detail = fmt::format("CNAME chain from {} is longer than {} or loops", asked, k_max_cname_chain);
        return result;
      }
      result->cname_chain.push_back(data.cname);
      current = data.cname;
      continue;
    }

    for (const auto& [entry_type, entry] : data.entries) {
      if (const auto* failure = std::get_if<Failure>(&entry)) {
        if (result->record_count() == 0) {
          result->status = failure->status;
          result->detail = fmt::format("{} for {} {}", to_string(failure->status), current, to_string(type));
          return result;
        }
        break;
      }
      if (entry_type != type) {
        continue;
      }
      if (const auto* address = std::get_if<IpAddress>(&entry)) {
        result->addresses.push_back(*address);
      } else if (const auto* mx = std::get_if<MxRecord>(&entry)) {
        result->mx.push_back(*mx);
      } else if (const auto* txt = std::get_if<TxtRecord>(&entry)) {
        result->txt.push_back(*txt);
      } else if (const auto* target = std::get_if<std::string>(&entry)) {
        result->names.push_back(*target);
      }
    }
    sort_txt_records(result->txt);
    result->status = result->record_count() == 0 ? Status::nodata : Status::ok;
    return result;
  }
}

void
ZoneResolver::query(std::string_view name, RRType type, Callback done)
{
  done(answer(name, type));
}

void
ZoneResolver::run()
{
}

} // namespace sendcheck::dns
