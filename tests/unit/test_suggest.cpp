#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/suggest/suggest.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace sendcheck;
using suggest::IpStyle;
using suggest::SuggestStatus;

namespace {

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// What directo.gate.ee resolves to in a test world.
enum class Host : uint8_t {
  documented, ///< 90.190.150.212 only (as the vendor's documents say).
  all_four,   ///< 90.190.150.210-.213.
  none,       ///< No A record.
};

/// Provider zones and Directo's host; the customer domain example.ee gets its records per test.
dns::ZoneResolver
make_world(Host host = Host::documented)
{
  dns::ZoneResolver zone("unit test");
  if (host == Host::documented) {
    zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  } else if (host == Host::all_four) {
    for (const char* address : {"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"}) {
      zone.add_address("directo.gate.ee", ip(address));
    }
  } else {
    zone.add_txt("directo.gate.ee", {"not spf"});
  }
  zone.add_txt("_spf.provider.test", {"v=spf1 ip4:198.51.100.0/24 -all"});
  zone.add_txt("_spf.big.test", {"v=spf1 include:a.big.test include:b.big.test include:c.big.test ~all"});
  zone.add_txt("a.big.test", {"v=spf1 ip4:203.0.113.0/26 -all"});
  zone.add_txt("b.big.test", {"v=spf1 ip4:203.0.113.64/26 -all"});
  zone.add_txt("c.big.test", {"v=spf1 ip6:2001:db8::/32 -all"});
  std::string heavy = "v=spf1";
  for (int i = 1; i <= 8; ++i) {
    const auto name = "h" + std::to_string(i) + ".heavy.test";
    heavy += " a:" + name;
    zone.add_address(name, ip("192.0.2." + std::to_string(100 + i)));
  }
  zone.add_txt("heavy.test", {heavy + " -all"});
  zone.add_txt("nospf.test", {"just a note"});
  zone.add_txt("slow.test", {"v=spf1 a:timeout.slow.test -all"});
  zone.add_failure("timeout.slow.test", dns::Status::timeout);
  zone.add_address("mail.example.ee", ip("192.0.2.25"));
  zone.add_address("mail.example.lt", ip("192.0.2.26"));
  return zone;
}

void
add_mx(dns::ZoneResolver& zone)
{
  zone.add_mx("example.ee", 10, "mail.example.ee");
}

suggest::Suggestion
run(dns::ZoneResolver& zone, suggest::SuggestOptions options = {}, std::string domain = "example.ee")
{
  return dns::run_sync(zone, suggest::suggest_record(zone, std::move(domain), std::move(options)));
}

suggest::Suggestion
run_style(dns::ZoneResolver& zone, IpStyle style)
{
  suggest::SuggestOptions options;
  options.style = style;
  return run(zone, options);
}

std::vector<std::string>
codes(const suggest::Suggestion& suggestion)
{
  std::vector<std::string> out;
  for (const auto& change : suggestion.changes) {
    out.push_back(change.code);
  }
  return out;
}

const suggest::Change&
change(const suggest::Suggestion& suggestion, std::string_view code)
{
  const auto it = std::find_if(suggestion.changes.begin(), suggestion.changes.end(),
                               [&](const suggest::Change& c) { return c.code == code; });
  REQUIRE(it != suggestion.changes.end());
  return *it;
}

bool
has_warning(const suggest::Suggestion& suggestion, std::string_view text)
{
  return std::any_of(suggestion.warnings.begin(), suggestion.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

bool
contains(const std::string& text, std::string_view part)
{
  return text.find(part) != std::string::npos;
}

/// Publishes `record` as the only TXT record of example.ee in a copy of the world and suggests again.
suggest::Suggestion
resuggest(Host host, const std::string& record, bool with_mx, suggest::SuggestOptions options = {})
{
  auto zone = make_world(host);
  if (with_mx) {
    add_mx(zone);
  }
  zone.add_txt("example.ee", {record});
  return run(zone, std::move(options));
}

/// Every profile address passes on the suggestion's record (checked independently of the verification).
void
check_all_pass(Host host, const std::string& record, bool with_mx, bool bulk = true)
{
  auto zone = make_world(host);
  if (with_mx) {
    add_mx(zone);
  }
  zone.add_txt("example.ee", {record});
  for (const auto& address : directo_profile().all_ips(bulk)) {
    spf::Options options;
    options.helo = "example.ee";
    const auto evaluation =
      dns::run_sync(zone, spf::check_host(zone, address, "example.ee", "postmaster@example.ee", options));
    CHECK_MESSAGE(evaluation.result == spf::SpfResult::pass, address.to_string(), " on ", record);
  }
}

} // namespace

TEST_CASE("suggest::suggest_record")
{
  const std::string k_ip4_ordinary = "ip4:90.190.150.210/31 ip4:90.190.150.212/31";
  const std::string k_ip4_bulk = "ip4:90.190.150.82";

  SUBCASE("no record, MX, host documented as .212 only: the vendor's minimal record with ip4 terms")
  {
    auto zone = make_world(Host::documented);
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::changed);
    CHECK(s.published.empty());
    CHECK(s.published_records.empty());
    CHECK(s.record == "v=spf1 mx " + k_ip4_ordinary + " " + k_ip4_bulk + " -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.created", "suggest.directo_added", "suggest.bulk_added"});
    CHECK(contains(change(s, "suggest.created").message, "'v=spf1 mx a:directo.gate.ee -all'"));
    const auto& added = change(s, "suggest.directo_added").message;
    CHECK(contains(added, "directo.gate.ee resolves to 90.190.150.212 only"));
    CHECK(contains(added, "would not cover 90.190.150.210, 90.190.150.211, 90.190.150.213"));
    CHECK(s.sending_host_addresses == std::vector<dns::IpAddress>{ip("90.190.150.212")});
    CHECK(s.verification.ran);
    CHECK(s.verification.passed);
    REQUIRE(s.verification.profile_ips.size() == 5);
    for (const auto& v : s.verification.profile_ips) {
      CHECK(v.passed);
      CHECK(v.result == spf::SpfResult::pass);
    }
    CHECK(s.verification.total_dns_terms == 1);
    CHECK(s.warnings.empty());
    check_all_pass(Host::documented, s.record, true);
  }

  SUBCASE("no record, no MX, host covers all four: mx left out, a:directo.gate.ee used")
  {
    auto zone = make_world(Host::all_four);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::changed);
    CHECK(s.record == "v=spf1 a:directo.gate.ee " + k_ip4_bulk + " -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.created", "suggest.mx_omitted", "suggest.directo_added",
                                               "suggest.bulk_added"});
    CHECK(contains(change(s, "suggest.mx_omitted").message, "example.ee has no MX record"));
    CHECK(contains(change(s, "suggest.directo_added").message,
                   "directo.gate.ee resolves to 90.190.150.210, 90.190.150.211, 90.190.150.212, 90.190.150.213, "
                   "which covers Directo's sending addresses"));
    CHECK(contains(change(s, "suggest.bulk_added").message, "90.190.150.82"));
    check_all_pass(Host::all_four, s.record, false);
  }

  SUBCASE("--no-bulk: only the ordinary addresses")
  {
    auto zone = make_world(Host::all_four);
    add_mx(zone);
    suggest::SuggestOptions options;
    options.bulk = false;
    const auto s = run(zone, options);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee -all");
    CHECK(s.verification.profile_ips.size() == 4);
    CHECK(codes(s) == std::vector<std::string>{"suggest.created", "suggest.directo_added"});
  }

  SUBCASE("one record without Directo: terms inserted just before all, nothing reordered")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx a:mail.example.lt include:_spf.provider.test ~all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::changed);
    CHECK(s.published == "v=spf1 mx a:mail.example.lt include:_spf.provider.test ~all");
    CHECK(s.record ==
          "v=spf1 mx a:mail.example.lt include:_spf.provider.test a:directo.gate.ee " + k_ip4_bulk + " ~all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.directo_added", "suggest.bulk_added"});
    CHECK(contains(change(s, "suggest.directo_added").message, "before '~all'"));
    // The provider's and the mail server's addresses are still authorized.
    const auto& kept = s.verification.kept_ips;
    CHECK(std::any_of(kept.begin(), kept.end(), [](const auto& v) { return v.ip == ip("198.51.100.0") && v.passed; }));
    check_all_pass(Host::all_four, s.record, true);
  }

  SUBCASE("the vendor's own example: an existing record is extended")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx a:example.lt -all"});
    zone.add_address("example.lt", ip("192.0.2.40"));
    add_mx(zone);
    suggest::SuggestOptions options;
    options.bulk = false;
    const auto s = run(zone, options);
    CHECK(s.record == "v=spf1 mx a:example.lt a:directo.gate.ee -all");
  }

  SUBCASE("a trailing redirect= is kept; the terms go before it")
  {
    auto zone = make_world(Host::documented);
    zone.add_txt("example.ee", {"v=spf1 mx redirect=_spf.provider.test"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx " + k_ip4_ordinary + " " + k_ip4_bulk + " redirect=_spf.provider.test");
    CHECK(contains(change(s, "suggest.directo_added").message, "before 'redirect=_spf.provider.test'"));
    check_all_pass(Host::documented, s.record, true);
  }

  SUBCASE("no all and no redirect: terms after the last mechanism, modifiers stay")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx foo=bar"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee " + k_ip4_bulk + " foo=bar");
    CHECK(contains(change(s, "suggest.directo_added").message, "at the end"));
  }

  SUBCASE("a record that already authorizes some addresses gets terms only for the others")
  {
    auto zone = make_world(Host::documented);
    zone.add_txt("example.ee", {"v=spf1 ip4:90.190.150.210 ip4:90.190.150.82 -all"});
    const auto s = run(zone);
    CHECK(s.record ==
          "v=spf1 ip4:90.190.150.210 ip4:90.190.150.82 ip4:90.190.150.211 ip4:90.190.150.212/31 -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.directo_added"});
    CHECK(contains(change(s, "suggest.directo_added").message,
                   "would not cover 90.190.150.211, 90.190.150.213"));
  }

  SUBCASE("a:directo.gate.ee present but the host covers only .212: ip4 terms for the rest")
  {
    auto zone = make_world(Host::documented);
    zone.add_txt("example.ee", {"v=spf1 mx a:directo.gate.ee -all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record ==
          "v=spf1 mx a:directo.gate.ee ip4:90.190.150.210/31 ip4:90.190.150.213 " + k_ip4_bulk + " -all");
    CHECK(contains(change(s, "suggest.directo_added").message, "the record already has 'a:directo.gate.ee', but"));
    check_all_pass(Host::documented, s.record, true);
  }

  SUBCASE("include:directo.gate.ee written by mistake becomes a:directo.gate.ee")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx include:directo.gate.ee ~all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee " + k_ip4_bulk + " ~all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.include_replaced", "suggest.bulk_added"});
    CHECK(contains(change(s, "suggest.include_replaced").message,
                   "Replaced 'include:directo.gate.ee' with 'a:directo.gate.ee': directo.gate.ee publishes no SPF"));
  }

  SUBCASE("include:directo.gate.ee with the documented host: a: plus ip4 terms for what it misses")
  {
    auto zone = make_world(Host::documented);
    zone.add_txt("example.ee", {"v=spf1 include:directo.gate.ee -all"});
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 a:directo.gate.ee ip4:90.190.150.210/31 ip4:90.190.150.213 " + k_ip4_bulk + " -all");
    CHECK(codes(s) ==
          std::vector<std::string>{"suggest.include_replaced", "suggest.directo_added", "suggest.bulk_added"});
  }

  SUBCASE("two records are merged: duplicates dropped, the least strict all kept")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx include:_spf.provider.test -all"});
    zone.add_txt("example.ee", {"google-site-verification=abc"});
    zone.add_txt("example.ee", {"v=spf1 mx a:mail.example.lt ~all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::changed);
    CHECK(s.published.empty());
    CHECK(s.published_records.size() == 2);
    // The records merge in the order the resolver answers them (ZoneResolver sorts TXT answers canonically).
    CHECK(s.record == "v=spf1 mx a:mail.example.lt include:_spf.provider.test a:directo.gate.ee " + k_ip4_bulk +
                        " ~all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.merged", "suggest.all_qualifier",
                                               "suggest.duplicates_removed", "suggest.directo_added",
                                               "suggest.bulk_added"});
    CHECK(contains(change(s, "suggest.all_qualifier").message, "('~all', '-all'); kept '~all'"));
    CHECK(contains(change(s, "suggest.duplicates_removed").message, "Removed 'mx'"));
    check_all_pass(Host::all_four, s.record, true);
  }

  SUBCASE("merging a record that redirects: the redirect becomes an include")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 redirect=_spf.provider.test"});
    zone.add_txt("example.ee", {"v=spf1 mx -all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx include:_spf.provider.test a:directo.gate.ee " + k_ip4_bulk + " -all");
    CHECK(contains(change(s, "suggest.redirect_to_include").message,
                   "Turned 'redirect=_spf.provider.test' into 'include:_spf.provider.test'"));
    const auto& kept = s.verification.kept_ips;
    CHECK(std::any_of(kept.begin(), kept.end(), [](const auto& v) { return v.ip == ip("198.51.100.0") && v.passed; }));
  }

  SUBCASE("typographic damage is repaired, each with a note")
  {
    struct Case
    {
      std::string published;
      std::vector<std::string> repairs;
    };
    const std::vector<Case> cases = {
      {"\xE2\x80\x9Cv=spf1 mx \xE2\x80\x93" "all\xE2\x80\x9D", {"suggest.quotes", "suggest.dash"}}, // “...–all”
      {"v=spf1 mx \xE2\x80\x94" "all", {"suggest.dash"}},                                           // —all
      {"v=spf1\xC2\xA0mx -all", {"suggest.invisible_space"}},                                       // NBSP
      {"v=spf1 mx\xE2\x80\x8B -all", {"suggest.invisible_space"}},                                  // ZWSP
      {"\"v=spf1 mx -all\"", {"suggest.quotes"}},                                                   // typed quotes
      {"V=SPF1 mx -all", {"suggest.version"}},
      {"v = spf1 mx -all", {"suggest.version"}},
      {"v=spf1  mx\t-all ", {"suggest.whitespace"}},
    };
    for (const auto& c : cases) {
      CAPTURE(c.published);
      auto zone = make_world(Host::all_four);
      zone.add_txt("example.ee", {c.published});
      add_mx(zone);
      const auto s = run(zone);
      CHECK(s.status == SuggestStatus::changed);
      CHECK(s.published == c.published);
      CHECK(s.record == "v=spf1 mx a:directo.gate.ee " + k_ip4_bulk + " -all");
      auto expected = c.repairs;
      expected.emplace_back("suggest.directo_added");
      expected.emplace_back("suggest.bulk_added");
      CHECK(codes(s) == expected);
    }
  }

  SUBCASE("a damaged record that is already complete only needs its repairs")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx a:directo.gate.ee ip4:90.190.150.82 \xE2\x80\x93" "all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee ip4:90.190.150.82 -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.dash"});
    CHECK(change(s, "suggest.dash").message ==
          "Replaced an en dash (\u2013) with '-': a dash copied from a document is not the ASCII minus SPF needs (as "
          "in '-all').");
  }

  SUBCASE("a quote split over two TXT strings, as a panel may store it")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"\"v=spf1 mx a:directo.gate.ee ", "ip4:90.190.150.82 -all\""});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee ip4:90.190.150.82 -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.quotes"});
  }

  SUBCASE("terms after all are moved before it")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx -all a:mail.example.lt"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:mail.example.lt a:directo.gate.ee " + k_ip4_bulk + " -all");
    CHECK(codes(s) ==
          std::vector<std::string>{"suggest.terms_moved", "suggest.directo_added", "suggest.bulk_added"});
    CHECK(contains(change(s, "suggest.terms_moved").message, "Moved 'a:mail.example.lt' before '-all'"));
  }

  SUBCASE("a modifier after all stays where it is")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx -all exp=why.example.ee"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee " + k_ip4_bulk + " -all exp=why.example.ee");
  }

  SUBCASE("repeated terms in one record are removed")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx MX a:directo.gate.ee +a:directo.gate.ee ip4:90.190.150.82 -all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee ip4:90.190.150.82 -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.duplicates_removed"});
    CHECK(contains(change(s, "suggest.duplicates_removed").message, "Removed 'MX', '+a:directo.gate.ee'"));
  }

  SUBCASE("lookup budget: a: would make 11 lookups, so the ip4 form is used")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx include:heavy.test -all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::changed);
    CHECK(s.record == "v=spf1 mx include:heavy.test " + k_ip4_ordinary + " " + k_ip4_bulk + " -all");
    CHECK(contains(change(s, "suggest.directo_added").message,
                   "the record already uses 10 of the 10 DNS lookups, and 'a:directo.gate.ee' would need one more"));
    CHECK(s.verification.total_dns_terms == 10);
    check_all_pass(Host::all_four, s.record, true);
  }

  SUBCASE("over the limit already: refused, naming the costliest includes")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx include:heavy.test include:_spf.big.test -all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::impossible);
    CHECK(s.record.empty());
    CHECK(contains(s.failure, "the record already needs 14 DNS lookups, more than the limit of 10"));
    CHECK(contains(s.failure, "'include:heavy.test' costs 9, 'include:_spf.big.test' costs 4"));
    CHECK_FALSE(s.verification.ran);
  }

  SUBCASE("--ip-style ip4 forces the ip4 form")
  {
    auto zone = make_world(Host::all_four);
    add_mx(zone);
    const auto s = run_style(zone, IpStyle::ip4);
    CHECK(s.record == "v=spf1 mx " + k_ip4_ordinary + " " + k_ip4_bulk + " -all");
    CHECK(contains(change(s, "suggest.directo_added").message, "--ip-style ip4"));
  }

  SUBCASE("--ip-style a forces the host form and warns about what it leaves uncovered")
  {
    auto zone = make_world(Host::documented);
    add_mx(zone);
    const auto s = run_style(zone, IpStyle::host);
    CHECK(s.status == SuggestStatus::changed);
    CHECK(s.record == "v=spf1 mx a:directo.gate.ee -all");
    CHECK(codes(s) == std::vector<std::string>{"suggest.created", "suggest.directo_added"});
    REQUIRE(s.warnings.size() == 1);
    CHECK(contains(s.warnings[0], "'a:directo.gate.ee' does not cover 90.190.150.210, 90.190.150.211, "
                                  "90.190.150.213, 90.190.150.82"));
    CHECK(s.verification.passed);
    const auto& ips = s.verification.profile_ips;
    CHECK(std::count_if(ips.begin(), ips.end(), [](const auto& v) { return v.passed; }) == 1);
  }

  SUBCASE("--ip-style a with a full budget is refused")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 mx include:heavy.test -all"});
    add_mx(zone);
    const auto s = run_style(zone, IpStyle::host);
    CHECK(s.status == SuggestStatus::impossible);
    CHECK(contains(s.failure, "use --ip-style ip4"));
  }

  SUBCASE("the host has no A record: the ip4 form")
  {
    auto zone = make_world(Host::none);
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.record == "v=spf1 mx " + k_ip4_ordinary + " " + k_ip4_bulk + " -all");
    CHECK(s.sending_host_addresses.empty());
    CHECK(contains(change(s, "suggest.directo_added").message, "directo.gate.ee has no A record"));
  }

  SUBCASE("+all, ?all and ptr are kept but warned about")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 ptr ?all"});
    const auto neutral = run(zone);
    CHECK(neutral.record == "v=spf1 ptr a:directo.gate.ee " + k_ip4_bulk + " ?all");
    CHECK(has_warning(neutral, "'?all' says nothing about servers not listed"));
    CHECK(has_warning(neutral, "'ptr' is deprecated"));

    auto zone2 = make_world(Host::all_four);
    zone2.add_txt("example.ee", {"v=spf1 mx +all"});
    add_mx(zone2);
    const auto plus = run(zone2);
    // +all already passes every address: nothing to add.
    CHECK(plus.status == SuggestStatus::unchanged);
    CHECK(plus.record == "v=spf1 mx +all");
    CHECK(has_warning(plus, "'+all' lets every server in the world send mail as example.ee"));
  }

  SUBCASE("already right: unchanged, the published record as is")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 MX a:directo.gate.ee ip4:90.190.150.82 -all"});
    add_mx(zone);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::unchanged);
    CHECK(s.record == "v=spf1 MX a:directo.gate.ee ip4:90.190.150.82 -all");
    CHECK(s.changes.empty());
    CHECK(s.warnings.empty());
    CHECK(s.verification.passed);
  }

  SUBCASE("idempotent: the suggestion suggested again is unchanged")
  {
    for (const Host host : {Host::documented, Host::all_four}) {
      auto zone = make_world(host);
      zone.add_txt("example.ee", {"v=spf1 a:mail.example.lt -all include:directo.gate.ee"});
      zone.add_txt("example.ee", {"v=spf1 include:_spf.provider.test ~all"});
      const auto first = run(zone);
      REQUIRE(first.status == SuggestStatus::changed);
      const auto second = resuggest(host, first.record, false);
      CHECK(second.status == SuggestStatus::unchanged);
      CHECK(second.record == first.record);
      CHECK(second.changes.empty());
    }
  }

  SUBCASE("DNS failure fetching the domain's TXT: dns_error")
  {
    auto zone = make_world(Host::all_four);
    zone.add_failure("example.ee", dns::Status::servfail);
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::dns_error);
    CHECK(s.record.empty());
    CHECK(contains(s.failure, "the TXT lookup of example.ee failed (servfail"));
  }

  SUBCASE("temperror during verification: dns_error")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 include:slow.test -all"});
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::dns_error);
    CHECK(contains(s.failure, "temperror for 90.190.150.210"));
  }

  SUBCASE("a permerror the suggestion cannot repair: impossible")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 include:nospf.test -all"});
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::impossible);
    CHECK(contains(s.failure, "permanent error that adding Directo cannot repair"));
  }

  SUBCASE("a syntax error the repairs do not remove: impossible")
  {
    auto zone = make_world(Host::all_four);
    zone.add_txt("example.ee", {"v=spf1 ip4:90.190.150.300 -all"});
    const auto s = run(zone);
    CHECK(s.status == SuggestStatus::impossible);
    CHECK(contains(s.failure, "does not parse"));
    CHECK(contains(s.failure, "ip4:90.190.150.300"));
  }

  SUBCASE("an invalid domain: impossible")
  {
    auto zone = make_world();
    const auto s = run(zone, {}, "localhost");
    CHECK(s.status == SuggestStatus::impossible);
    CHECK(contains(s.failure, "not a valid domain"));
  }

  SUBCASE("a long record is warned about")
  {
    auto zone = make_world(Host::all_four);
    std::string record = "v=spf1";
    for (int i = 0; i < 30; ++i) {
      record += " ip4:198.18." + std::to_string(i) + ".0/24";
    }
    zone.add_txt("example.ee", suggest::split_txt_strings(record + " -all"));
    const auto s = run(zone);
    REQUIRE(s.status == SuggestStatus::changed);
    CHECK(s.record.size() > 450);
    CHECK(has_warning(s, "octets long; some DNS hosting panels refuse values over 450"));
  }

  SUBCASE("a custom profile")
  {
    auto profile = std::make_shared<SenderProfile>(directo_profile());
    profile->name = "Other";
    profile->ordinary_ips = {ip("192.0.2.1")};
    profile->bulk_ips = {};
    profile->sending_host = "out.other.test";
    profile->minimal_spf = "v=spf1 a:out.other.test ~all";
    auto zone = make_world();
    zone.add_address("out.other.test", ip("192.0.2.1"));
    suggest::SuggestOptions options;
    options.profile = profile;
    const auto s = run(zone, options);
    CHECK(s.record == "v=spf1 a:out.other.test ~all");
  }
}

TEST_CASE("suggest::repair_record_text")
{
  SUBCASE("clean and foreign texts are left alone")
  {
    const auto clean = suggest::repair_record_text("v=spf1 -all");
    CHECK(clean.is_spf);
    CHECK(clean.text == "v=spf1 -all");
    CHECK(clean.changes.empty());
    const auto foreign = suggest::repair_record_text("\xE2\x80\x9Cgoogle-site-verification=x\xE2\x80\x9D");
    CHECK_FALSE(foreign.is_spf);
    CHECK(foreign.changes.empty());
  }

  SUBCASE("everything at once")
  {
    const auto r = suggest::repair_record_text(
      "  \xE2\x80\x9E V = SPF1\xC2\xA0ip4:192.0.2.1\xE2\x80\x8C\tinclude:\xE2\x80\x98x.test\xE2\x80\x99 "
      "\xE2\x88\x92" "all\xE2\x80\x9C");
    CHECK(r.is_spf);
    CHECK(r.text == "v=spf1 ip4:192.0.2.1 include:x.test -all");
    std::vector<std::string> codes;
    for (const auto& c : r.changes) {
      codes.push_back(c.code);
    }
    CHECK(codes == std::vector<std::string>{"suggest.quotes", "suggest.dash", "suggest.invisible_space",
                                            "suggest.whitespace", "suggest.version"});
    CHECK(r.changes.back().message == "Rewrote 'V = SPF1' as 'v=spf1' (the record must start with exactly that).");
  }

  SUBCASE("v=spf10 is not repaired into SPF")
  {
    CHECK_FALSE(suggest::repair_record_text("v=spf10 -all").is_spf);
    CHECK_FALSE(suggest::repair_record_text("v=spf2.0/pra -all").is_spf);
  }
}

TEST_CASE("suggest::split_txt_strings")
{
  CHECK(suggest::split_txt_strings("") == std::vector<std::string>{""});
  CHECK(suggest::split_txt_strings("v=spf1 -all") == std::vector<std::string>{"v=spf1 -all"});

  std::string record = "v=spf1";
  while (record.size() < 600) {
    record += " ip4:198.51.100.123";
  }
  const auto strings = suggest::split_txt_strings(record);
  REQUIRE(strings.size() == 3);
  std::string joined;
  for (const auto& s : strings) {
    CHECK(s.size() <= 255);
    joined += s;
  }
  CHECK(joined == record);
  CHECK(strings[0].back() == ' ');        // cut after a space: whole terms in each string
  CHECK(strings[1].substr(0, 4) == "ip4:");

  // No space to cut at: hard cuts at 255.
  const std::string solid(600, 'x');
  const auto hard = suggest::split_txt_strings(solid);
  REQUIRE(hard.size() == 3);
  CHECK(hard[0].size() == 255);
  CHECK(hard[1].size() == 255);
  CHECK(hard[2].size() == 90);
}

TEST_CASE("suggest::zone_file_line")
{
  CHECK(suggest::zone_file_line("Example.EE.", "v=spf1 mx -all") == "example.ee. 3600 IN TXT \"v=spf1 mx -all\"");
  CHECK(suggest::zone_file_line("example.ee", "v=spf1 exp=a\"b\\c -all", 300) ==
        "example.ee. 300 IN TXT \"v=spf1 exp=a\\\"b\\\\c -all\"");
  std::string record = "v=spf1";
  while (record.size() < 300) {
    record += " ip4:198.51.100.123";
  }
  const auto line = suggest::zone_file_line("example.ee", record);
  CHECK(line.find("\" \"ip4:") != std::string::npos);
}

TEST_CASE("suggest::to_string")
{
  CHECK(suggest::to_string(SuggestStatus::unchanged) == "unchanged");
  CHECK(suggest::to_string(SuggestStatus::dns_error) == "dns_error");
  CHECK(suggest::to_string(IpStyle::host) == "a");
  CHECK(suggest::to_string(IpStyle::automatic) == "auto");
}
