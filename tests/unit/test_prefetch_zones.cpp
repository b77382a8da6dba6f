// Lookahead prefetching must never change SPF results or the RFC 7208 accounting: every name with an SPF record in
// the demo zone and the integration-test zones is evaluated for every Directo address with prefetching off
// (answers straight from the zone) and on (answers arriving asynchronously, prefetched ones served at once; and
// through a CachingResolver over a resolver answering in rounds, which exercises the lookahead that follows
// prefetched include:/redirect= and mx answers). It must also reach a whole include tree in depth + 1 rounds, within
// its bounds (10 levels, 30 names).

#include "../support/prefetch_recorder.hpp"

#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

using namespace sendcheck;

namespace {

/// Answers from a ZoneResolver in waves, like a network with one fixed round trip: `run` answers every query
/// pending at the start of a wave, and queries sent from those callbacks wait for the next wave. Put a
/// dns::CachingResolver in front of it (prefetches are queries, joined by later queries for the same name).
class WaveResolver : public dns::Resolver
{
public:
  explicit WaveResolver(dns::ZoneResolver& zone) : m_zone(zone) {}

  void
  query(std::string_view name, dns::RRType type, Callback done) override
  {
    ++m_queries;
    m_pending.emplace_back(m_zone.answer(name, type), std::move(done));
  }

  void
  run() override
  {
    while (!m_pending.empty()) {
      ++m_waves;
      auto wave = std::move(m_pending);
      m_pending.clear();
      for (auto& [answer, done] : wave) {
        done(std::move(answer));
      }
    }
  }

  /// Rounds the answers took.
  size_t waves() const { return m_waves; }
  /// Queries received.
  size_t queries() const { return m_queries; }

private:
  dns::ZoneResolver& m_zone;
  std::deque<std::pair<dns::AnswerPtr, Callback>> m_pending;
  size_t m_waves = 0;
  size_t m_queries = 0;
};

/// What one check_host() through a CachingResolver over a WaveResolver gave and cost.
struct WaveRun
{
  spf::Evaluation evaluation;
  size_t waves = 0;
  size_t queries = 0;
};

WaveRun
run_in_waves(dns::ZoneResolver& zone, const std::string& domain, const dns::IpAddress& ip, spf::Prefetch prefetch)
{
  WaveResolver waves(zone);
  dns::CachingResolver cache(waves);
  spf::Options options;
  options.prefetch = prefetch;
  options.cache = std::make_shared<spf::RecordCache>();
  WaveRun run;
  run.evaluation = dns::run_sync(cache, spf::check_host(cache, ip, domain, "postmaster@" + domain, options));
  run.waves = waves.waves();
  run.queries = waves.queries();
  return run;
}

dns::IpAddress
ip_of(std::string_view text)
{
  const auto ip = dns::IpAddress::parse(text);
  REQUIRE(ip);
  return *ip;
}

} // namespace

TEST_CASE("spf::check_host: prefetching changes nothing on the demo and integration zones")
{
  const std::vector<std::string> files = {
    SENDCHECK_SOURCE_DIR "/examples/demo.zone",
    SENDCHECK_SOURCE_DIR "/tests/zones/knot-test.zone",
  };
  size_t evaluations = 0;
  size_t hits = 0;
  for (const auto& file : files) {
    CAPTURE(file);
    dns::ZoneResolver zone(file);
    REQUIRE(dns::load_zone_file(zone, file));
    for (const auto& name : zone.names()) {
      const auto txt = zone.answer(name, dns::RRType::txt);
      if (spf::select_record(*txt).status == spf::SelectionStatus::none) {
        continue;
      }
      for (const auto& ip : directo_profile().all_ips(true)) {
        CAPTURE(name);
        CAPTURE(ip.to_string());
        spf::Options options;
        options.prefetch = spf::Prefetch::off;
        const auto off = dns::run_sync(zone, spf::check_host(zone, ip, name, "postmaster@" + name, options));

        test::PrefetchRecorder recorder(zone);
        options.prefetch = spf::Prefetch::on;
        const auto on = dns::run_sync(recorder, spf::check_host(recorder, ip, name, "postmaster@" + name, options));
        hits += recorder.hits();
        ++evaluations;

        CHECK(on.result == off.result);
        CHECK(on.dns_terms == off.dns_terms);
        CHECK(on.void_lookups == off.void_lookups);
        CHECK(on.error_code == off.error_code);
        CHECK(on.explanation == off.explanation);
        CHECK(on.trace.size() == off.trace.size());
      }
    }
  }
  CHECK(evaluations >= 50);
  CHECK(hits > 0); // prefetched answers were really used
}

TEST_CASE("spf::check_host: the prefetch lookahead reaches the whole include tree")
{
  SUBCASE("a four-level tree with an mx term before an include takes depth + 1 rounds")
  {
    // bench/gen_zone.py's latency tree, its last level without a host to look up.
    dns::ZoneResolver zone("deep");
    zone.add_txt("top.test", {"v=spf1 include:l1.test -all"});
    zone.add_txt("l1.test", {"v=spf1 a:h1.test include:l2.test -all"});
    zone.add_txt("l2.test", {"v=spf1 mx:h2.test include:l3.test -all"});
    zone.add_txt("l3.test", {"v=spf1 a:h3.test include:l4.test -all"});
    zone.add_txt("l4.test", {"v=spf1 ip4:192.0.2.10 -all"});
    zone.add_address("h1.test", ip_of("198.51.100.1"));
    zone.add_mx("h2.test", 10, "h2.test");
    zone.add_address("h2.test", ip_of("198.51.100.2"));
    zone.add_address("h3.test", ip_of("198.51.100.3"));

    for (const auto* address : {"192.0.2.10", "198.51.100.2", "203.0.113.9"}) {
      CAPTURE(address);
      const auto off = run_in_waves(zone, "top.test", ip_of(address), spf::Prefetch::off);
      const auto on = run_in_waves(zone, "top.test", ip_of(address), spf::Prefetch::on);
      CHECK(on.evaluation.result == off.evaluation.result);
      CHECK(on.evaluation.dns_terms == off.evaluation.dns_terms);
      CHECK(on.evaluation.void_lookups == off.evaluation.void_lookups);
      CHECK(on.evaluation.trace.size() == off.evaluation.trace.size());
      if (std::string_view(address) == "198.51.100.2") {
        CHECK(on.evaluation.result == spf::SpfResult::pass);
        CHECK(off.waves == 6); // top, l1, h1 A + l2, MX h2, A h2: matched
      } else {
        CHECK(on.evaluation.result == (std::string_view(address) == "192.0.2.10" ? spf::SpfResult::pass
                                                                                  : spf::SpfResult::fail));
        CHECK(off.waves == 9); // every lookup waits for the one before
        CHECK(off.queries == 9);
        CHECK(on.queries == 9); // the same names, only sooner
      }
      CHECK(on.waves == 5); // (depth + 1): l3's targets do not wait for the mx term before l3
    }
  }

  SUBCASE("a wide tree: at most 30 names are prefetched from records the evaluation did not reach")
  {
    dns::ZoneResolver zone("wide");
    std::string top = "v=spf1 ip4:192.0.2.10";
    for (int i = 0; i < 5; ++i) {
      const std::string wide = "w" + std::to_string(i) + ".test";
      top += " include:" + wide;
      std::string record = "v=spf1";
      for (int j = 0; j < 10; ++j) {
        const std::string leaf = "x" + std::to_string(i) + "-" + std::to_string(j) + ".test";
        record += " include:" + leaf;
        zone.add_txt(leaf, {"v=spf1 a -all"});
      }
      zone.add_txt(wide, {record + " -all"});
    }
    zone.add_txt("top.test", {top + " -all"});
    const auto on = run_in_waves(zone, "top.test", ip_of("192.0.2.10"), spf::Prefetch::on);
    CHECK(on.evaluation.result == spf::SpfResult::pass);
    CHECK(on.queries == 1 + 5 + 30); // top's own targets as always, then the budget
    const auto off = run_in_waves(zone, "top.test", ip_of("192.0.2.10"), spf::Prefetch::off);
    CHECK(off.queries == 1);
  }

  SUBCASE("a deep chain is followed 10 levels down")
  {
    dns::ZoneResolver zone("chain");
    zone.add_txt("top.test", {"v=spf1 ip4:192.0.2.10 include:c1.test -all"});
    for (int i = 1; i <= 15; ++i) {
      zone.add_txt("c" + std::to_string(i) + ".test",
                   {"v=spf1 include:c" + std::to_string(i + 1) + ".test -all"});
    }
    const auto on = run_in_waves(zone, "top.test", ip_of("192.0.2.10"), spf::Prefetch::on);
    CHECK(on.evaluation.result == spf::SpfResult::pass);
    CHECK(on.queries == 1 + 11); // c1..c10 are followed; c10's record names c11, prefetched but not followed
  }

  SUBCASE("a cached tree is not walked again, and a second check asks nothing")
  {
    dns::ZoneResolver zone("again");
    zone.add_txt("top.test", {"v=spf1 include:l1.test -all"});
    zone.add_txt("l1.test", {"v=spf1 mx:l1.test include:l2.test -all"});
    zone.add_txt("l2.test", {"v=spf1 a -all"});
    zone.add_mx("l1.test", 10, "mail.l1.test");
    zone.add_address("mail.l1.test", ip_of("198.51.100.7"));
    zone.add_address("l2.test", ip_of("198.51.100.8"));
    WaveResolver waves(zone);
    dns::CachingResolver cache(waves);
    spf::Options options;
    const auto ip = ip_of("198.51.100.8");
    const auto first = dns::run_sync(cache, spf::check_host(cache, ip, "top.test", "postmaster@top.test", options));
    CHECK(first.result == spf::SpfResult::pass);
    CHECK(waves.waves() == 4); // top; l1; l1 MX and l2 TXT together; mail.l1 A and l2 A together (6 without)
    CHECK(waves.queries() == 6);
    const auto second = dns::run_sync(cache, spf::check_host(cache, ip, "top.test", "postmaster@top.test", options));
    CHECK(second.result == spf::SpfResult::pass);
    CHECK(waves.queries() == 6);
    CHECK(waves.waves() == 4);
  }
}

TEST_CASE("spf::check_host: the prefetch lookahead changes nothing on the demo and integration zones")
{
  const std::vector<std::string> files = {
    SENDCHECK_SOURCE_DIR "/examples/demo.zone",
    SENDCHECK_SOURCE_DIR "/tests/zones/knot-test.zone",
  };
  size_t evaluations = 0;
  for (const auto& file : files) {
    CAPTURE(file);
    dns::ZoneResolver zone(file);
    REQUIRE(dns::load_zone_file(zone, file));
    for (const auto& name : zone.names()) {
      const auto txt = zone.answer(name, dns::RRType::txt);
      if (spf::select_record(*txt).status == spf::SelectionStatus::none) {
        continue;
      }
      for (const auto& ip : directo_profile().all_ips(true)) {
        CAPTURE(name);
        CAPTURE(ip.to_string());
        const auto off = run_in_waves(zone, name, ip, spf::Prefetch::off);
        const auto on = run_in_waves(zone, name, ip, spf::Prefetch::on);
        ++evaluations;
        CHECK(on.evaluation.result == off.evaluation.result);
        CHECK(on.evaluation.dns_terms == off.evaluation.dns_terms);
        CHECK(on.evaluation.void_lookups == off.evaluation.void_lookups);
        CHECK(on.evaluation.error_code == off.evaluation.error_code);
        CHECK(on.evaluation.reason == off.evaluation.reason);
        CHECK(on.evaluation.explanation == off.evaluation.explanation);
        CHECK(on.evaluation.deciding_domain == off.evaluation.deciding_domain);
        CHECK(on.evaluation.trace.size() == off.evaluation.trace.size());
        CHECK(on.waves <= off.waves);
      }
    }
  }
  CHECK(evaluations >= 50);
}

namespace {

/// The evaluations of `addresses` in turn for `domain`, the way report::check_domain runs them (one resolver, one
/// after the other), with or without one lookahead shared among them; and the prefetches and rounds they took.
struct SharedRun
{
  std::vector<spf::Evaluation> evaluations;
  size_t prefetches = 0;
  std::vector<size_t> waves; ///< Rounds each evaluation took (through a CachingResolver over a WaveResolver).
};

SharedRun
run_addresses(dns::ZoneResolver& zone, const std::string& domain, const std::vector<std::string>& addresses,
              bool shared)
{
  SharedRun run;
  spf::Options options;
  if (shared) {
    options.prefetch_share = spf::make_prefetch_share();
  }
  test::PrefetchRecorder recorder(zone);
  for (const auto& address : addresses) {
    run.evaluations.push_back(
      dns::run_sync(recorder, spf::check_host(recorder, ip_of(address), domain, "postmaster@" + domain, options)));
  }
  run.prefetches = recorder.prefetches();

  if (shared) {
    options.prefetch_share = spf::make_prefetch_share();
  }
  WaveResolver waves(zone);
  dns::CachingResolver cache(waves);
  for (const auto& address : addresses) {
    const size_t before = waves.waves();
    dns::run_sync(cache, spf::check_host(cache, ip_of(address), domain, "postmaster@" + domain, options));
    run.waves.push_back(waves.waves() - before);
  }
  return run;
}

} // namespace

TEST_CASE("spf::check_host: the addresses of one domain share one lookahead (Options::prefetch_share)")
{
  SUBCASE("each record is walked once for all addresses, and nothing else changes")
  {
    dns::ZoneResolver zone("share");
    zone.add_txt("top.test", {"v=spf1 a mx include:l1.test -all"});
    zone.add_txt("l1.test", {"v=spf1 a:h1.test include:l2.test -all"});
    zone.add_txt("l2.test", {"v=spf1 ip4:192.0.2.10 -all"});
    zone.add_address("top.test", ip_of("198.51.100.1"));
    zone.add_mx("top.test", 10, "mx.top.test");
    zone.add_address("mx.top.test", ip_of("198.51.100.2"));
    zone.add_address("h1.test", ip_of("198.51.100.3"));
    const std::vector<std::string> addresses = {"203.0.113.9", "198.51.100.1", "198.51.100.3", "192.0.2.10",
                                                "203.0.113.10"};
    const auto alone = run_addresses(zone, "top.test", addresses, false);
    const auto shared = run_addresses(zone, "top.test", addresses, true);
    const auto first = run_addresses(zone, "top.test", {addresses.front()}, false);
    REQUIRE(shared.evaluations.size() == alone.evaluations.size());
    for (size_t i = 0; i < addresses.size(); ++i) {
      CAPTURE(addresses[i]);
      CHECK(shared.evaluations[i].result == alone.evaluations[i].result);
      CHECK(shared.evaluations[i].dns_terms == alone.evaluations[i].dns_terms);
      CHECK(shared.evaluations[i].void_lookups == alone.evaluations[i].void_lookups);
      CHECK(shared.evaluations[i].trace.size() == alone.evaluations[i].trace.size());
      CHECK(shared.waves[i] == alone.waves[i]);
    }
    CHECK(alone.evaluations[1].result == spf::SpfResult::pass);
    CHECK(alone.evaluations[4].result == spf::SpfResult::fail);
    CHECK(first.prefetches > 0);
    CHECK(shared.prefetches == first.prefetches); // the later addresses walk nothing again
    CHECK(alone.prefetches > shared.prefetches);
  }

  SUBCASE("a ptr term prefetches each address's own reverse name")
  {
    dns::ZoneResolver zone("ptr-share");
    zone.add_txt("top.test", {"v=spf1 ptr -all"});
    spf::Options options;
    options.prefetch_share = spf::make_prefetch_share();
    test::PrefetchRecorder recorder(zone);
    for (const auto* address : {"192.0.2.10", "203.0.113.9"}) {
      dns::run_sync(recorder, spf::check_host(recorder, ip_of(address), "top.test", "postmaster@top.test", options));
      CHECK(recorder.prefetched(ip_of(address).reverse_name(), dns::RRType::ptr));
    }
  }

  SUBCASE("a record the budget cut short is walked again for the next address")
  {
    // The first address matches at once. Its lookahead follows A, whose three MX answers name 30 hosts: the 30
    // names run out before C's terms are hinted. The second address evaluates its way to C, so C must be walked
    // again for it (c1 and c2 asked together), as its own lookahead would: no more rounds than alone.
    dns::ZoneResolver zone("cut-share");
    zone.add_txt("top.test", {"v=spf1 ip4:192.0.2.10 include:a.test -all"});
    zone.add_txt("a.test", {"v=spf1 mx:m1.test mx:m2.test mx:m3.test include:c.test -all"});
    for (int m = 1; m <= 3; ++m) {
      const std::string name = "m" + std::to_string(m) + ".test";
      for (int host = 0; host < 10; ++host) {
        const std::string exchange = "h" + std::to_string(host) + "." + name;
        zone.add_mx(name, static_cast<uint16_t>(10 + host), exchange);
        zone.add_address(exchange, ip_of("198.51.100." + std::to_string(10 * m + host)));
      }
    }
    zone.add_txt("c.test", {"v=spf1 a:c1.test a:c2.test -all"});
    zone.add_address("c1.test", ip_of("203.0.113.1"));
    zone.add_address("c2.test", ip_of("203.0.113.2"));
    const std::vector<std::string> addresses = {"192.0.2.10", "203.0.113.2"};
    const auto alone = run_addresses(zone, "top.test", addresses, false);
    const auto shared = run_addresses(zone, "top.test", addresses, true);
    CHECK(shared.evaluations[0].result == spf::SpfResult::pass);
    CHECK(shared.evaluations[1].result == spf::SpfResult::pass); // at a:c2, the 7th lookup
    CHECK(shared.evaluations[1].dns_terms == alone.evaluations[1].dns_terms);
    CHECK(shared.waves[1] <= alone.waves[1]);
  }
}
