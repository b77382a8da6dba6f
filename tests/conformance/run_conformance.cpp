// RFC 7208 conformance runner: evaluates every test of the openspf YAML suite (as kept in pyspf, see
// /work/shared/conformance/SOURCE.md) against its own scenario's zone data.
//
//   run_conformance SUITE.yml                     every test; exit 1 on any failure
//   run_conformance --compare-prefetch SUITE.yml  also evaluates each test with prefetch off and on (through a
//                                                 resolver that answers prefetched names from its own cache) and
//                                                 fails when results, explanations or counts differ
//   run_conformance --compare-memo SUITE.yml      also evaluates each test twice more with the trace off and a memo of
//                                                 sub-evaluations (spf::EvaluationMemo) shared by all tests of the
//                                                 scenario, and fails when any field but the trace differs
//   run_conformance --compare-shared SUITE.yml    also evaluates each test's address together with other addresses
//                                                 (spf::check_hosts; trace on, then trace off with the memo), first
//                                                 and last among them, and fails when any field of any address's
//                                                 evaluation, trace included, differs from check_host() alone
//   run_conformance --verbose SUITE.yml           also prints every passing test with its counts and reason

#include "../support/counting_resolver.hpp"
#include "../support/prefetch_recorder.hpp"
#include "evaluation_diff.hpp"
#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/evaluator.hpp>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace sendcheck;

namespace {

std::vector<std::string>
strings_of(const YAML::Node& node)
{
  std::vector<std::string> out;
  if (node.IsSequence()) {
    for (const auto& item : node) {
      out.push_back(item.as<std::string>());
    }
  } else if (node.IsScalar()) {
    out.push_back(node.as<std::string>());
  }
  return out;
}

/// Builds the scenario's zone (SOURCE.md: SPF copied to TXT unless the name has any TXT entry; TIMEOUT in order).
std::unique_ptr<dns::ZoneResolver>
build_zone(const YAML::Node& zonedata, std::vector<std::string>& problems)
{
  auto zone = std::make_unique<dns::ZoneResolver>("test data");
  if (!zonedata || !zonedata.IsMap()) {
    return zone;
  }
  for (const auto& entry : zonedata) {
    const auto name = entry.first.as<std::string>();
    const YAML::Node records = entry.second;
    bool has_txt = false;
    for (const auto& record : records) {
      if (record.IsMap() && record["TXT"]) {
        has_txt = true;
      }
    }
    for (const auto& record : records) {
      if (record.IsScalar()) {
        if (record.as<std::string>() == "TIMEOUT") {
          zone->add_failure(name, dns::Status::timeout);
        } else {
          problems.push_back(fmt::format("{}: unknown zone entry '{}'", name, record.as<std::string>()));
        }
        continue;
      }
      for (const auto& item : record) {
        const auto type = item.first.as<std::string>();
        const YAML::Node value = item.second;
        if (type == "SPF") {
          if (!has_txt) {
            zone->add_txt(name, strings_of(value));
          }
        } else if (type == "TXT") {
          if (value.IsScalar() && value.as<std::string>() == "NONE") {
            continue;
          }
          zone->add_txt(name, strings_of(value));
        } else if (type == "A" || type == "AAAA") {
          const auto address = dns::IpAddress::parse(value.as<std::string>());
          if (!address) {
            problems.push_back(fmt::format("{}: bad address '{}'", name, value.as<std::string>()));
            continue;
          }
          zone->add_address(name, *address);
        } else if (type == "MX") {
          zone->add_mx(name, static_cast<uint16_t>(value[0].as<unsigned>()), value[1].as<std::string>());
        } else if (type == "PTR") {
          zone->add_ptr(name, value.as<std::string>());
        } else if (type == "CNAME") {
          zone->add_cname(name, value.as<std::string>());
        } else {
          problems.push_back(fmt::format("{}: unknown record type '{}'", name, type));
        }
      }
    }
  }
  return zone;
}

constexpr const char* k_usage =
  "usage: run_conformance [--compare-prefetch] [--compare-memo] [--compare-shared] [--verbose] SUITE.yml\n";

/// Directo's addresses, an IPv6 and an IPv4-mapped one: companions for every test's address in --compare-shared.
const std::vector<std::string> k_companions = {"90.190.150.210", "90.190.150.211", "90.190.150.82",
                                               "2001:db8::1",    "::ffff:1.2.3.4"};

std::string
join(const std::vector<std::string>& items)
{
  std::string out;
  for (const auto& item : items) {
    out += out.empty() ? "" : "|";
    out += item;
  }
  return out;
}

} // namespace

int
main(int argc, char** argv)
{
  bool compare_prefetch = false;
  bool compare_memo = false;
  bool compare_shared = false;
  bool verbose = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--compare-prefetch") {
      compare_prefetch = true;
    } else if (arg == "--compare-memo") {
      compare_memo = true;
    } else if (arg == "--compare-shared") {
      compare_shared = true;
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (path.empty()) {
      path = arg;
    } else {
      std::fputs(k_usage, stderr);
      return 2;
    }
  }
  if (path.empty()) {
    std::fputs(k_usage, stderr);
    return 2;
  }

  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAllFromFile(path);
  } catch (const YAML::Exception& e) {
    std::fprintf(stderr, "run_conformance: cannot read %s: %s\n", path.c_str(), e.what());
    return 2;
  }

  size_t passed = 0;
  size_t failed = 0;
  size_t total_prefetches = 0;
  size_t total_hits = 0;
  spf::MemoStats memo_totals;
  size_t shared_queries = 0;
  size_t alone_queries = 0;
  for (const auto& scenario : documents) {
    const auto description = scenario["description"] ? scenario["description"].as<std::string>() : "?";
    std::vector<std::string> problems;
    const auto zone = build_zone(scenario["zonedata"], problems);
    // One memo for the scenario: every test (other senders, HELO names and addresses) sees the same zone.
    const auto memo = std::make_shared<spf::EvaluationMemo>();
    for (const auto& problem : problems) {
      std::printf("%s: zone data: %s\n", description.c_str(), problem.c_str());
    }
    // Every test address of the scenario, for --compare-shared: the ones its zone data tells apart.
    std::vector<dns::IpAddress> scenario_hosts;
    for (const auto& test_entry : scenario["tests"]) {
      if (const auto host = dns::IpAddress::parse(test_entry.second["host"].as<std::string>())) {
        if (std::find(scenario_hosts.begin(), scenario_hosts.end(), *host) == scenario_hosts.end()) {
          scenario_hosts.push_back(*host);
        }
      }
    }
    const auto shared_memo = std::make_shared<spf::EvaluationMemo>();
    for (const auto& test_entry : scenario["tests"]) {
      const auto name = test_entry.first.as<std::string>();
      const YAML::Node test = test_entry.second;
      const auto helo = test["helo"] ? test["helo"].as<std::string>() : std::string();
      const auto host = test["host"].as<std::string>();
      const auto mailfrom = test["mailfrom"] ? test["mailfrom"].as<std::string>() : std::string();
      const auto expected = strings_of(test["result"]);
      const std::optional<std::string> explanation =
        test["explanation"] ? std::optional(test["explanation"].as<std::string>()) : std::nullopt;

      const auto fail = [&](const std::string& why) {
        ++failed;
        std::printf("%s / %s: %s\n", description.c_str(), name.c_str(), why.c_str());
      };

      const auto ip = dns::IpAddress::parse(host);
      if (!ip) {
        fail(fmt::format("expected {} got no result (bad host address '{}')", join(expected), host));
        continue;
      }
      spf::Options options;
      options.helo = helo;
      options.default_explanation = "DEFAULT";
      options.receiver = "receiver.example.net";
      options.timestamp = 1700000000;
      options.prefetch = compare_prefetch ? spf::Prefetch::off : spf::Prefetch::on;
      const auto domain = spf::split_sender(mailfrom, helo).domain;

      spf::Evaluation evaluation;
      try {
        evaluation = dns::run_sync(*zone, spf::check_host(*zone, *ip, domain, mailfrom, options));
      } catch (const std::exception& e) {
        fail(fmt::format("expected {} got an exception: {}", join(expected), e.what()));
        continue;
      }
      const std::string got(spf::to_string(evaluation.result));
      const auto details = [&]() {
        std::string out = fmt::format("terms {}, void {}", evaluation.dns_terms, evaluation.void_lookups);
        if (!evaluation.reason.empty()) {
          out += fmt::format(", {}: {}", evaluation.error_code, evaluation.reason);
        }
        if (evaluation.deciding_term) {
          out += fmt::format(", decided by '{}' in {}", evaluation.deciding_term->text, evaluation.deciding_domain);
        }
        return out;
      };
      if (std::find(expected.begin(), expected.end(), got) == expected.end()) {
        fail(fmt::format("expected {} got {} ({})", join(expected), got, details()));
        continue;
      }
      if (explanation && evaluation.explanation != *explanation) {
        fail(fmt::format("expected {} with explanation '{}' got {} with explanation '{}' ({})", join(expected),
                         *explanation, got, evaluation.explanation, details()));
        continue;
      }
      if (compare_prefetch) {
        test::PrefetchRecorder recorder(*zone);
        options.prefetch = spf::Prefetch::on;
        spf::Evaluation with;
        try {
          with = dns::run_sync(recorder, spf::check_host(recorder, *ip, domain, mailfrom, options));
        } catch (const std::exception& e) {
          fail(fmt::format("prefetch on: exception: {}", e.what()));
          continue;
        }
        total_prefetches += recorder.prefetches();
        total_hits += recorder.hits();
        if (with.result != evaluation.result || with.explanation != evaluation.explanation
            || with.dns_terms != evaluation.dns_terms || with.void_lookups != evaluation.void_lookups
            || with.error_code != evaluation.error_code || with.trace.size() != evaluation.trace.size()) {
          fail(fmt::format("prefetch changed the outcome: off {} '{}' terms {} void {} trace {}; on {} '{}' terms {} "
                           "void {} trace {}",
                           got, evaluation.explanation, evaluation.dns_terms, evaluation.void_lookups,
                           evaluation.trace.size(), spf::to_string(with.result), with.explanation, with.dns_terms,
                           with.void_lookups, with.trace.size()));
          continue;
        }
      }
      if (compare_memo) {
        spf::Options memo_options = options;
        memo_options.trace = spf::Trace::off;
        memo_options.memo = memo;
        std::string difference;
        for (int round = 1; round <= 2 && difference.empty(); ++round) {
          try {
            const auto with = dns::run_sync(*zone, spf::check_host(*zone, *ip, domain, mailfrom, memo_options));
            difference = test::evaluation_difference(evaluation, with);
            if (!difference.empty()) {
              difference = fmt::format("round {}: {}", round, difference);
            }
          } catch (const std::exception& e) {
            difference = fmt::format("round {}: exception: {}", round, e.what());
          }
        }
        if (!difference.empty()) {
          fail(fmt::format("the memo changed the outcome ({})", difference));
          continue;
        }
      }
      if (compare_shared) {
        // The test's address first among the others, then last; with the trace, then without it and with a memo.
        std::vector<dns::IpAddress> addresses{*ip};
        for (const auto& other : scenario_hosts) {
          if (other != *ip) {
            addresses.push_back(other);
          }
        }
        for (const auto& text : k_companions) {
          addresses.push_back(*dns::IpAddress::parse(text));
        }
        std::string difference;
        for (int round = 0; round < 4 && difference.empty(); ++round) {
          if (round == 2) {
            std::rotate(addresses.begin(), addresses.begin() + 1, addresses.end());
          }
          spf::Options shared_options = options;
          shared_options.prefetch = spf::Prefetch::on;
          if (round % 2 == 1) {
            shared_options.trace = spf::Trace::off;
            shared_options.memo = shared_memo;
          }
          try {
            test::CountingResolver shared_counter(*zone);
            const auto shared = dns::run_sync(
              shared_counter, spf::check_hosts(shared_counter, addresses, domain, mailfrom, shared_options));
            shared_queries += shared_counter.queries();
            for (size_t i = 0; i < addresses.size() && difference.empty(); ++i) {
              test::CountingResolver alone_counter(*zone);
              const auto alone = dns::run_sync(
                alone_counter, spf::check_host(alone_counter, addresses[i], domain, mailfrom, shared_options));
              alone_queries += alone_counter.queries();
              difference = test::evaluation_difference(alone, *shared[i]);
              if (difference.empty()) {
                difference = test::trace_difference(alone, *shared[i]);
              }
              if (!difference.empty()) {
                difference = fmt::format("round {}, {}: {}", round, addresses[i].to_string(), difference);
              }
            }
          } catch (const std::exception& e) {
            difference = fmt::format("round {}: exception: {}", round, e.what());
          }
        }
        if (!difference.empty()) {
          fail(fmt::format("check_hosts() differs from check_host() ({})", difference));
          continue;
        }
      }
      if (verbose) {
        std::printf("ok %s / %s: %s (%s)\n", description.c_str(), name.c_str(), got.c_str(), details().c_str());
      }
      ++passed;
    }
    const auto stats = memo->stats();
    memo_totals.hits += stats.hits;
    memo_totals.misses += stats.misses;
    memo_totals.near_limit += stats.near_limit;
    memo_totals.stored += stats.stored;
    memo_totals.not_stored += stats.not_stored;
  }
  if (compare_prefetch) {
    std::printf("prefetch: %zu hints, %zu answers served from prefetched data\n", total_prefetches, total_hits);
    if (total_prefetches == 0 || total_hits == 0) {
      std::printf("prefetch comparison is meaningless: no prefetch was made or used\n");
      ++failed;
    }
  }
  if (compare_memo) {
    std::printf("memo: %zu hits, %zu misses, %zu near a limit, %zu stored, %zu not storable\n", memo_totals.hits,
                memo_totals.misses, memo_totals.near_limit, memo_totals.stored, memo_totals.not_stored);
    if (memo_totals.hits == 0 || memo_totals.not_stored == 0) {
      std::printf("memo comparison is meaningless: no hit, or nothing left unstored\n");
      ++failed;
    }
  }
  if (compare_shared) {
    std::printf("shared: %zu queries for check_hosts(), %zu for check_host() address by address\n", shared_queries,
                alone_queries);
    if (shared_queries >= alone_queries) {
      std::printf("shared comparison is meaningless: no evaluation was shared\n");
      ++failed;
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
