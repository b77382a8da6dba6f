#include <sendcheck/cli/options.hpp>
#include <sendcheck/cli/run.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <string>
#include <vector>

using namespace sendcheck::cli;

namespace {

/// Parses `args` (without the program name); returns the options or what would be printed and the exit code.
sendcheck::util::Result<Options, ParseExit>
parse(std::vector<std::string> args)
{
  args.insert(args.begin(), "sendcheck");
  std::vector<const char*> argv;
  for (const auto& arg : args) {
    argv.push_back(arg.c_str());
  }
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

/// Every `--long-option` named in `text`.
std::set<std::string>
long_options_in(const std::string& text)
{
  std::set<std::string> names;
  for (size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
    size_t end = at + 2;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '-')) {
      ++end;
    }
    if (end > at + 2) {
      names.insert(text.substr(at, end - at));
    }
  }
  return names;
}

} // namespace

TEST_CASE("cli::help_text")
{
  const auto help = help_text();
  SUBCASE("fits 80 columns")
  {
    size_t start = 0;
    while (start < help.size()) {
      const auto end = help.find('\n', start);
      const auto line = help.substr(start, end == std::string::npos ? std::string::npos : end - start);
      CHECK_MESSAGE(line.size() <= 80, line);
      start = end == std::string::npos ? help.size() : end + 1;
    }
  }
  SUBCASE("every option it names exists")
  {
    const auto unknown = parse({"--no-such-option", "example.ee"});
    REQUIRE_FALSE(unknown);
    REQUIRE(unknown.error().output.find("not expected") != std::string::npos);
    for (const auto& name : long_options_in(help)) {
      const auto result = parse({name, "example.ee"});
      if (!result) {
        CHECK_MESSAGE(result.error().output.find("not expected") == std::string::npos, name, ": ",
                      result.error().output);
      }
    }
  }
  SUBCASE("-h and --help print it")
  {
    CHECK(parse({"-h"}).error().output == help);
    CHECK(parse({"--help"}).error().output == help);
  }
}

TEST_CASE("cli::parse_options")
{
  SUBCASE("values")
  {
    const auto options = parse({"--json", "--suggest=zone", "--server", "127.0.0.1:5353", "--server", "[::1]:53",
                                "--zone", "a.zone", "--timeout", "500", "example.ee", "other.ee"});
    // --zone checks that the file exists, so this one fails on the zone only.
    REQUIRE_FALSE(options);
    CHECK(options.error().exit_code == 2);
    CHECK(options.error().output.find("--zone") != std::string::npos);

    const auto good = parse({"--json", "--suggest=zone", "--server", "127.0.0.1:5353", "--server", "[::1]:53",
                             "--timeout", "500", "--no-bulk", "example.ee", "other.ee"});
    REQUIRE(good);
    CHECK(good->json);
    CHECK(good->json_form == JsonForm::automatic);
    CHECK(good->suggest == SuggestMode::zone);
    CHECK(good->servers == std::vector<std::string>{"127.0.0.1:5353", "[::1]:53"});
    CHECK(good->timeout_ms == 500);
    CHECK(good->no_bulk);
    CHECK(good->domains == std::vector<std::string>{"example.ee", "other.ee"});
  }
  SUBCASE("--suggest without a value does not eat the domain")
  {
    const auto options = parse({"--suggest", "example.ee"});
    REQUIRE(options);
    CHECK(options->suggest == SuggestMode::record);
    CHECK(options->domains == std::vector<std::string>{"example.ee"});
  }
  SUBCASE("--only: SPF always, DKIM and DMARC when named")
  {
    const auto all = parse({"example.ee"});
    REQUIRE(all);
    CHECK(all->checks.all());
    const auto spf = parse({"--only", "spf", "example.ee"});
    REQUIRE(spf);
    CHECK_FALSE(spf->checks.dkim);
    CHECK_FALSE(spf->checks.dmarc);
    CHECK(sendcheck::report::check_names(spf->checks) == std::vector<std::string_view>{"spf"});
    const auto two = parse({"--only", "SPF, dmarc", "example.ee"});
    REQUIRE(two);
    CHECK_FALSE(two->checks.dkim);
    CHECK(two->checks.dmarc);
    const auto repeated = parse({"--only", "dkim", "--only", "spf", "example.ee"});
    REQUIRE(repeated);
    CHECK(sendcheck::report::check_names(repeated->checks) == std::vector<std::string_view>{"spf", "dkim"});
    CHECK(repeated->domains == std::vector<std::string>{"example.ee"});
  }
  SUBCASE("usage errors name the argument and exit 2")
  {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--timeout", "soon", "example.ee"}, "--timeout"},
      {{"--timeout", "0", "example.ee"}, "--timeout"},
      {{"--tries", "-1", "example.ee"}, "--tries"},
      {{"--concurrency", "0", "example.ee"}, "--concurrency"},
      {{"--jobs", "0", "example.ee"}, "--jobs"},
      {{"-j", "65", "example.ee"}, "--jobs"},
      {{"--jobs", "two", "example.ee"}, "--jobs"},
      {{"--color", "pink", "example.ee"}, "--color"},
      {{"--ip-style", "cname", "example.ee"}, "--ip-style"},
      {{"--suggest=html", "example.ee"}, "--suggest"},
      {{"--server", "1.2.3", "example.ee"}, "not an IP address"},
      {{"--server", "[::1", "example.ee"}, "missing ']'"},
      {{"--server", "127.0.0.1:99999", "example.ee"}, "not a port number"},
      {{"--unknown", "example.ee"}, "--unknown"},
      {{"--selector", "bad\x1bsel", "example.ee"}, "'bad\\x1Bsel' is not a valid DKIM selector"},
      {{"--selector", "a b", "example.ee"}, "--selector"},
      {{"--only", "dkim,dmarc", "example.ee"}, "--only: the verdict needs the SPF check"},
      {{"--only", "spf,dnssec", "example.ee"}, "--only: 'dnssec' is not a check; the checks are spf, dkim and dmarc"},
      {{"--only", "spf,", "example.ee"}, "--only: the list has an empty name"},
      {{"--only"}, "--only"},
      {{}, "no domain given"},
    };
    for (const auto& [args, fragment] : cases) {
      const auto result = parse(args);
      REQUIRE_FALSE(result);
      CHECK(result.error().exit_code == 2);
      CHECK_MESSAGE(result.error().output.find(fragment) != std::string::npos, result.error().output);
    }
  }
}

TEST_CASE("cli::parse_options --json[=FORM]")
{
  const auto indented = parse({"--json=indented", "example.ee"});
  REQUIRE(indented);
  CHECK(indented->json);
  CHECK(indented->json_form == JsonForm::indented);
  const auto lines = parse({"--json=lines", "example.ee"});
  REQUIRE(lines);
  CHECK(lines->json);
  CHECK(lines->json_form == JsonForm::lines);
  const auto none = parse({"example.ee"});
  REQUIRE(none);
  CHECK_FALSE(none->json);
  const auto bad = parse({"--json=pretty", "example.ee"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().exit_code == 2);
  CHECK(bad.error().output.find("--json: pretty not in {auto,indented,lines}") != std::string::npos);
}

TEST_CASE("cli::worker_count")
{
  const unsigned cpus = std::clamp(std::thread::hardware_concurrency(), 1U, k_max_auto_jobs);
  SUBCASE("one domain gets one worker, several get one per CPU (at most k_max_auto_jobs)")
  {
    CHECK(worker_count(*parse({"example.ee"})) == 1);
    CHECK(worker_count(*parse({"example.ee", "other.ee"})) == cpus);
    CHECK(worker_count(*parse({"-f", "-"})) == cpus);
  }
  SUBCASE("--jobs is taken as given, but never above --concurrency")
  {
    const auto options = parse({"-j", "3", "example.ee"});
    REQUIRE(options);
    CHECK(options->jobs == 3);
    CHECK(worker_count(*options) == 3);
    CHECK(worker_count(*parse({"--jobs", "8", "--concurrency", "2", "-f", "-"})) == 2);
    CHECK(worker_count(*parse({"--jobs", "1", "a.ee", "b.ee"})) == 1);
  }
}
