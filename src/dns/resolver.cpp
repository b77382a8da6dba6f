#include <sendcheck/dns/resolver.hpp>

#include <algorithm>

namespace sendcheck::dns {

std::string_view
to_string(RRType type)
{
  switch (type) {
  case RRType::a:
    return "A";
  case RRType::ptr:
    return "PTR";
  case RRType::mx:
    return "MX";
  case RRType::txt:
    return "TXT";
  case RRType::aaaa:
    return "AAAA";
  }
  return "?";
}

std::string_view
to_string(Status status)
{
  switch (status) {
  case Status::ok:
    return "ok";
  case Status::nodata:
    return "nodata";
  case Status::nxdomain:
    return "nxdomain";
  case Status::servfail:
    return "servfail";
  case Status::refused:
    return "refused";
  case Status::timeout:
    return "timeout";
  case Status::error:
    return "error";
  }
  return "?";
}

std::string
TxtRecord::joined() const
{
  size_t size = 0;
  for (const auto& piece : strings) {
    size += piece.size();
  }
  std::string text;
  text.reserve(size);
  for (const auto& piece : strings) {
    text += piece;
  }
  return text;
}

std::string_view
TxtRecord::text(std::string& storage) const
{
  if (strings.size() == 1) {
    return strings.front();
  }
  storage = joined();
  return storage;
}

size_t
Answer::record_count() const
{
  return addresses.size() + mx.size() + names.size() + txt.size();
}

void
sort_txt_records(std::vector<TxtRecord>& records)
{
  const auto by_strings = [](const TxtRecord& a, const TxtRecord& b) { return a.strings < b.strings; };
  // Nearly every answer has one record or is in order already, and stable_sort allocates a buffer even for one.
  if (!std::is_sorted(records.begin(), records.end(), by_strings)) {
    std::stable_sort(records.begin(), records.end(), by_strings);
  }
}

AnswerPtr
make_status_answer(std::string_view name, RRType type, Status status, std::string server, std::string detail)
{
  auto answer = std::make_shared<Answer>();
  answer->name = std::string(name);
  answer->type = type;
  answer->status = status;
  answer->server = std::move(server);
  answer->detail = std::move(detail);
  return answer;
}

void
Resolver::prefetch(std::string_view /*name*/, RRType /*type*/)
{
}

void
Resolver::query_normalized(std::string_view name, RRType type, Callback done)
{
  query(name, type, std::move(done));
}

void
Resolver::prefetch_normalized(std::string_view name, RRType type)
{
  prefetch(name, type);
}

} // namespace sendcheck::dns
