#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

// The report's sentences (the verdict, the sender findings) are built for every domain from a few fixed words and a
// few values. Appending the pieces to a string sized once costs a fraction of fmt::format, which makes a call per
// piece even with compiled format strings (callgrind, 2000-domain run).

namespace sendcheck::report::detail {

/// The decimal digits of `value`, to pass among the pieces of `concat` or `append`.
class Decimal
{
public:
  explicit Decimal(size_t value)
    : m_size(static_cast<size_t>(std::to_chars(m_digits, m_digits + sizeof m_digits, value).ptr - m_digits))
  {
  }

  /// The digits; valid while this object lives (to the end of the full expression for a temporary).
  operator std::string_view() const { return {m_digits, m_size}; } // NOLINT(google-explicit-constructor)

private:
  char m_digits[20];
  size_t m_size;
};

/// Appends each of `parts` to `out`: one resize for all of them, then plain copies (no room check per piece).
inline void
append(std::string& out, std::initializer_list<std::string_view> parts)
{
  size_t size = out.size();
  for (const auto part : parts) {
    size += part.size();
  }
  const size_t start = out.size();
  out.resize(size);
  char* next = out.data() + start;
  for (const auto part : parts) {
    next = std::copy(part.begin(), part.end(), next);
  }
}

/// `parts` one after the other, in a string allocated once.
inline std::string
concat(std::initializer_list<std::string_view> parts)
{
  std::string out;
  append(out, parts);
  return out;
}

} // namespace sendcheck::report::detail
