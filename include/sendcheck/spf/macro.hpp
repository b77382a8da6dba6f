#pragma once

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/util/result.hpp>
#include <sendcheck/util/task.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// SPF macros (RFC 7208 §7): parsing a macro-string into tokens and expanding it for one check_host() context.

namespace sendcheck::spf {

/// Where a macro-string stands, which decides the letters it may use (RFC 7208 §7.2, §7.3).
enum class MacroUse : uint8_t {
  domain_spec, ///< A mechanism's or redirect='s domain-spec (or an unknown modifier's value): c, r, t not allowed.
  explanation, ///< The TXT text fetched for exp=: every letter allowed, and spaces are literal.
};

/// One piece of a parsed macro-string.
struct MacroToken
{
  /// Literal text or a macro.
  enum class Kind : uint8_t { literal, macro };

  Kind kind = Kind::literal;
  /// For literal: the text, with `%%`, `%_` and `%-` already turned into `%`, ` ` and `%20`.
  std::string literal;
  /// For macro: the letter, lower-case (s l o d i p h c r t v).
  char letter = 0;
  /// For macro: whether the letter was written upper-case, which asks for URL-escaping of the value (§7.3).
  bool url_escape = false;
  /// For macro: how many right-hand parts to keep (the digits transformer); 0 means all.
  unsigned digits = 0;
  /// For macro: the `r` transformer (reverse the parts).
  bool reverse = false;
  /// For macro: the delimiter characters written (subset of `.-+,/_=`); empty means `.`.
  std::string delimiters;
  /// Byte offset of the token within the macro-string.
  size_t offset = 0;
};

/// What a domain-spec without macros names, the same in every check_host() context.
struct FixedTarget
{
  std::string name;       ///< What `expand` gives (trailing dot dropped, truncated as RFC 7208 §7.3 says).
  bool queryable = false; ///< Whether a resolver can be asked for it (is_queryable).
};

/// A macro-string as written, with its tokens.
struct MacroString
{
  /// The text as written in the record.
  std::string text;
  /// The tokens, in order.
  std::vector<MacroToken> tokens;
  /// For a domain-spec without macros, set by parse_macro_string: its expansion, made once. A provider's include: is
  /// evaluated for every domain that includes it, so its target is not expanded and checked again each time. Absent
  /// otherwise (and in a MacroString built by hand): then the evaluator expands the tokens.
  std::optional<FixedTarget> fixed_target;

  /// Whether any token is a macro (so the string can only be known for a given check_host() context).
  bool has_macros() const;
  /// Whether any token uses the `p` letter (so expansion needs a validated PTR lookup first).
  bool uses_ptr() const;
};

/// Why a macro-string is invalid or could not be expanded.
struct MacroError
{
  /// Byte offset within the macro-string.
  size_t offset = 0;
  /// Plain English: "'%{x}' is not a macro letter", "'%' must be followed by '{', '%', '_' or '-'", ...
  std::string message;
};

/// Whether `name` can be sent as a DNS question: no empty label (other than a trailing one), labels of at most 63
/// octets, at most 253 octets in all, and only printable ASCII other than a backslash (what a resolver can ask; a
/// macro-expanded local-part with a control byte must give "no match", not a temperror). Spaces and '%' can be
/// asked (the RFC 7208 suite's macro-mania-in-domain).
bool is_queryable(std::string_view name);

/// The name a domain-spec without macros names in every context: its `fixed_target` (made by the parser), or, for a
/// MacroString built by hand, its tokens expanded now.
std::string fixed_expansion(const MacroString& spec);

/// Parses `text` as a macro-string (RFC 7208 §7.1) for the given `use`. Outside exp text the letters c, r and t are
/// errors, and so are characters outside the visible ASCII range.
util::Result<MacroString, MacroError> parse_macro_string(std::string_view text, MacroUse use);

/// Everything a macro can refer to during one check_host() (RFC 7208 §7.3).
struct MacroContext
{
  std::string sender_local;  ///< `l`: the local-part of the sender ("postmaster" when there is none).
  std::string sender_domain; ///< `o`: the domain of the sender.
  std::string domain;        ///< `d`: the current domain (changes on include and redirect).
  dns::IpAddress ip;         ///< `i`, `c`, `v`: the client's address.
  std::string helo;          ///< `h`: the HELO/EHLO name.
  std::string receiver;      ///< `r`: the receiving host's name ("unknown" when not set).
  uint64_t timestamp = 0;    ///< `t`: seconds since the epoch.
  /// `p`: the validated domain name of the client (see `validated_ptr_name`); "unknown" when absent.
  std::optional<std::string> validated_name;
};

/// Expands `macro` for `context` (RFC 7208 §7.3, §7.4): transformers, delimiters, URL-escaping of upper-case
/// letters. For `MacroUse::domain_spec` the result is truncated from the left to 253 octets at a label boundary
/// (§4.8, §7.3) and a trailing dot is removed. The `p` letter uses `context.validated_name` ("unknown" if unset);
/// look it up with `validated_ptr_name` first when `macro.uses_ptr()`.
std::string expand(const MacroString& macro, const MacroContext& context, MacroUse use);

/// Removes whole labels from the left of `name` until it is at most 253 octets (RFC 7208 §4.8, §7.3).
std::string truncate_domain(std::string name);

/// The value of the `p` macro (RFC 7208 §7.3, §5.5): the first name among the client address's PTR names (at most
/// `max_names` of them are tried) whose A/AAAA records include the address, preferring `domain` itself, then a
/// subdomain of it, then any; "unknown" when none is validated or DNS fails. The lookups are not counted toward any
/// limit.
util::Task<std::string> validated_ptr_name(dns::Resolver& resolver, dns::IpAddress ip, std::string domain,
                                           unsigned max_names);

} // namespace sendcheck::spf
