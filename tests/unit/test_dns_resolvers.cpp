#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/dns/layered_resolver.hpp>
#include <sendcheck/dns/overlay_resolver.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <doctest/doctest.h>

#include <deque>
#include <utility>

using namespace sendcheck;
using dns::AnswerPtr;
using dns::IpAddress;
using dns::RRType;
using dns::Status;

namespace {

/// An asynchronous resolver for tests: answers from a ZoneResolver, but only when `run` is called, like the network.
class DeferredResolver : public dns::Resolver
{
public:
  explicit DeferredResolver(dns::ZoneResolver& zone)
    : m_zone(zone)
  {
  }

  void query(std::string_view name, RRType type, Callback done) override
  {
    ++m_queries;
    m_asked.emplace_back(name);
    m_pending.emplace_back(m_zone.answer(name, type), std::move(done));
  }

  void run() override
  {
    while (!m_pending.empty()) {
      auto [answer, done] = std::move(m_pending.front());
      m_pending.pop_front();
      done(answer);
    }
  }

  size_t queries() const { return m_queries; }
  const std::vector<std::string>& asked() const { return m_asked; }

private:
  dns::ZoneResolver& m_zone;
  std::deque<std::pair<AnswerPtr, Callback>> m_pending;
  std::vector<std::string> m_asked;
  size_t m_queries = 0;
};

dns::Resolver::Callback
store(AnswerPtr& into)
{
  return [&into](AnswerPtr answer) { into = std::move(answer); };
}

} // namespace

TEST_CASE("dns::CachingResolver")
{
  dns::ZoneResolver zone("upstream");
  zone.add_txt("_spf.provider.example", { "v=spf1 ip4:192.0.2.0/24 -all" });
  zone.add_failure("slow.example", Status::timeout);
  DeferredResolver upstream(zone);

  SUBCASE("N concurrent queries for one key: one upstream query, every caller answered")
  {
    dns::CachingResolver cache(upstream);
    std::vector<AnswerPtr> answers(10);
    for (auto& answer : answers) {
      cache.query("_SPF.provider.example.", RRType::txt, store(answer));
    }
    CHECK(upstream.queries() == 1);
    CHECK_FALSE(answers[0]);
    cache.run();
    for (const auto& answer : answers) {
      REQUIRE(answer);
      CHECK(answer->status == Status::ok);
      CHECK(answer.get() == answers[0].get());
    }
    CHECK(cache.stats().queries == 10);
    CHECK(cache.stats().coalesced == 9);
    CHECK(cache.stats().upstream == 1);
    CHECK(cache.stats().hits == 0);

    AnswerPtr later;
    cache.query("_spf.provider.example", RRType::txt, store(later));
    REQUIRE(later); // answered synchronously from the cache
    CHECK(later.get() == answers[0].get());
    CHECK(cache.stats().hits == 1);
    CHECK(upstream.queries() == 1);
  }
  SUBCASE("types are separate keys; negative and failed answers are cached")
  {
    dns::CachingResolver cache(upstream);
    AnswerPtr txt;
    AnswerPtr a;
    AnswerPtr missing;
    AnswerPtr slow;
    cache.query("_spf.provider.example", RRType::txt, store(txt));
    cache.query("_spf.provider.example", RRType::a, store(a));
    cache.query("nothing.example", RRType::txt, store(missing));
    cache.query("slow.example", RRType::txt, store(slow));
    cache.run();
    CHECK(a->status == Status::nodata);
    CHECK(missing->status == Status::nxdomain);
    CHECK(slow->status == Status::timeout);
    CHECK(upstream.queries() == 4);

    cache.query("nothing.example", RRType::txt, store(missing));
    cache.query("slow.example", RRType::txt, store(slow));
    CHECK(missing->status == Status::nxdomain);
    CHECK(slow->status == Status::timeout);
    CHECK(upstream.queries() == 4);
    CHECK(cache.stats().hits == 2);
    CHECK(cache.size() == 4);
  }
  SUBCASE("a waiter may query again from its callback")
  {
    dns::CachingResolver cache(upstream);
    AnswerPtr second;
    cache.query("_spf.provider.example", RRType::txt, [&](AnswerPtr) {
      cache.query("_spf.provider.example", RRType::txt, store(second));
    });
    cache.run();
    REQUIRE(second);
    CHECK(second->status == Status::ok);
    CHECK(cache.stats().hits == 1);
  }
  SUBCASE("prefetch sends the query once and fills the cache")
  {
    dns::CachingResolver cache(upstream);
    cache.prefetch("_spf.provider.example", RRType::txt);
    cache.prefetch("_spf.provider.example", RRType::txt);
    AnswerPtr answer;
    cache.query("_spf.provider.example", RRType::txt, store(answer));
    CHECK(upstream.queries() == 1);
    cache.run();
    REQUIRE(answer);
    CHECK(answer->status == Status::ok);
    CHECK(cache.stats().prefetches == 1);
    CHECK(cache.stats().coalesced == 1);
    CHECK(cache.cached("_spf.provider.example", RRType::txt) == answer);
  }
  SUBCASE("a bound on entries evicts the least recently used")
  {
    dns::CachingResolver cache(upstream, 2);
    AnswerPtr answer;
    cache.query("a.example", RRType::a, store(answer));
    cache.query("b.example", RRType::a, store(answer));
    cache.run();
    cache.query("a.example", RRType::a, store(answer)); // a is now the most recently used
    cache.query("c.example", RRType::a, store(answer));
    cache.run();
    CHECK(cache.size() == 2);
    CHECK(cache.stats().evictions == 1);
    CHECK(cache.cached("a.example", RRType::a));
    CHECK_FALSE(cache.cached("b.example", RRType::a));
    CHECK(cache.cached("c.example", RRType::a));
    cache.query("b.example", RRType::a, store(answer));
    CHECK(upstream.queries() == 4);
  }
  SUBCASE("a synchronous upstream works too")
  {
    dns::CachingResolver cache(zone);
    AnswerPtr answer;
    cache.query("_spf.provider.example", RRType::txt, store(answer));
    REQUIRE(answer);
    CHECK(answer->status == Status::ok);
    cache.query("_spf.provider.example", RRType::txt, store(answer));
    CHECK(cache.stats().hits == 1);
    CHECK(cache.stats().upstream == 1);
  }
}

TEST_CASE("dns::LayeredResolver")
{
  dns::ZoneResolver local("zone file local.zone");
  local.add_apex("example.ee");
  local.add_txt("example.ee", { "v=spf1 include:_spf.provider.example -all" });
  local.add_cname("alias.example.ee", "target.provider.example");
  local.add_cname("inner.example.ee", "sub.example.ee");
  dns::ZoneResolver sub("zone file sub.zone");
  sub.add_apex("sub.example.ee");
  sub.add_address("sub.example.ee", *IpAddress::parse("192.0.2.9"));

  dns::ZoneResolver network_data("network");
  network_data.add_txt("_spf.provider.example", { "v=spf1 ip4:192.0.2.0/24 -all" });
  network_data.add_address("target.provider.example", *IpAddress::parse("198.51.100.1"));
  network_data.add_txt("example.ee", { "v=spf1 -all (the published one)" });
  DeferredResolver network(network_data);

  SUBCASE("names in the zones are answered authoritatively, others go to the fallback")
  {
    dns::LayeredResolver layered(network);
    layered.add_zone(local);
    layered.add_zone(sub);
    CHECK(layered.zone_for("x.example.ee") == &local);
    CHECK(layered.zone_for("x.SUB.example.ee.") == &sub);
    CHECK(layered.zone_for("provider.example") == nullptr);

    AnswerPtr own;
    AnswerPtr missing;
    AnswerPtr outside;
    layered.query("example.ee", RRType::txt, store(own));
    layered.query("missing.example.ee", RRType::txt, store(missing));
    layered.query("_spf.provider.example", RRType::txt, store(outside));
    REQUIRE(own);
    CHECK(own->txt.at(0).joined() == "v=spf1 include:_spf.provider.example -all");
    CHECK(own->server == "zone file local.zone");
    REQUIRE(missing);
    CHECK(missing->status == Status::nxdomain);
    CHECK_FALSE(outside);
    layered.run();
    REQUIRE(outside);
    CHECK(outside->status == Status::ok);
    CHECK(network.asked() == std::vector<std::string>{ "_spf.provider.example" });
    CHECK_FALSE(layered.offline());
  }
  SUBCASE("CNAMEs leaving a zone are followed")
  {
    dns::LayeredResolver layered(network);
    layered.add_zone(local);
    layered.add_zone(sub);
    AnswerPtr alias;
    AnswerPtr inner;
    layered.query("alias.example.ee", RRType::a, store(alias));
    layered.query("inner.example.ee", RRType::a, store(inner));
    layered.run();
    REQUIRE(alias);
    CHECK(alias->status == Status::ok);
    CHECK(alias->name == "alias.example.ee");
    CHECK(alias->addresses == std::vector{ *IpAddress::parse("198.51.100.1") });
    CHECK(alias->cname_chain == std::vector<std::string>{ "target.provider.example" });
    REQUIRE(inner);
    CHECK(inner->addresses == std::vector{ *IpAddress::parse("192.0.2.9") });
    CHECK(inner->cname_chain == std::vector<std::string>{ "sub.example.ee" });
  }
  SUBCASE("offline: outside names are NXDOMAIN and counted")
  {
    dns::LayeredResolver layered;
    layered.add_zone(local);
    CHECK(layered.offline());
    AnswerPtr outside;
    layered.query("_SPF.provider.example", RRType::txt, store(outside));
    layered.query("_spf.provider.example", RRType::a, store(outside));
    layered.query("alias.example.ee", RRType::a, store(outside));
    REQUIRE(outside);
    CHECK(outside->status == Status::nxdomain);
    CHECK(outside->detail == "outside the zones given (--offline)");
    CHECK(outside->cname_chain == std::vector<std::string>{ "target.provider.example" });
    CHECK(layered.outside_queries() == 3);
    CHECK(layered.outside_names() == std::set<std::string>{ "_spf.provider.example", "target.provider.example" });
    layered.run();
  }
  SUBCASE("a zone without apex covers only its own names")
  {
    dns::ZoneResolver loose;
    loose.add_txt("only.example", { "x" });
    dns::LayeredResolver layered;
    layered.add_zone(loose);
    CHECK(layered.zone_for("only.example") == &loose);
    CHECK(layered.zone_for("other.example") == nullptr);
  }
}

TEST_CASE("dns::OverlayResolver")
{
  dns::ZoneResolver published("published");
  published.add_txt("example.ee", { "v=spf1 -all" });
  published.add_txt("example.ee", { "google-site-verification=abc" });
  published.add_address("example.ee", *IpAddress::parse("192.0.2.1"));
  published.add_failure("slow.example.ee", Status::timeout);

  SUBCASE("replace_same_version: the candidate replaces the published SPF, other TXT records stay")
  {
    dns::OverlayResolver overlay(published);
    overlay.add_txt("Example.EE.", "v=spf1 ip4:90.190.150.212 -all");
    AnswerPtr answer;
    overlay.query("example.ee", RRType::txt, store(answer));
    REQUIRE(answer);
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 2);
    CHECK(answer->txt[0].joined() == "google-site-verification=abc");
    CHECK(answer->txt[1].strings == std::vector<std::string>{ "v=spf1 ip4:90.190.150.212 -all" });
    CHECK(answer->server == "candidate record over published");
  }
  SUBCASE("replace_all: only the candidates")
  {
    dns::OverlayResolver overlay(published, dns::OverlayMode::replace_all);
    overlay.add_txt("example.ee", "v=spf1 a -all");
    AnswerPtr answer;
    overlay.query("example.ee", RRType::txt, store(answer));
    REQUIRE(answer);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].joined() == "v=spf1 a -all");
  }
  SUBCASE("other types and names go to the underlying resolver")
  {
    dns::OverlayResolver overlay(published);
    overlay.add_txt("example.ee", "v=spf1 a -all");
    AnswerPtr answer;
    overlay.query("example.ee", RRType::a, store(answer));
    CHECK(answer->addresses == std::vector{ *IpAddress::parse("192.0.2.1") });
    overlay.query("www.example.ee", RRType::txt, store(answer));
    CHECK(answer->status == Status::nxdomain);
    CHECK(overlay.has_candidate("EXAMPLE.ee"));
    CHECK_FALSE(overlay.has_candidate("www.example.ee"));
  }
  SUBCASE("a candidate at a name that does not exist yet, or cannot be read")
  {
    dns::OverlayResolver overlay(published);
    overlay.add_txt("new.example.ee", "v=spf1 -all");
    overlay.add_txt("slow.example.ee", "v=spf1 a -all");
    AnswerPtr answer;
    overlay.query("new.example.ee", RRType::txt, store(answer));
    CHECK(answer->status == Status::ok);
    CHECK(answer->txt.size() == 1);
    overlay.query("slow.example.ee", RRType::txt, store(answer));
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].joined() == "v=spf1 a -all");
    CHECK(answer->detail.starts_with("the published TXT records could not be read (timeout"));
  }
  SUBCASE("long candidates are split into 255-octet strings; exact strings kept when given")
  {
    dns::OverlayResolver overlay(published, dns::OverlayMode::replace_all);
    const std::string text = "v=spf1 " + std::string(600, 'x');
    overlay.add_txt("long.example.ee", text);
    overlay.add_txt_record("long.example.ee", dns::TxtRecord{ { "v=DKIM1; ", "p=abc" } });
    AnswerPtr answer;
    overlay.query("long.example.ee", RRType::txt, store(answer));
    REQUIRE(answer->txt.size() == 2);
    CHECK(answer->txt[0].strings.size() == 3);
    CHECK(answer->txt[0].strings[0].size() == 255);
    CHECK(answer->txt[0].strings[2].size() == 607 - 510);
    CHECK(answer->txt[0].joined() == text);
    CHECK(answer->txt[1].strings == std::vector<std::string>{ "v=DKIM1; ", "p=abc" });
  }
  SUBCASE("split_txt")
  {
    CHECK(dns::split_txt("") == std::vector<std::string>{ "" });
    CHECK(dns::split_txt(std::string(255, 'a')).size() == 1);
    CHECK(dns::split_txt(std::string(256, 'a')).size() == 2);
  }
}
