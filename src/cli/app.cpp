#include <sendcheck/cli/app.hpp>

#include <sendcheck/cli/allowlist.hpp>
#include <sendcheck/cli/domain_input.hpp>
#include <sendcheck/cli/options.hpp>
#include <sendcheck/cli/resolver_stack.hpp>
#include <sendcheck/cli/run.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <vector>

namespace sendcheck::cli {

namespace {

int
run_checked(int argc, char** argv)
{
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::fputs(parsed.error().output.c_str(), parsed.error().exit_code == 0 ? stdout : stderr);
    return parsed.error().exit_code;
  }
  Options& options = *parsed;

  // --profile FILE is loaded here; --show-profile and --allowlist need no domain and end the run.
  if (const auto done = run_profile_modes(options)) {
    return *done;
  }

  // Every domain on the command line is validated before anything is looked up: a typo is a usage error.
  for (const auto& domain : options.domains) {
    if (auto checked = parse_domain_input(domain); !checked) {
      std::fputs(fmt::format("sendcheck: {}\n", checked.error()).c_str(), stderr);
      return static_cast<int>(ExitCode::usage);
    }
  }

  // One resolver stack (c-ares channel, caches, zone files) per worker thread: nothing is shared between threads.
  std::vector<std::unique_ptr<ResolverStack>> stacks;
  const unsigned workers = worker_count(options);
  for (unsigned worker = 0; worker < workers; ++worker) {
    auto stack = build_resolver_stack(options, workers);
    if (!stack) {
      std::fputs(fmt::format("sendcheck: {}\n", stack.error()).c_str(), stderr);
      return static_cast<int>(ExitCode::usage);
    }
    stacks.push_back(std::move(*stack));
  }
  return run_checks(options, stacks);
}

} // namespace

int
tool_main(int argc, char** argv)
{
  // A closed pipe (`sendcheck -f big.txt | head -1`) shows up as a failed write, handled where output is written.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run_checked(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("sendcheck: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fputs(fmt::format("sendcheck: internal error: {}\n", e.what()).c_str(), stderr);
  }
  return static_cast<int>(ExitCode::problem);
}

} // namespace sendcheck::cli
