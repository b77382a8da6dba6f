#include <sendcheck/cli/options.hpp>

#include <sendcheck/dns/cares_resolver.hpp>
#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/util/strings.hpp>
#include <sendcheck/version.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <map>

namespace sendcheck::cli {

namespace {

/// The help text, written by hand to fit 80 columns with the options grouped (CLI11's generated help does not);
/// a unit test checks that every option CLI11 knows is described here.
constexpr const char* k_help = R"(Usage: sendcheck [OPTIONS] DOMAIN...
       sendcheck [OPTIONS] -f FILE
       sendcheck --allowlist [--format FORMAT] [--check]

Will mail that Directo sends in your domain's name be accepted? Checks SPF for
each of Directo's sending addresses, the DKIM key and the DMARC policy; with
--suggest, prints the one SPF record to publish.

Output:
  --suggest[=zone]     print only the SPF record to publish (=zone: as a zone
                       file line); the reasons go to standard error
  --json[=FORM]        one JSON document for the run (docs/json-schema.md);
                       FORM: indented, or lines (one line per domain);
                       default: indented on a terminal, else lines
  -q, --quiet          only the verdict line (with --suggest: only the record)
  -v, --verbose        also the full SPF evaluation trace, and every note
  --color WHEN         auto (default), always or never; NO_COLOR is honoured

Checks:
  --record TXT         check this SPF record as if it were published
  --no-bulk            leave out the bulk-mail address (90.190.150.82)
  --only LIST          run only these checks: spf (always), dkim, dmarc;
                       e.g. --only spf for SPF alone
  --ip-style STYLE     Directo's terms in a suggestion: auto, a or ip4
  --selector NAME      DKIM selector (default: directo)
  --dkim-reference DOMAIN
                       where Directo's own DKIM key is published
                       (default: directo.ee)

Input:
  -f, --file FILE      read domains from FILE, one a line ('#' starts a
                       comment); '-' reads standard input

DNS:
  --server IP[:PORT]   DNS server to ask (repeatable; IPv6 as [::1]:5353);
                       default: the system's resolvers (/etc/resolv.conf)
  --zone FILE          answer names inside this zone file from it (repeatable)
  --offline            use no network: only --zone files and --record
  --timeout MS         time to wait for one DNS answer (default 3000)
  --tries N            tries per DNS query (default 2)
  --concurrency N      domains checked at once (default 64)
  -j, --jobs N         threads checking domains (default: one per CPU, at most
                       4, when several domains are checked; else 1)

Sender profile:
  --profile FILE       read the sender's facts from a JSON file
  --show-profile       print the sender profile in effect, then exit
  --allowlist          print the addresses an SMTP server must accept, then exit
  --format FORMAT      with --allowlist: plain, cidr, postfix, nftables or json
  --check              with --allowlist: compare the profile with DNS now

  -h, --help           show this help and exit
  --version            show the versions of sendcheck, c-ares and OpenSSL

Examples:
  sendcheck example.ee                  check one domain
  sendcheck --suggest example.ee        print the SPF record to publish
  sendcheck --json -f domains.txt       check many domains, JSON for scripts

Exit codes: 0 all good, 1 a problem was found, 2 usage error,
            3 DNS could not answer (and nothing worse was found).
)";

/// Checks "IP[:PORT]" and "[IPv6]:PORT" forms of --server.
std::string
validate_server(const std::string& value)
{
  std::string host = value;
  std::string port;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string::npos) {
      return "missing ']' in an IPv6 server address; write it as [::1]:5353";
    }
    host = value.substr(1, close - 1);
    if (close + 1 < value.size()) {
      if (value[close + 1] != ':') {
        return "expected ':PORT' after ']'";
      }
      port = value.substr(close + 2);
    }
  } else if (std::count(value.begin(), value.end(), ':') == 1) {
    host = value.substr(0, value.find(':'));
    port = value.substr(value.find(':') + 1);
  }
  if (!dns::IpAddress::parse(host)) {
    return fmt::format("'{}' is not an IP address (give the DNS server as IP[:PORT], e.g. 127.0.0.1:5353)", host);
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) == 0
        || std::stoul(port) > 65535) {
      return fmt::format("'{}' is not a port number (1-65535)", port);
    }
  }
  return {};
}

} // namespace

std::string
help_text()
{
  return k_help;
}

std::string
version_text()
{
  return fmt::format("sendcheck {}\nc-ares {}\n{}\n", k_version, dns::CaresResolver::library_version(),
                     OpenSSL_version(OPENSSL_VERSION));
}

util::Result<Options, ParseExit>
parse_options(int argc, const char* const* argv)
{
  Options options;
  CLI::App app("sendcheck", "sendcheck");
  app.set_help_flag("-h,--help", "Show this help and exit");
  bool show_version = false;
  app.add_flag("--version", show_version, "Show the version and the library versions, then exit");

  app.add_option("domains", options.domains, "Domains to check (internationalized names are fine)")
    ->type_name("DOMAIN...");
  app.add_option("-f,--file", options.domain_file, "Read domains from FILE, one a line ('-' for stdin)")
    ->type_name("FILE")
    ->group("Input");

  std::string suggest_value;
  app
    .add_flag("--suggest{record}", suggest_value,
              "Print the SPF record to publish; --suggest=zone prints a zone-file line")
    ->check(CLI::IsMember({"record", "zone"}))
    ->group("Output");
  std::string json_value;
  app
    .add_flag("--json{auto}", json_value,
              "Write one JSON document (schema: docs/json-schema.md); --json=indented or --json=lines")
    ->check(CLI::IsMember({"auto", "indented", "lines"}))
    ->group("Output");
  std::string color = "auto";
  app.add_option("--color", color, "Colour the text report: auto, always or never")
    ->check(CLI::IsMember({"auto", "always", "never"}))
    ->type_name("WHEN")
    ->group("Output");
  app.add_flag("-q,--quiet", options.quiet, "Print only the verdict line (or only the record)")->group("Output");
  app.add_flag("-v,--verbose", options.verbose, "Show the full SPF evaluation trace")->group("Output");

  std::string ip_style = "auto";
  app.add_option("--ip-style", ip_style, "Directo's terms in a suggestion: auto, a (host) or ip4")
    ->check(CLI::IsMember({"auto", "a", "ip4"}))
    ->type_name("STYLE")
    ->group("Checks");
  app.add_option("--selector", options.selector, "DKIM selector (default: the profile's, directo)")
    ->type_name("NAME")
    ->group("Checks");
  app.add_option("--dkim-reference", options.dkim_reference, "Domain publishing Directo's reference DKIM key")
    ->type_name("NAME")
    ->group("Checks");
  app.add_flag("--no-bulk", options.no_bulk, "Leave out the bulk-mail address 90.190.150.82")->group("Checks");
  std::vector<std::string> only;
  app.add_option("--only", only, "Run only these checks: spf (always), dkim, dmarc, comma-separated")
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
    ->allow_extra_args(false)
    ->type_name("LIST")
    ->group("Checks");
  app.add_option("--record", options.records, "Check this SPF record as if it were published")
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
    ->allow_extra_args(false)
    ->type_name("TXT")
    ->group("Checks");

  app.add_option("--profile", options.profile_file, "Read the sender's facts from a JSON file (docs/profile.md)")
    ->type_name("FILE")
    ->group("Sender profile");
  app.add_flag("--show-profile", options.show_profile, "Print the sender profile in effect, then exit")
    ->group("Sender profile");
  auto* allowlist = app
                      .add_flag("--allowlist", options.allowlist,
                                "Print the addresses an SMTP server must accept from the sender, then exit")
                      ->group("Sender profile");
  app.add_option("--format", options.allowlist_format, "--allowlist output: plain, cidr, postfix, nftables, json")
    ->check(CLI::IsMember({"plain", "cidr", "postfix", "nftables", "json"}))
    ->needs(allowlist)
    ->type_name("FORMAT")
    ->group("Sender profile");
  app.add_flag("--check", options.allowlist_check, "With --allowlist: compare the profile with the hosts' DNS")
    ->needs(allowlist)
    ->group("Sender profile");

  app.add_option("--server", options.servers, "DNS server to ask, IP[:PORT] or [IPv6]:PORT (repeatable)")
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
    ->allow_extra_args(false)
    ->type_name("ADDR")
    ->each([](const std::string& value) {
      if (auto problem = validate_server(value); !problem.empty()) {
        throw CLI::ValidationError("--server", problem);
      }
    })
    ->group("DNS");
  app.add_option("--zone", options.zones, "Answer names in this zone file from it (repeatable)")
    ->expected(1)
    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
    ->allow_extra_args(false)
    ->type_name("FILE")
    ->check(CLI::ExistingFile)
    ->group("DNS");
  app.add_flag("--offline", options.offline, "Use no network: only --zone files and --record")->group("DNS");
  app.add_option("--timeout", options.timeout_ms, "Time to wait for one DNS answer (default 3000)")
    ->type_name("MS")
    ->check(CLI::Range(1U, 600000U))
    ->group("DNS");
  app.add_option("--tries", options.tries, "Attempts per DNS query (default 2)")
    ->type_name("N")
    ->check(CLI::Range(1U, 20U))
    ->group("DNS");
  app.add_option("--concurrency", options.concurrency, "Domains checked at once (default 64)")
    ->type_name("N")
    ->check(CLI::Range(1U, 10000U))
    ->group("DNS");
  app.add_option("-j,--jobs", options.jobs, "Threads checking domains (default: one per CPU, at most 4)")
    ->type_name("N")
    ->check(CLI::Range(1U, 64U))
    ->group("DNS");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return util::unexpected(ParseExit{0, help_text()});
  } catch (const CLI::ParseError& error) {
    return util::unexpected(
      ParseExit{2, fmt::format("sendcheck: {}\nRun 'sendcheck --help' for the options.\n", error.what())});
  }
  if (show_version) {
    return util::unexpected(ParseExit{0, version_text()});
  }

  options.json = !json_value.empty();
  options.json_form = json_value == "indented" ? JsonForm::indented
                      : json_value == "lines"  ? JsonForm::lines
                                               : JsonForm::automatic;
  options.suggest = suggest_value.empty() ? SuggestMode::off
                    : suggest_value == "zone" ? SuggestMode::zone
                                              : SuggestMode::record;
  static const std::map<std::string, ColorMode> k_colors{
    {"auto", ColorMode::automatic}, {"always", ColorMode::always}, {"never", ColorMode::never}};
  options.color = k_colors.at(color);
  static const std::map<std::string, IpStyle> k_styles{
    {"auto", IpStyle::automatic}, {"a", IpStyle::host}, {"ip4", IpStyle::ip4}};
  options.ip_style = k_styles.at(ip_style);

  if (!only.empty()) {
    if (auto problem = report::parse_check_names(only, options.checks); !problem.empty()) {
      return util::unexpected(ParseExit{
        2, fmt::format("sendcheck: --only: {}\nRun 'sendcheck --help' for the options.\n", problem)});
    }
  }
  if (options.domains.empty() && options.domain_file.empty() && !options.show_profile && !options.allowlist) {
    return util::unexpected(ParseExit{
      2, "sendcheck: no domain given\nUsage: sendcheck [OPTIONS] DOMAIN...  (or -f FILE); 'sendcheck --help' for more.\n"});
  }
  // A selector is one or more DNS labels (RFC 6376 §3.1): letters, digits, '-' and '_', separated by dots.
  const bool selector_ok =
    options.selector.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
      == std::string::npos
    && options.selector.find("..") == std::string::npos && options.selector.front() != '.'
    && options.selector.back() != '.' && options.selector.size() <= 63;
  if ((app.count("--selector") > 0 && options.selector.empty()) || (!options.selector.empty() && !selector_ok)) {
    return util::unexpected(ParseExit{
      2, fmt::format("sendcheck: --selector: '{}' is not a valid DKIM selector (letters, digits, '-', '_' and dots)\n",
                     util::escape_for_display(options.selector))});
  }
  return options;
}

} // namespace sendcheck::cli
