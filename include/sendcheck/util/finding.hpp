#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sendcheck {

/// How much a finding matters.
enum class Severity : uint8_t {
  info,    ///< Worth knowing; nothing to fix.
  warning, ///< Works today but is fragile or risky; fixing is advised.
  error,   ///< Mail is or may be refused or sent to spam; must be fixed.
};

/// "info", "warning" or "error".
std::string_view to_string(Severity severity);

/// One observation made by a check. Checks produce findings; renderers only format them.
///
/// `code` is stable: once published, a code never changes meaning (`spf.directo_missing`, `spf.multiple_records`,
/// `dkim.key_mismatch`, ...). Tools and CI pipelines match on it.
struct Finding
{
  std::string code;     ///< Stable, dotted: "<area>.<what>".
  Severity severity = Severity::info;
  std::string message;  ///< One plain sentence saying what is wrong, for an office admin.
  std::string fix;      ///< What to do about it, with the exact DNS value where there is one; may be empty.
  std::string detail;   ///< Optional technical detail (the term, the RFC section, the server that failed).
};

using Findings = std::vector<Finding>;

/// The highest severity among `findings`, or info when there are none.
Severity worst(const Findings& findings);

/// The first finding with `code`, or nullptr.
const Finding* find_finding(const Findings& findings, std::string_view code);

/// Whether a finding with `code` is among `findings`.
inline bool
has_finding(const Findings& findings, std::string_view code)
{
  return find_finding(findings, code) != nullptr;
}

} // namespace sendcheck
