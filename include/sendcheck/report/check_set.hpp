#pragma once

#include <string>
#include <string_view>
#include <vector>

// Which of the three checks a run does (`--only`). SPF is always among them: the verdict (will the sender's mail be
// delivered?) is decided by SPF first, so `--only` can leave out DKIM and DMARC but not SPF.

namespace sendcheck::report {

/// The checks to run for each domain.
struct CheckSet
{
  bool dkim = true;  ///< Look up and check the DKIM key.
  bool dmarc = true; ///< Look up and check the DMARC policy.

  /// Whether every check runs (the default).
  bool all() const { return dkim && dmarc; }
};

/// The names of the checks in `checks`, in report order: "spf", then "dkim" and "dmarc" when they run.
std::vector<std::string_view> check_names(const CheckSet& checks);

/// Parses the `--only` values ("spf", "dkim", "dmarc"; each value may be a comma-separated list). Returns an empty
/// string and sets `checks`, or says in one sentence what is wrong.
std::string parse_check_names(const std::vector<std::string>& values, CheckSet& checks);

} // namespace sendcheck::report
