#pragma once

#include <sendcheck/util/result.hpp>

#include <string>
#include <string_view>

namespace sendcheck::cli {

/// A domain as given on the command line, validated and converted for DNS.
struct DomainInput
{
  std::string ascii;   ///< The name to look up: lower-case, A-labels (xn--...), no trailing dot.
  std::string unicode; ///< The name as a person reads it (U-labels); equal to `ascii` for plain ASCII names.
  std::string note;    ///< Non-empty when the input was adjusted ("checking example.ee, the domain of user@...").
};

/// Validates `input` as a domain to check and converts an internationalized name with libidn2 (IDNA 2008, with the
/// UTS#46 mapping). Accepts `user@domain` (checking the domain, with a note) and one trailing dot. Refuses, with a
/// message naming the problem and what to type instead: URLs, spaces, empty labels, labels over 63 octets, names
/// over 253, characters not allowed in host names, and single-label names.
util::Result<DomainInput, std::string> parse_domain_input(std::string_view input);

} // namespace sendcheck::cli
