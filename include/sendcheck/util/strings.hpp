#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sendcheck::util {

/// Whether `c` is an ASCII letter (locale-independent, unlike std::isalpha).
constexpr bool
is_alpha(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Whether `c` is an ASCII digit.
constexpr bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/// Whether `c` is an ASCII letter or digit.
constexpr bool
is_alnum(char c)
{
  return is_alpha(c) || is_digit(c);
}

/// `text` with ASCII letters lower-cased (DNS names compare case-insensitively, RFC 4343).
std::string to_lower(std::string_view text);

/// Whether `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

/// Whether `text` starts with `prefix`, ignoring ASCII case.
bool istarts_with(std::string_view text, std::string_view prefix);

/// `text` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

/// `text` split at each `separator`; empty pieces are kept.
std::vector<std::string_view> split(std::string_view text, char separator);

/// A DNS name in the form used for comparison and map keys: lower-case, without a trailing dot.
std::string normalize_name(std::string_view name);

/// Whether `name` is already in the form `normalize_name` gives: no ASCII upper-case letter and no trailing dot.
bool is_normalized_name(std::string_view name);

/// `name` normalized as by `normalize_name(name)`, without a copy when it is normalized already (the usual case on
/// hot paths): the result is `name` itself, or else a view of `storage`, which receives the normalized copy. The
/// result is valid while `name` and `storage` live unchanged.
std::string_view normalize_name(std::string_view name, std::string& storage);

/// `text` made safe to show on a terminal or in a one-line message: printable ASCII as is, everything else (control
/// bytes, NUL, bytes over 127) as `\xHH`, and a backslash as `\\`.
std::string escape_for_display(std::string_view text);

/// `text` made safe for a terminal without changing text that is safe already: control bytes (including ESC and
/// DEL) and bytes over 127 become `\xHH`; everything else, backslashes included, stays. Applying it twice, or to
/// text that went through `escape_for_display`, changes nothing.
std::string terminal_safe(std::string_view text);

} // namespace sendcheck::util
