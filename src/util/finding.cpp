#include <sendcheck/util/finding.hpp>

namespace sendcheck {

std::string_view
to_string(Severity severity)
{
  switch (severity) {
  case Severity::info:
    return "info";
  case Severity::warning:
    return "warning";
  case Severity::error:
    return "error";
  }
  return "?";
}

Severity
worst(const Findings& findings)
{
  Severity result = Severity::info;
  for (const auto& finding : findings) {
    if (finding.severity > result) {
      result = finding.severity;
    }
  }
  return result;
}

const Finding*
find_finding(const Findings& findings, std::string_view code)
{
  for (const auto& finding : findings) {
    if (finding.code == code) {
      return &finding;
    }
  }
  return nullptr;
}

} // namespace sendcheck
