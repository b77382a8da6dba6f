#pragma once

#include <sendcheck/util/finding.hpp>

#include <string>
#include <string_view>

// Test support: reading findings in assertions.

namespace sendcheck::test {

/// The codes of `findings`, comma-separated (readable in doctest's failure output).
inline std::string
codes_of(const Findings& findings)
{
  std::string out;
  for (const auto& f : findings) {
    out += (out.empty() ? "" : ",") + f.code;
  }
  return out;
}

/// The first finding with `code`, or nullptr.
inline const Finding*
find_code(const Findings& findings, std::string_view code)
{
  return find_finding(findings, code);
}

} // namespace sendcheck::test
