#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// Helpers shared by the fuzz targets: splitting the input into fields and failing loudly on a broken invariant.

namespace sendcheck::fuzz {

/// The fuzzer's input as text (any bytes, NUL included).
inline std::string_view as_text(const uint8_t* data, size_t size);

/// Splits `text` at `separator` into at most `max_parts` parts (the last part keeps the rest).
inline std::vector<std::string> split_input(std::string_view text, char separator, size_t max_parts);

/// Reports a broken invariant with both texts and aborts, so that libFuzzer saves the input.
[[noreturn]] inline void fail(const char* what, std::string_view first, std::string_view second = {});

inline std::string_view
as_text(const uint8_t* data, size_t size)
{
  return {reinterpret_cast<const char*>(data), size};
}

inline std::vector<std::string>
split_input(std::string_view text, char separator, size_t max_parts)
{
  std::vector<std::string> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t at = text.find(separator);
    if (at == std::string_view::npos) {
      break;
    }
    parts.emplace_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  parts.emplace_back(text);
  return parts;
}

inline void
fail(const char* what, std::string_view first, std::string_view second)
{
  std::fprintf(stderr, "fuzz invariant broken: %s\n  first:  [%.*s]\n  second: [%.*s]\n", what,
               static_cast<int>(first.size()), first.data(), static_cast<int>(second.size()), second.data());
  std::abort();
}

} // namespace sendcheck::fuzz
