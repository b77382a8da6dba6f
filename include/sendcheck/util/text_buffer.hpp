#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace sendcheck::util {

/// A text in a string that is kept and written again (a domain's output, in the CLI's pool): the first `size()`
/// bytes are the text, the bytes after them room left by an earlier, longer text. A std::string can only be
/// lengthened by filling the new bytes, so a writer that makes room ahead of its writing (report::write_domain_json's
/// JsonWriter) would fill kilobytes for every text; here each byte of room is filled once, when the string first
/// grows that far, and only written after that.
class TextBuffer
{
public:
  TextBuffer() = default;
  /// The text `text`, without room after it.
  explicit TextBuffer(std::string text) : m_bytes(std::move(text)), m_size(m_bytes.size()) {}

  /// The text.
  std::string_view view() const { return {m_bytes.data(), m_size}; }
  /// The text's length.
  std::size_t size() const { return m_size; }
  /// Whether the text is empty.
  bool empty() const { return m_size == 0; }
  /// The bytes allocated for the text and its room.
  std::size_t capacity() const { return m_bytes.capacity(); }
  /// Empties the text; its bytes become room.
  void clear() { m_size = 0; }

  /// Appends `text`.
  void append(std::string_view text);

  /// Appends what `write(std::string&)` appends to a std::string holding the text, for writers built on
  /// std::string's own operations (report::render_text). The room after the text is given up for it.
  template<typename Write> void append_with(Write&& write);

  /// The text as a std::string (the room after it is given up).
  std::string take() &&;

  /// The start of the text (for a writer that writes into the room).
  char* data() { return m_bytes.data(); }
  /// Where the text ends and the room starts.
  char* end() { return m_bytes.data() + m_size; }
  /// Where the room ends.
  char* room_end() { return m_bytes.data() + m_bytes.size(); }
  /// Makes the room at least `bytes` long, lengthening the string by that and `k_step` if it is shorter. The text
  /// may move: pointers from `data`, `end` and `room_end` are not valid after.
  void make_room(std::size_t bytes);
  /// Makes the text end at `end`, a pointer into the text or the room (after bytes were written into the room).
  void end_at(const char* end) { m_size = static_cast<std::size_t>(end - m_bytes.data()); }

private:
  /// How much more room than asked for `make_room` makes: the string is lengthened a step at a time, so that what
  /// is filled is about what is then written (filling 4 KiB ahead at once for each new buffer cost more than the
  /// copy of a domain's output that this class saves: from 2 KiB on, glibc's memset uses `rep stosb`, which the
  /// instruction-counting benchmark counts a byte at a time).
  static constexpr std::size_t k_step = 1024;
  /// The capacity a string gets when it first grows: enough for a typical text (a domain's JSON object is 3-8 KB),
  /// allocated without filling it.
  static constexpr std::size_t k_min_capacity = 4096;

  std::string m_bytes; ///< The text, then the room.
  std::size_t m_size = 0;
};

// Inline implementations.

inline void
TextBuffer::append(std::string_view text)
{
  if (text.empty()) {
    return; // memcpy may not be given a null pointer, which an empty view may hold.
  }
  make_room(text.size());
  std::memcpy(end(), text.data(), text.size());
  m_size += text.size();
}

template<typename Write>
void
TextBuffer::append_with(Write&& write)
{
  m_bytes.resize(m_size);
  std::forward<Write>(write)(m_bytes);
  m_size = m_bytes.size();
}

inline std::string
TextBuffer::take() &&
{
  m_bytes.resize(m_size);
  m_size = 0;
  return std::move(m_bytes);
}

inline void
TextBuffer::make_room(std::size_t bytes)
{
  if (m_bytes.size() - m_size >= bytes) {
    return;
  }
  const std::size_t size = m_size + bytes + k_step;
  if (size > m_bytes.capacity()) {
    m_bytes.reserve(std::max({size, 2 * m_bytes.capacity(), k_min_capacity}));
  }
  m_bytes.resize(size);
}

} // namespace sendcheck::util
