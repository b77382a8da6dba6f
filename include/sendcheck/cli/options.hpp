#pragma once

#include <sendcheck/report/check_set.hpp>
#include <sendcheck/util/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sendcheck {
struct SenderProfile;
} // namespace sendcheck

namespace sendcheck::cli {

/// When to colour the text report.
enum class ColorMode : uint8_t { automatic, always, never };

/// How `--json` lays the document out.
enum class JsonForm : uint8_t {
  automatic, ///< Indented on a terminal, one line per domain otherwise.
  indented,  ///< --json=indented
  lines,     ///< --json=lines
};

/// What `--suggest` prints.
enum class SuggestMode : uint8_t { off, record, zone };

/// Which form of Directo's terms `--suggest` uses.
enum class IpStyle : uint8_t { automatic, host, ip4 };

/// Everything the command line says, validated.
struct Options
{
  std::vector<std::string> domains;  ///< As given (validated later, one by one).
  std::string domain_file;           ///< -f FILE, "-" for standard input; empty when not given.

  bool json = false;
  JsonForm json_form = JsonForm::automatic; ///< --json[=FORM]
  SuggestMode suggest = SuggestMode::off;
  IpStyle ip_style = IpStyle::automatic;
  ColorMode color = ColorMode::automatic;
  bool quiet = false;
  bool verbose = false;

  std::vector<std::string> servers;  ///< --server IP[:PORT], in order.
  std::vector<std::string> zones;    ///< --zone FILE, in order.
  bool offline = false;
  std::vector<std::string> records;  ///< --record 'v=spf1 ...' (candidate SPF records, as if published).
  std::string selector;              ///< --selector NAME; empty means the profile's.
  std::string dkim_reference;        ///< --dkim-reference NAME; empty means the profile's.
  bool no_bulk = false;
  report::CheckSet checks;           ///< --only: the checks to run (all by default).

  std::string profile_file;          ///< --profile FILE; empty means the built-in profile.
  std::shared_ptr<const SenderProfile> profile; ///< The profile in effect, set by run_profile_modes (cli/allowlist.hpp).
  bool show_profile = false;         ///< --show-profile.
  bool allowlist = false;            ///< --allowlist.
  std::string allowlist_format;      ///< --format plain|cidr|postfix|nftables|json; empty: plain (json with --json).
  bool allowlist_check = false;      ///< --allowlist --check.

  unsigned concurrency = 64;
  unsigned jobs = 0;                 ///< --jobs N: worker threads; 0 means chosen by worker_count (cli/run.hpp).
  unsigned timeout_ms = 3000;
  unsigned tries = 2;
};

/// How parsing ended when it did not produce options to run with.
struct ParseExit
{
  int exit_code = 0;   ///< 0 after --help / --version, 2 for a usage error.
  std::string output;  ///< What to print: help or version on stdout (code 0), the error on stderr (code 2).
};

/// Parses the command line with CLI11. Returns the options, or what to print and the exit code.
util::Result<Options, ParseExit> parse_options(int argc, const char* const* argv);

/// The `--help` text (80 columns, options grouped, examples, exit codes).
std::string help_text();

/// The `--version` text: sendcheck's version and those of the libraries in use.
std::string version_text();

} // namespace sendcheck::cli
