#pragma once

#include <sendcheck/cli/options.hpp>
#include <sendcheck/cli/resolver_stack.hpp>

#include <memory>
#include <vector>

namespace sendcheck::cli {

/// The most worker threads `--jobs` picks by itself (one per CPU up to this).
inline constexpr unsigned k_max_auto_jobs = 4;

/// How many workers check the domains: `--jobs N`, or by default one for a single domain and one per CPU (at most
/// k_max_auto_jobs) for several; never more than `--concurrency`.
unsigned worker_count(const Options& options);

/// Checks every domain of `options` (arguments, then `-f` lines) with at most `options.concurrency` in flight,
/// writes the reports in input order (text, JSON or suggestions) and returns the exit code. Each stack is one
/// worker's: with several, each worker runs on a thread of its own with its own caches, and the output is the same
/// as with one.
int run_checks(const Options& options, const std::vector<std::unique_ptr<ResolverStack>>& stacks);

} // namespace sendcheck::cli
