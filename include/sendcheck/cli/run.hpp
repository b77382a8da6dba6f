#pragma once

#include <sendcheck/cli/options.hpp>
#include <sendcheck/cli/resolver_stack.hpp>

#include <memory>
#include <vector>

namespace sendcheck::cli {

/// The most worker threads `--jobs` picks by itself (one per CPU up to this).
inline constexpr unsigned k_max_auto_jobs = 4;

/// How many workers check the domains: `--jobs N`, or by default one for a single domain and for several one per CPU
/// (at most k_max_auto_jobs), less one when `server_on_this_machine` (every DNS server is a loopback address: it
/// needs a CPU to answer, and on two CPUs one worker with the server beside it checked 10,000 domains a quarter faster
/// than two workers competing with it); never more than `--concurrency`.
unsigned worker_count(const Options& options, bool server_on_this_machine = false);

/// Whether the run checks several domains (`-f`, or more than one argument).
bool several_domains(const Options& options);

/// Whether every DNS server the run asks is on this machine (`--server`, else /etc/resolv.conf; never offline).
bool dns_server_on_this_machine(const Options& options);

/// Checks every domain of `options` (arguments, then `-f` lines) with at most `options.concurrency` in flight,
/// writes the reports in input order (text, JSON or suggestions) and returns the exit code. Each stack is one
/// worker's: with several, each worker runs on a thread of its own with its own caches, and the output is the same
/// as with one.
int run_checks(const Options& options, const std::vector<std::unique_ptr<ResolverStack>>& stacks);

} // namespace sendcheck::cli
