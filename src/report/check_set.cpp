#include <sendcheck/report/check_set.hpp>
#include <sendcheck/util/strings.hpp>

#include <fmt/format.h>

namespace sendcheck::report {

std::vector<std::string_view>
check_names(const CheckSet& checks)
{
  std::vector<std::string_view> names{"spf"};
  if (checks.dkim) {
    names.emplace_back("dkim");
  }
  if (checks.dmarc) {
    names.emplace_back("dmarc");
  }
  return names;
}

std::string
parse_check_names(const std::vector<std::string>& values, CheckSet& checks)
{
  CheckSet chosen{false, false};
  bool spf = false;
  for (const auto& value : values) {
    for (const auto& part : util::split(value, ',')) {
      const std::string name = util::to_lower(util::trim(part));
      if (name == "spf") {
        spf = true;
      } else if (name == "dkim") {
        chosen.dkim = true;
      } else if (name == "dmarc") {
        chosen.dmarc = true;
      } else if (name.empty()) {
        return "the list has an empty name (a stray comma?); give a comma-separated list of spf, dkim and dmarc";
      } else {
        return fmt::format("'{}' is not a check; the checks are spf, dkim and dmarc",
                           util::escape_for_display(name));
      }
    }
  }
  if (!spf) {
    return "the verdict needs the SPF check, so the list must include spf (for example --only spf,dmarc)";
  }
  checks = chosen;
  return {};
}

} // namespace sendcheck::report
