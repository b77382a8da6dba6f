#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <cstring>

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

/// Whether any of the 8 bytes of `word` is an ASCII upper-case letter, tested on all 8 at once: no byte's sum
/// carries into the next, so each byte's high bit answers for that byte alone.
constexpr bool
has_upper(uint64_t word)
{
  constexpr uint64_t k_ones = 0x0101010101010101ULL;
  constexpr uint64_t k_high = 0x8080808080808080ULL;
  const uint64_t low7 = word & ~k_high;                     // each byte's low 7 bits: at most 0x7f
  const uint64_t at_least_a = low7 + k_ones * (0x80 - 'A'); // high bit set where low7 >= 'A'
  const uint64_t above_z = low7 + k_ones * (0x7f - 'Z');    // high bit set where low7 > 'Z'
  return (at_least_a & ~above_z & ~word & k_high) != 0;     // ... and where the byte itself is ASCII
}

/// The position of the first ASCII upper-case letter in `text`, or its size when there is none. Names and keys
/// are lower-case nearly always, so this scan is the whole cost of normalizing them: it reads 8 bytes at a time.
size_t
find_upper(std::string_view text)
{
  size_t pos = 0;
  for (; pos + sizeof(uint64_t) <= text.size(); pos += sizeof(uint64_t)) {
    uint64_t word = 0;
    std::memcpy(&word, text.data() + pos, sizeof word);
    if (has_upper(word)) {
      break;
    }
  }
  if (pos < text.size() && pos + sizeof(uint64_t) > text.size() && text.size() >= sizeof(uint64_t)) {
    // The last 1-7 bytes, after words without upper case: the last 8 bytes in one word (overlapping the ones
    // read), not byte by byte.
    uint64_t word = 0;
    std::memcpy(&word, text.data() + text.size() - sizeof word, sizeof word);
    if (!has_upper(word)) {
      return text.size();
    }
  }
  for (; pos < text.size(); ++pos) {
    if (is_upper(text[pos])) {
      return pos;
    }
  }
  return text.size();
}

} // namespace

std::string
to_lower(std::string_view text)
{
  // Most text is lower-case already: copy it whole and lower-case only from the first upper-case letter on.
  std::string out(text);
  for (size_t pos = find_upper(text); pos < out.size(); ++pos) {
    out[pos] = lower(out[pos]);
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
  return (name.empty() || name.back() != '.') && find_upper(name) == name.size();
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
