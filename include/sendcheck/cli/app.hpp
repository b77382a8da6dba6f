#pragma once

namespace sendcheck::cli {

/// Exit codes of the sendcheck command (documented in README.md, --help and the man page).
enum class ExitCode : int {
  ok = 0,             ///< Every domain is good for the sender.
  problem = 1,        ///< A problem was found (or no correct record can be suggested).
  usage = 2,          ///< Bad command line or unreadable input file.
  dns_unavailable = 3 ///< DNS could not answer (temperror) and nothing worse was found.
};

/// The whole command: parses `argv`, runs the checks, writes the reports; returns the process exit code.
int tool_main(int argc, char** argv);

} // namespace sendcheck::cli
