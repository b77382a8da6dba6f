#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sendcheck::util {

/// A hash for unordered containers keyed by std::string that also takes std::string_view and C strings (C++20
/// heterogeneous lookup, with `std::equal_to<>`), so a lookup needs no key string:
/// `std::unordered_map<std::string, T, util::StringHash, std::equal_to<>>`.
struct StringHash
{
  using is_transparent = void; ///< Lets find(), count() and contains() take any of the three.

  /// The hash of `text`, the same for every form of the same characters.
  size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  /// The hash of `text`.
  size_t operator()(const std::string& text) const noexcept { return (*this)(std::string_view(text)); }
  /// The hash of `text`.
  size_t operator()(const char* text) const noexcept { return (*this)(std::string_view(text)); }
};

} // namespace sendcheck::util
