#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

// A report holds texts that many reports hold the same of: a stream's reason comes from a per-thread memo, and both
// streams of a domain usually get the same fix. Copies of a SharedText share its characters instead of allocating
// their own, and freeing the last copy frees the text.

namespace sendcheck::report {

/// An immutable string whose copies share one allocation (characters and reference count together), read as a
/// std::string_view. Copying counts a reference; only making a text allocates.
class SharedText
{
public:
  /// The empty text; allocates nothing.
  SharedText() = default;

  /// A copy of `text`.
  explicit SharedText(std::string_view text);

  /// `parts` one after the other, allocated once.
  static SharedText concat(std::initializer_list<std::string_view> parts);

  /// The characters; valid while this text or a copy of it lives.
  std::string_view view() const { return {m_chars.get(), m_size}; }

  /// `view()`, so that a text goes wherever a std::string_view does.
  operator std::string_view() const { return view(); } // NOLINT(google-explicit-constructor)

  /// Whether the text has no characters.
  bool empty() const { return m_size == 0; }

  /// Whether the text reads `other`.
  friend bool operator==(const SharedText& text, std::string_view other) { return text.view() == other; }

  /// Whether the texts read the same.
  friend bool operator==(const SharedText& a, const SharedText& b) { return a.view() == b.view(); }

private:
  std::shared_ptr<const char[]> m_chars;
  size_t m_size = 0;
};

inline SharedText::SharedText(std::string_view text) : SharedText(concat({text}))
{
}

inline SharedText
SharedText::concat(std::initializer_list<std::string_view> parts)
{
  SharedText out;
  for (const auto part : parts) {
    out.m_size += part.size();
  }
  if (out.m_size == 0) {
    return out;
  }
  auto chars = std::make_shared_for_overwrite<char[]>(out.m_size);
  char* next = chars.get();
  for (const auto part : parts) {
    next = std::copy(part.begin(), part.end(), next);
  }
  out.m_chars = std::move(chars);
  return out;
}

} // namespace sendcheck::report
