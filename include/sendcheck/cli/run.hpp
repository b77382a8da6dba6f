#pragma once

#include <sendcheck/cli/options.hpp>
#include <sendcheck/cli/resolver_stack.hpp>

namespace sendcheck::cli {

/// Checks every domain of `options` (arguments, then `-f` lines) with at most `options.concurrency` in flight,
/// writes the reports in input order (text, JSON or suggestions) and returns the exit code.
int run_checks(const Options& options, ResolverStack& stack);

} // namespace sendcheck::cli
