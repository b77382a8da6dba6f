#include <sendcheck/dns/overlay_resolver.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck::dns {

namespace {

constexpr size_t k_max_string = 255;

/// The version tag of a TXT record ("v=spf1" of "v=spf1 -all"), lower-cased, or empty when it has none.
std::string
version_tag(const TxtRecord& record)
{
  const auto text = record.joined();
  if (!util::istarts_with(text, "v=")) {
    return {};
  }
  const auto end = text.find_first_of(" ;");
  return util::to_lower(text.substr(0, end));
}

} // namespace

std::vector<std::string>
split_txt(std::string_view text)
{
  std::vector<std::string> strings;
  do {
    const auto piece = text.substr(0, k_max_string);
    strings.emplace_back(piece);
    text.remove_prefix(piece.size());
  } while (!text.empty());
  return strings;
}

OverlayResolver::OverlayResolver(Resolver& underlying, OverlayMode mode)
  : m_underlying(underlying)
  , m_mode(mode)
{
  passes_everything_to(&m_underlying); // until a candidate is added
}

void
OverlayResolver::add_txt(std::string_view name, std::string_view text)
{
  add_txt_record(name, TxtRecord{ split_txt(text) });
}

void
OverlayResolver::add_txt_record(std::string_view name, TxtRecord record)
{
  m_candidates[util::normalize_name(name)].push_back(std::move(record));
  passes_everything_to(nullptr);
}

bool
OverlayResolver::has_candidate(std::string_view name) const
{
  std::string storage;
  return m_candidates.find(util::normalize_name(name, storage)) != m_candidates.end();
}

void
OverlayResolver::query(std::string_view name, RRType type, Callback done)
{
  Resolver& below = m_underlying.answering(); // past the layers under this one that only hand calls on
  if (type != RRType::txt || m_candidates.empty()) {
    below.query(name, type, std::move(done));
    return;
  }
  std::string storage;
  const auto it = m_candidates.find(util::normalize_name(name, storage));
  if (it == m_candidates.end()) {
    below.query(name, type, std::move(done));
    return;
  }
  const std::string& key = it->first;
  if (m_mode == OverlayMode::replace_all) {
    done(overlay(key, it->second, nullptr));
    return;
  }
  below.query(key, type, [this, key, candidates = it->second, done = std::move(done)](AnswerPtr published) {
    done(overlay(key, candidates, published));
  });
}

AnswerPtr
OverlayResolver::overlay(const std::string& name,
                         const std::vector<TxtRecord>& candidates,
                         const AnswerPtr& published) const
{
  auto answer = std::make_shared<Answer>();
  answer->name = name;
  answer->type = RRType::txt;
  answer->status = Status::ok;
  answer->server = "candidate record";
  if (published) {
    std::vector<std::string> replaced;
    for (const auto& candidate : candidates) {
      if (auto tag = version_tag(candidate); !tag.empty()) {
        replaced.push_back(std::move(tag));
      }
    }
    for (const auto& record : published->txt) {
      const auto tag = version_tag(record);
      if (tag.empty() || std::find(replaced.begin(), replaced.end(), tag) == replaced.end()) {
        answer->txt.push_back(record);
      }
    }
    if (!published->server.empty()) {
      answer->server = fmt::format("candidate record over {}", published->server);
    }
    if (is_failure(published->status)) {
      answer->detail = fmt::format("the published TXT records could not be read ({}{}{}); only the candidate is shown",
                                   to_string(published->status),
                                   published->detail.empty() ? "" : ": ",
                                   published->detail);
    }
  }
  answer->txt.insert(answer->txt.end(), candidates.begin(), candidates.end());
  return answer;
}

void
OverlayResolver::run()
{
  m_underlying.run();
}

void
OverlayResolver::prefetch(std::string_view name, RRType type)
{
  if (type == RRType::txt && m_mode == OverlayMode::replace_all && has_candidate(name)) {
    return;
  }
  m_underlying.answering().prefetch(name, type); // past the layers under this one that only hand calls on
}

} // namespace sendcheck::dns
