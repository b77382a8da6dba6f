// spf::EvaluationMemo (Options::memo): reusing include:/redirect= sub-evaluations must change no field of any
// Evaluation. Every scenario evaluates the same (address, domain, sender) with the memo off and on and compares the
// two field by field (tests/conformance/evaluation_diff.hpp), and checks the memo's counters to show which path ran.

#include "../conformance/evaluation_diff.hpp"

#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/evaluator.hpp>

#include <fmt/format.h>

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace sendcheck;
using spf::SpfResult;

namespace {

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// check_host() with the trace off, with `memo` (null: without a memo).
spf::Evaluation
evaluate(dns::Resolver& resolver, std::string_view address, const std::string& domain, const std::string& sender,
         const std::shared_ptr<spf::EvaluationMemo>& memo, const std::string& helo = "mail.example.net")
{
  spf::Options options;
  options.helo = helo;
  options.trace = spf::Trace::off;
  options.timestamp = 1700000000;
  options.memo = memo;
  return dns::run_sync(resolver, spf::check_host(resolver, ip(address), domain, sender, options));
}

/// Evaluates with the memo off and then on (sharing `memo`), checks that every field agrees and returns the outcome.
spf::Evaluation
same_with_memo(dns::Resolver& resolver, std::string_view address, const std::string& domain,
               const std::shared_ptr<spf::EvaluationMemo>& memo, const std::string& sender = {},
               const std::string& helo = "mail.example.net")
{
  const std::string from = sender.empty() ? "postmaster@" + domain : sender;
  const auto off = evaluate(resolver, address, domain, from, nullptr, helo);
  const auto on = evaluate(resolver, address, domain, from, memo, helo);
  INFO(domain, " for ", address, " as ", from);
  CHECK(test::evaluation_difference(off, on) == "");
  return on;
}

/// Directo's five addresses and a few more: IPv6, an IPv4-mapped IPv6 address, and addresses in the providers'
/// netblocks.
const std::vector<std::string> k_addresses = {
  "90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "90.190.150.82", "198.51.100.77",
  "203.0.113.9",    "2001:db8:1::25", "::ffff:198.51.100.77", "192.0.2.10", "192.0.2.99",
};

/// Two providers with include trees (a top record including netblock records), an O365-like single record, a
/// redirect= target, and 60 customers combining them with a, mx, ip4, ~all/-all and some errors.
dns::ZoneResolver
make_shared_zone()
{
  dns::ZoneResolver zone("memo test");
  zone.add_txt("_spf.gprov.example", {"v=spf1 include:_netblocks.gprov.example include:_netblocks2.gprov.example "
                                      "include:_netblocks3.gprov.example ~all"});
  zone.add_txt("_netblocks.gprov.example", {"v=spf1 ip4:198.51.100.0/25 ip4:198.18.0.0/15 ip6:2001:db8:1::/48 ~all"});
  zone.add_txt("_netblocks2.gprov.example", {"v=spf1 ip4:203.0.113.0/26 ip6:2001:db8:2::/48 ~all"});
  zone.add_txt("_netblocks3.gprov.example", {"v=spf1 ip4:100.64.0.0/10 ~all"});
  zone.add_txt("spf.o365.example", {"v=spf1 ip4:40.92.0.0/15 ip4:203.0.113.64/26 -all"});
  zone.add_txt("_spf.host.example", {"v=spf1 a:relay.host.example mx:host.example -all"});
  zone.add_address("relay.host.example", ip("192.0.2.10"));
  zone.add_mx("host.example", 10, "mx1.host.example");
  zone.add_mx("host.example", 20, "mx2.host.example");
  zone.add_address("mx1.host.example", ip("192.0.2.11"));
  zone.add_address("mx2.host.example", ip("2001:db8:3::11"));
  zone.add_txt("_spf.redirect.example", {"v=spf1 include:_spf.gprov.example ip4:90.190.150.210 -all"});
  zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  zone.add_cname("alias.gprov.example", "_netblocks2.gprov.example");
  for (int i = 0; i < 60; ++i) {
    const std::string domain = fmt::format("c{}.example", i);
    std::string record;
    switch (i % 10) {
    case 0:
      record = "v=spf1 a:directo.gate.ee include:_spf.gprov.example -all";
      break;
    case 1:
      record = "v=spf1 include:spf.o365.example include:_spf.gprov.example ~all";
      break;
    case 2:
      record = "v=spf1 redirect=_spf.redirect.example";
      break;
    case 3:
      record = "v=spf1 mx include:_spf.host.example ?all";
      zone.add_mx(domain, 10, "mail." + domain);
      zone.add_address("mail." + domain, ip(fmt::format("192.0.2.{}", 100 + i)));
      break;
    case 4:
      record = "v=spf1 ip4:90.190.150.210/31 include:alias.gprov.example include:_spf.host.example -all";
      break;
    case 5:
      record = "v=spf1 include:_spf.gprov.example include:missing.example -all";
      break;
    case 6:
      record = "v=spf1 a include:_spf.gprov.example redirect=_spf.redirect.example";
      zone.add_address(domain, ip("192.0.2.99"));
      break;
    case 7:
      record = "v=spf1 include:_spf.gprov.example include:spf.o365.example include:_spf.host.example "
               "include:_spf.redirect.example -all";
      break;
    case 8:
      record = "v=spf1 include:_netblocks3.gprov.example redirect=spf.o365.example";
      break;
    default:
      record = "v=spf1 include:_spf.gprov.example include:_spf.gprov.example include:_spf.gprov.example -all";
      break;
    }
    zone.add_txt(domain, {record});
  }
  return zone;
}

} // namespace

TEST_CASE("spf::EvaluationMemo: shared include trees give the same evaluations for every address and domain")
{
  auto zone = make_shared_zone();
  const auto memo = std::make_shared<spf::EvaluationMemo>();
  size_t passes = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 60; ++i) {
      for (const auto& address : k_addresses) {
        const auto on = same_with_memo(zone, address, fmt::format("c{}.example", i), memo);
        passes += on.result == SpfResult::pass ? 1 : 0;
      }
    }
  }
  const auto stats = memo->stats();
  CHECK(passes > 100);
  CHECK(stats.hits > 10 * stats.misses);
  CHECK(stats.stored > 0);
  CHECK(stats.clears == 0);
  // Every sub-evaluation not reused was either stored or not storable (c7 and c9 need more than 10 lookups).
  CHECK(stats.misses + stats.near_limit == stats.stored + stats.not_stored);
  CHECK(stats.near_limit > 0);
  CHECK(memo->size() == stats.stored);

  SUBCASE("an include's outcome and counts, reused")
  {
    const auto on = same_with_memo(zone, "198.51.100.77", "c0.example", memo);
    CHECK(on.result == SpfResult::pass);
    CHECK(on.deciding_domain == "c0.example");
    CHECK(on.deciding_term->text == "include:_spf.gprov.example");
    CHECK(on.dns_terms == 3); // a, the include, and the first netblock include inside it
  }
  SUBCASE("a redirect= target's deciding term, reused")
  {
    const auto on = same_with_memo(zone, "90.190.150.210", "c2.example", memo);
    CHECK(on.result == SpfResult::pass);
    CHECK(on.deciding_domain == "_spf.redirect.example");
    CHECK(on.deciding_term->text == "ip4:90.190.150.210");
    CHECK(on.dns_terms == 5); // redirect=, the include in its target, the three netblock includes
  }
  SUBCASE("an include of a name without SPF, reused")
  {
    const auto on = same_with_memo(zone, "192.0.2.10", "c5.example", memo);
    CHECK(on.result == SpfResult::permerror);
    CHECK(on.error_code == "spf.include_no_record");
    CHECK(on.deciding_domain == "missing.example");
  }
}

TEST_CASE("spf::EvaluationMemo: a stored sub-evaluation is not reused when its counts would cross a limit")
{
  dns::ZoneResolver zone("limits");
  // big.example: 5 DNS-querying terms that match nothing (an include of it costs 6).
  zone.add_txt("big.example", {"v=spf1 a:h1.example a:h2.example a:h3.example a:h4.example a:h5.example -all"});
  // four.example: 4 terms (an include of it costs 5).
  zone.add_txt("four.example", {"v=spf1 a:h1.example a:h2.example a:h3.example a:h4.example -all"});
  for (int i = 1; i <= 5; ++i) {
    zone.add_address(fmt::format("h{}.example", i), ip(fmt::format("192.0.2.{}", i)));
  }
  zone.add_txt("once.example", {"v=spf1 include:big.example -all"});
  zone.add_txt("twice.example", {"v=spf1 include:big.example include:big.example -all"});
  zone.add_txt("exactly.example", {"v=spf1 include:four.example include:four.example -all"});
  zone.add_txt("late.example", {"v=spf1 a:h1.example a:h2.example a:h3.example a:h4.example a:h5.example "
                                "include:big.example -all"});
  // voids.example: two void lookups (the limit) and no match.
  zone.add_txt("voids.example", {"v=spf1 a:nx1.example a:nx2.example -all"});
  zone.add_txt("void-once.example", {"v=spf1 include:voids.example -all"});
  zone.add_txt("void-twice.example", {"v=spf1 include:voids.example include:voids.example -all"});
  zone.add_txt("void-after.example", {"v=spf1 a:nx3.example include:voids.example -all"});
  // over.example: needs 11 terms by itself; a limit was reached, so it is never stored.
  zone.add_txt("over.example", {"v=spf1 include:big.example include:big.example ip4:192.0.2.200 -all"});
  zone.add_txt("over-user.example", {"v=spf1 include:over.example -all"});

  const auto memo = std::make_shared<spf::EvaluationMemo>();

  SUBCASE("the same include twice: the second use crosses 10 and gives the same permerror")
  {
    const auto first = same_with_memo(zone, "192.0.2.200", "once.example", memo);
    CHECK(first.result == SpfResult::fail);
    CHECK(first.dns_terms == 6);
    CHECK(memo->stats().stored == 1);
    const auto on = same_with_memo(zone, "192.0.2.200", "twice.example", memo);
    CHECK(on.result == SpfResult::permerror);
    CHECK(on.error_code == "spf.too_many_lookups");
    CHECK(on.deciding_domain == "big.example");
    CHECK(on.deciding_term->text == "a:h4.example");
    CHECK(on.dns_terms == 11);
    const auto stats = memo->stats();
    CHECK(stats.hits == 1);       // the first include of twice.example
    CHECK(stats.near_limit == 1); // the second, evaluated: 7 + 5 > 10
    CHECK(stats.not_stored == 1); // ... and it reached the limit
  }
  SUBCASE("exactly 10 is within the limit and reused")
  {
    const auto on = same_with_memo(zone, "192.0.2.200", "exactly.example", memo);
    CHECK(on.result == SpfResult::fail);
    CHECK(on.dns_terms == 10);
    const auto stats = memo->stats();
    CHECK(stats.stored == 1);
    CHECK(stats.hits == 1);
    CHECK(stats.near_limit == 0);
  }
  SUBCASE("an include stored at a low count, used late")
  {
    same_with_memo(zone, "192.0.2.200", "once.example", memo);
    const auto on = same_with_memo(zone, "192.0.2.200", "late.example", memo);
    CHECK(on.result == SpfResult::permerror);
    CHECK(on.error_code == "spf.too_many_lookups");
    CHECK(on.dns_terms == 11);
    CHECK(memo->stats().near_limit == 1);
  }
  SUBCASE("void lookups: reused at the limit, evaluated past it")
  {
    const auto first = same_with_memo(zone, "192.0.2.200", "void-once.example", memo);
    CHECK(first.result == SpfResult::fail);
    CHECK(first.void_lookups == 2);
    const auto twice = same_with_memo(zone, "192.0.2.200", "void-twice.example", memo);
    CHECK(twice.result == SpfResult::permerror);
    CHECK(twice.error_code == "spf.void_lookups");
    CHECK(twice.void_lookups == 3);
    const auto after = same_with_memo(zone, "192.0.2.200", "void-after.example", memo);
    CHECK(after.result == SpfResult::permerror);
    CHECK(after.error_code == "spf.void_lookups");
    CHECK(after.deciding_term->text == "a:nx2.example");
    const auto stats = memo->stats();
    CHECK(stats.hits == 1);
    CHECK(stats.near_limit == 2);
  }
  SUBCASE("an evaluation that reached a limit is not stored")
  {
    const auto on = same_with_memo(zone, "192.0.2.200", "over-user.example", memo);
    CHECK(on.result == SpfResult::permerror);
    CHECK(on.error_code == "spf.too_many_lookups");
    same_with_memo(zone, "192.0.2.200", "over-user.example", memo);
    const auto stats = memo->stats();
    // The first run stores big.example (at 2 + 5); its second use (8 + 5) and over.example reach the limit. The
    // second run reuses the first big.example and evaluates the rest again.
    CHECK(stats.stored == 1);
    CHECK(stats.hits == 1);
    CHECK(stats.near_limit == 2);
    CHECK(stats.not_stored == 4);
  }
  SUBCASE("lower limits in the options are respected by reused entries")
  {
    same_with_memo(zone, "192.0.2.200", "once.example", memo);
    spf::Options options;
    options.trace = spf::Trace::off;
    options.limits.dns_terms = 5;
    const auto off = dns::run_sync(zone, spf::check_host(zone, ip("192.0.2.200"), "once.example", "", options));
    options.memo = memo;
    const auto on = dns::run_sync(zone, spf::check_host(zone, ip("192.0.2.200"), "once.example", "", options));
    CHECK(test::evaluation_difference(off, on) == "");
    CHECK(on.result == SpfResult::permerror);
    CHECK(memo->stats().near_limit == 1);
  }
}

TEST_CASE("spf::EvaluationMemo: macros that depend on the sender, HELO or PTR name are not memoized")
{
  dns::ZoneResolver zone("macros");
  // One customer per macro letter, each including a provider record that uses it.
  for (const std::string letter : {"l", "s", "o", "h", "p", "i"}) {
    zone.add_txt(letter + ".example", {"v=spf1 include:_spf." + letter + ".example -all"});
  }
  zone.add_txt("_spf.l.example", {"v=spf1 exists:%{l}.allow.example -all"});
  zone.add_txt("_spf.s.example", {"v=spf1 exists:%{s}.senders.example -all"});
  zone.add_txt("_spf.o.example", {"v=spf1 exists:%{o}.origins.example -all"});
  zone.add_txt("_spf.h.example", {"v=spf1 exists:%{h}.helos.example -all"});
  zone.add_txt("_spf.p.example", {"v=spf1 exists:%{p}.names.example -all"});
  zone.add_txt("_spf.i.example", {"v=spf1 exists:%{ir}.%{v}.ips.example -all"});
  zone.add_address("alice.allow.example", ip("127.0.0.2"));
  zone.add_address("alice@s.example.senders.example", ip("127.0.0.2"));
  zone.add_address("o.example.origins.example", ip("127.0.0.2"));
  zone.add_address("good.helo.example.helos.example", ip("127.0.0.2"));
  zone.add_address("10.2.0.192.in-addr.ips.example", ip("127.0.0.2"));
  zone.add_ptr("10.2.0.192.in-addr.arpa", "host.d1.example");
  zone.add_address("host.d1.example", ip("192.0.2.10"));
  zone.add_address("host.d1.example.names.example", ip("127.0.0.2"));
  // redirect= to a record whose fail explanation names the sender.
  zone.add_txt("r.example", {"v=spf1 redirect=_spf.exp.example"});
  zone.add_txt("_spf.exp.example", {"v=spf1 -all exp=why.exp.example"});
  zone.add_txt("why.exp.example", {"%{l} may not send mail for %{o}"});

  const auto memo = std::make_shared<spf::EvaluationMemo>();
  const auto result = [&](const std::string& address, const std::string& domain, const std::string& sender,
                          const std::string& helo = "bad.helo.example") {
    return same_with_memo(zone, address, domain, memo, sender, helo).result;
  };
  for (int round = 0; round < 2; ++round) {
    for (const std::string address : {"192.0.2.10", "192.0.2.11"}) {
      CHECK(result(address, "l.example", "alice@l.example") == SpfResult::pass);
      CHECK(result(address, "l.example", "bob@l.example") == SpfResult::fail);
      CHECK(result(address, "s.example", "alice@s.example") == SpfResult::pass);
      CHECK(result(address, "s.example", "bob@s.example") == SpfResult::fail);
      CHECK(result(address, "o.example", "alice@o.example") == SpfResult::pass);
      CHECK(result(address, "o.example", "alice@other.example") == SpfResult::fail);
      CHECK(result(address, "h.example", "alice@h.example", "good.helo.example") == SpfResult::pass);
      CHECK(result(address, "h.example", "alice@h.example") == SpfResult::fail);
    }
    CHECK(result("192.0.2.10", "p.example", "alice@p.example") == SpfResult::pass);
    CHECK(result("192.0.2.11", "p.example", "alice@p.example") == SpfResult::fail);
    CHECK(result("192.0.2.10", "i.example", "alice@i.example") == SpfResult::pass);
    CHECK(result("192.0.2.11", "i.example", "alice@i.example") == SpfResult::fail);
    const auto alice = same_with_memo(zone, "192.0.2.1", "r.example", memo, "alice@r.example");
    CHECK(alice.explanation == "alice may not send mail for r.example");
    const auto bob = same_with_memo(zone, "192.0.2.1", "r.example", memo, "bob@r.example");
    CHECK(bob.explanation == "bob may not send mail for r.example");
  }

  // Only the %{ir}.%{v} include was stored (once per address) and reused in the second round.
  const auto stats = memo->stats();
  CHECK(stats.stored == 2);
  CHECK(stats.hits == 2);
  CHECK(stats.not_stored == 2 * (2 * 8 + 2 + 2));
}

TEST_CASE("spf::EvaluationMemo: include and redirect= of one target, with and without an explanation")
{
  dns::ZoneResolver zone("roles");
  zone.add_txt("inc.example", {"v=spf1 include:nothing.example -all"});
  zone.add_txt("red.example", {"v=spf1 redirect=nothing.example"});
  zone.add_txt("inc-fail.example", {"v=spf1 include:failing.example ~all"});
  zone.add_txt("red-fail.example", {"v=spf1 redirect=failing.example"});
  zone.add_txt("red-plain.example", {"v=spf1 redirect=plain.example"});
  zone.add_txt("inc-plain.example", {"v=spf1 include:plain.example ?all"});
  zone.add_txt("failing.example", {"v=spf1 -all exp=why.failing.example"});
  zone.add_txt("why.failing.example", {"%{d} says no"});
  zone.add_txt("plain.example", {"v=spf1 -all"});
  // A redirect= inside an include: wants no explanation, so it must not serve a top-level redirect= that does.
  zone.add_txt("inc-red.example", {"v=spf1 include:via-redirect.example ~all"});
  zone.add_txt("via-redirect.example", {"v=spf1 redirect=failing.example"});

  const auto memo = std::make_shared<spf::EvaluationMemo>();
  for (int round = 0; round < 2; ++round) {
    const auto inc_red = same_with_memo(zone, "192.0.2.1", "inc-red.example", memo);
    CHECK(inc_red.result == SpfResult::softfail);
    CHECK(inc_red.explanation.empty());
    const auto inc = same_with_memo(zone, "192.0.2.1", "inc.example", memo);
    CHECK(inc.error_code == "spf.include_no_record");
    const auto red = same_with_memo(zone, "192.0.2.1", "red.example", memo);
    CHECK(red.error_code == "spf.redirect_no_record");
    // The second round's comes from the memo entry, which handing out the first must have left whole.
    CHECK(red.reason == "nothing.example has no SPF record, but it is named by redirect=");
    const auto inc_fail = same_with_memo(zone, "192.0.2.1", "inc-fail.example", memo);
    CHECK(inc_fail.result == SpfResult::softfail);
    CHECK(inc_fail.explanation.empty());
    const auto red_fail = same_with_memo(zone, "192.0.2.1", "red-fail.example", memo);
    CHECK(red_fail.result == SpfResult::fail);
    CHECK(red_fail.explanation == "failing.example says no");
    CHECK(same_with_memo(zone, "192.0.2.1", "inc-plain.example", memo).result == SpfResult::neutral);
    const auto red_plain = same_with_memo(zone, "192.0.2.1", "red-plain.example", memo);
    CHECK(red_plain.result == SpfResult::fail);
    CHECK(red_plain.explanation == "See https://www.rfc-editor.org/rfc/rfc7208 (SPF)");
  }
  const auto stats = memo->stats();
  // Stored: via-redirect.example as include and failing.example as its redirect= (no explanation wanted),
  // nothing.example as include and as redirect, failing.example as include (the top-level redirect= fetched exp=,
  // so not that one), plain.example as include and as redirect.
  CHECK(stats.stored == 7);
  CHECK(stats.hits == 6); // the second round (via-redirect.example hits, so its redirect= is not looked up)
  CHECK(stats.not_stored == 2);
}

TEST_CASE("spf::EvaluationMemo: CNAMEs and DNS failures")
{
  dns::ZoneResolver zone("failures");
  zone.add_txt("_spf.real.example", {"v=spf1 ip4:192.0.2.0/24 -all"});
  zone.add_cname("_spf.alias.example", "_spf.real.example");
  zone.add_txt("cname.example", {"v=spf1 include:_spf.alias.example -all"});
  zone.add_txt("cname2.example", {"v=spf1 include:_spf.alias.example include:_spf.real.example ~all"});
  zone.add_failure("_spf.slow.example", dns::Status::timeout);
  zone.add_txt("slow-txt.example", {"v=spf1 include:_spf.slow.example -all"});
  zone.add_txt("_spf.slowmx.example", {"v=spf1 mx:slowmx.example -all"});
  zone.add_mx("slowmx.example", 10, "mx.slowmx.example");
  zone.add_failure("mx.slowmx.example", dns::Status::servfail);
  zone.add_txt("slow-mx.example", {"v=spf1 include:_spf.slowmx.example -all"});
  // A failed PTR lookup does not stop the evaluation (no match), but the outcome is not stored either.
  zone.add_txt("_spf.ptr.example", {"v=spf1 ptr:example.org -all"});
  zone.add_failure("1.2.0.192.in-addr.arpa", dns::Status::timeout);
  zone.add_txt("slow-ptr.example", {"v=spf1 include:_spf.ptr.example ?all"});

  const auto memo = std::make_shared<spf::EvaluationMemo>();
  for (int round = 0; round < 2; ++round) {
    for (const std::string address : {"192.0.2.1", "198.51.100.1"}) {
      same_with_memo(zone, address, "cname.example", memo);
      same_with_memo(zone, address, "cname2.example", memo);
      same_with_memo(zone, address, "slow-txt.example", memo);
      same_with_memo(zone, address, "slow-mx.example", memo);
      same_with_memo(zone, address, "slow-ptr.example", memo);
    }
  }
  const auto pass = same_with_memo(zone, "192.0.2.1", "cname.example", memo);
  CHECK(pass.result == SpfResult::pass);
  CHECK(pass.deciding_term->text == "include:_spf.alias.example");
  const auto txt = same_with_memo(zone, "192.0.2.1", "slow-txt.example", memo);
  CHECK(txt.result == SpfResult::temperror);
  REQUIRE(txt.dns_failure.has_value());
  CHECK(txt.dns_failure->status == dns::Status::timeout);
  const auto mx = same_with_memo(zone, "192.0.2.1", "slow-mx.example", memo);
  CHECK(mx.result == SpfResult::temperror);
  CHECK(mx.deciding_domain == "_spf.slowmx.example");
  CHECK(same_with_memo(zone, "192.0.2.1", "slow-ptr.example", memo).result == SpfResult::neutral);

  const auto stats = memo->stats();
  // Stored: _spf.alias.example for each address, _spf.real.example for 198.51.100.1 (192.0.2.1 passes on the alias
  // before it), and _spf.ptr.example for 198.51.100.1 (its PTR lookup answers NXDOMAIN, a stable answer). Not stored: the timeouts and the SERVFAIL for both addresses and
  // the PTR timeout of 192.0.2.1, in both rounds, and the three checks after them.
  CHECK(stats.stored == 4);
  CHECK(stats.not_stored == 2 * 2 * 2 + 2 + 3);
}

TEST_CASE("spf::EvaluationMemo: off while tracing, bounded by its capacity")
{
  auto zone = make_shared_zone();

  SUBCASE("the trace stays complete: the memo is not used")
  {
    const auto memo = std::make_shared<spf::EvaluationMemo>();
    same_with_memo(zone, "198.51.100.77", "c7.example", memo);
    const auto before = memo->stats();
    spf::Options options;
    options.memo = memo;
    const auto traced =
      dns::run_sync(zone, spf::check_host(zone, ip("198.51.100.77"), "c7.example", "", spf::Options{}));
    const auto with_memo = dns::run_sync(zone, spf::check_host(zone, ip("198.51.100.77"), "c7.example", "", options));
    CHECK(with_memo.trace.size() == traced.trace.size());
    CHECK(with_memo.trace.size() > 5);
    const auto after = memo->stats();
    CHECK(after.hits == before.hits);
    CHECK(after.misses == before.misses);
  }
  SUBCASE("a full memo is emptied and filled again")
  {
    const auto memo = std::make_shared<spf::EvaluationMemo>(3);
    for (int i = 0; i < 60; ++i) {
      for (const auto& address : k_addresses) {
        same_with_memo(zone, address, fmt::format("c{}.example", i), memo);
      }
    }
    CHECK(memo->size() <= 3);
    const auto stats = memo->stats();
    CHECK(stats.clears > 10);
    CHECK(stats.hits > 0);
  }
}
