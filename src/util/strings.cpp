#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace sendcheck::util {

namespace {

bool
is_upper(char c)
{
  return c >= 'A' && c <= 'Z';
}

char
lower(char c)
{
  return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

std::string
to_lower(std::string_view text)
{
  // Most text is lower-case already: copy it whole and lower-case only from the first upper-case letter on.
  std::string out(text);
  for (auto it = std::find_if(out.begin(), out.end(), is_upper); it != out.end(); ++it) {
    *it = lower(*it);
  }
  return out;
}

bool
iequals(std::string_view a, std::string_view b)
{
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool
istarts_with(std::string_view text, std::string_view prefix)
{
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view
trim(std::string_view text)
{
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view>
split(std::string_view text, char separator)
{
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    if (end == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::string
normalize_name(std::string_view name)
{
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  return to_lower(name);
}

bool
is_normalized_name(std::string_view name)
{
  return (name.empty() || name.back() != '.') && std::none_of(name.begin(), name.end(), is_upper);
}

std::string_view
normalize_name(std::string_view name, std::string& storage)
{
  if (is_normalized_name(name)) {
    return name;
  }
  storage = normalize_name(name);
  return storage;
}

std::string
escape_for_display(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += fmt::format("\\x{:02X}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

std::string
terminal_safe(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      out += fmt::format("\\x{:02X}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace sendcheck::util
