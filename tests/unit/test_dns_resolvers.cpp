#include <sendcheck/dns/caching_resolver.hpp>
#include <sendcheck/dns/layered_resolver.hpp>
#include <sendcheck/dns/overlay_resolver.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <list>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

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

namespace {

/// A resolver that breaks the contract: it answers null, and then answers again, from `run`.
class SloppyResolver : public dns::Resolver
{
public:
  void
  query(std::string_view /*name*/, RRType /*type*/, Callback done) override
  {
    m_pending.push_back(std::move(done));
  }

  void run() override
  {
    for (auto& done : m_pending) {
      done(nullptr);
      done(dns::make_status_answer("second.example", RRType::a, Status::ok));
    }
    m_pending.clear();
  }

private:
  std::vector<Callback> m_pending;
};

} // namespace

TEST_CASE("dns::CachingResolver keys and waiters")
{
  dns::ZoneResolver zone("upstream");
  zone.add_txt("example.ee", { "v=spf1 -all" });
  zone.add_address("example.ee", *IpAddress::parse("192.0.2.1"));
  DeferredResolver upstream(zone);

  SUBCASE("one key per normalized name and type, however the name is spelled")
  {
    dns::CachingResolver cache(upstream);
    AnswerPtr answer;
    for (const char* spelling : { "EXAMPLE.EE.", "example.ee", "Example.ee", "example.ee." }) {
      cache.query(spelling, RRType::txt, store(answer));
      cache.query(spelling, RRType::a, store(answer));
    }
    cache.run();
    CHECK(upstream.queries() == 2);
    CHECK(cache.size() == 2);
    // Upstream is asked the normalized name (query_normalized), whichever spelling came first.
    CHECK(upstream.asked() == std::vector<std::string>{ "example.ee", "example.ee" });
    REQUIRE(cache.cached("EXAMPLE.ee.", RRType::txt));
    CHECK(cache.cached("EXAMPLE.ee.", RRType::txt)->status == Status::ok);
    CHECK(cache.cached("example.ee", RRType::a)->addresses == std::vector{ *IpAddress::parse("192.0.2.1") });
    CHECK_FALSE(cache.cached("example.ee", RRType::mx));
    CHECK_FALSE(cache.cached("example.e", RRType::txt));
  }
  SUBCASE("waiters are answered in the order they asked")
  {
    dns::CachingResolver cache(upstream);
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) {
      cache.query("Example.ee", RRType::txt, [&order, i](AnswerPtr answer) {
        CHECK(answer->status == Status::ok);
        order.push_back(i);
      });
    }
    cache.run();
    CHECK(order == std::vector<int>{ 0, 1, 2, 3, 4 });
  }
  SUBCASE("a prefetched entry's first waiter and later waiters are all answered")
  {
    dns::CachingResolver cache(upstream);
    cache.prefetch("EXAMPLE.EE.", RRType::txt);
    std::vector<AnswerPtr> answers(3);
    for (auto& answer : answers) {
      cache.query("example.ee", RRType::txt, store(answer));
    }
    cache.run();
    for (const auto& answer : answers) {
      REQUIRE(answer);
      CHECK(answer->status == Status::ok);
    }
    CHECK(upstream.asked() == std::vector<std::string>{ "example.ee" });
  }
  SUBCASE("a bound of one: each answer evicts the one before, the waiters still get theirs")
  {
    dns::CachingResolver cache(upstream, 1);
    AnswerPtr txt;
    AnswerPtr a;
    cache.query("example.ee", RRType::txt, store(txt));
    cache.query("example.ee", RRType::a, store(a));
    cache.run();
    REQUIRE(txt);
    REQUIRE(a);
    CHECK(txt->status == Status::ok);
    CHECK(a->addresses.size() == 1);
    CHECK(cache.size() == 1);
    CHECK(cache.stats().evictions == 1);
    CHECK_FALSE(cache.cached("example.ee", RRType::txt));
    CHECK(cache.cached("example.ee", RRType::a) == a);
  }
  SUBCASE("an upstream that answers null and then again: an error answer, the second ignored")
  {
    SloppyResolver sloppy;
    dns::CachingResolver cache(sloppy);
    std::vector<AnswerPtr> answers;
    cache.query("Sloppy.Example.", RRType::txt, [&](AnswerPtr answer) { answers.push_back(std::move(answer)); });
    cache.run();
    REQUIRE(answers.size() == 1);
    CHECK(answers[0]->status == Status::error);
    CHECK(answers[0]->name == "sloppy.example");
    CHECK(answers[0]->detail == "no answer given");
    CHECK(cache.cached("sloppy.example", RRType::txt) == answers[0]);
  }
}

namespace {

/// A resolver that keeps every query's callback until the test answers it, any number of times.
class ManualResolver : public dns::Resolver
{
public:
  void
  query(std::string_view name, RRType type, Callback done) override
  {
    m_asked.emplace_back(name);
    m_types.push_back(type);
    m_callbacks.push_back(std::move(done));
  }
  void run() override {}

  /// Calls the callback of the `i`th query with an ok answer naming its name.
  void
  answer(size_t i)
  {
    m_callbacks.at(i)(dns::make_status_answer(m_asked.at(i), m_types.at(i), Status::ok, "manual"));
  }

  const std::vector<std::string>& asked() const { return m_asked; }

private:
  std::vector<std::string> m_asked;
  std::vector<RRType> m_types;
  std::vector<Callback> m_callbacks;
};

/// The key names of the table tests: "k17.example" and so on, some long enough to leave std::string's inline room.
std::string
key_name(size_t i)
{
  return (i % 3 == 0 ? "a-longer-name-to-leave-the-small-string-room.k" : "k") + std::to_string(i) + ".example";
}

} // namespace

TEST_CASE("dns::CachingResolver table")
{
  dns::ZoneResolver zone("upstream");
  DeferredResolver upstream(zone);

  SUBCASE("growth: 20,000 keys without a bound are all kept and found, each asked upstream once")
  {
    dns::CachingResolver cache(upstream, 0);
    AnswerPtr answer;
    for (size_t i = 0; i < 10000; ++i) {
      cache.query(key_name(i), RRType::txt, store(answer));
      cache.query(key_name(i), RRType::a, store(answer));
    }
    cache.run();
    CHECK(cache.size() == 20000);
    CHECK(upstream.queries() == 20000);
    for (size_t i = 0; i < 10000; ++i) {
      for (const RRType type : { RRType::txt, RRType::a, RRType::mx }) {
        const auto cached = cache.cached(key_name(i), type);
        REQUIRE((cached != nullptr) == (type != RRType::mx));
        if (cached) {
          CHECK(cached->name == key_name(i));
          CHECK(cached->type == type);
        }
      }
    }
    for (size_t i = 0; i < 10000; ++i) {
      cache.query(key_name(i), RRType::a, store(answer));
    }
    CHECK(cache.stats().hits == 10000);
    CHECK(upstream.queries() == 20000);
    CHECK_FALSE(cache.cached("k10000.example", RRType::a));
    CHECK_FALSE(cache.cached("", RRType::a));
  }
  SUBCASE("the LRU bound, with queries in flight, against a model: random batches of queries over 300 keys")
  {
    for (const size_t bound : { size_t{ 1 }, size_t{ 2 }, size_t{ 7 }, size_t{ 40 }, size_t{ 250 } }) {
      CAPTURE(bound);
      DeferredResolver network(zone);
      dns::CachingResolver cache(network, bound);
      std::list<size_t> lru;      // the model: answered keys, most recently used last
      std::vector<size_t> flying; // keys in flight, in the order they were sent
      size_t hits = 0;
      size_t evictions = 0;
      std::mt19937 random(static_cast<unsigned>(bound));
      AnswerPtr answer;
      const auto key_of = [](size_t key) { return key_name(key / 2); };
      const auto type_of = [](size_t key) { return key % 2 == 0 ? RRType::a : RRType::txt; };
      for (int round = 0; round < 400; ++round) {
        const size_t batch = 1 + random() % 12;
        for (size_t q = 0; q < batch; ++q) {
          // Skewed toward low keys, so that some stay in use and others age out.
          const size_t key = std::min(random() % 600, random() % 600);
          cache.query(key_of(key), type_of(key), store(answer));
          if (const auto it = std::find(lru.begin(), lru.end(), key); it != lru.end()) {
            lru.splice(lru.end(), lru, it);
            ++hits;
          } else if (std::find(flying.begin(), flying.end(), key) == flying.end()) {
            flying.push_back(key);
          }
        }
        cache.run();
        for (const size_t key : flying) {
          lru.push_back(key);
          if (lru.size() > bound) {
            lru.pop_front();
            ++evictions;
          }
        }
        flying.clear();
        REQUIRE(cache.size() == lru.size());
        REQUIRE(cache.stats().hits == hits);
        REQUIRE(cache.stats().evictions == evictions);
        if (round % 50 == 49) {
          const std::set<size_t> kept(lru.begin(), lru.end());
          for (size_t key = 0; key < 600; ++key) {
            CAPTURE(key);
            const auto cached = cache.cached(key_of(key), type_of(key));
            REQUIRE((cached != nullptr) == (kept.count(key) == 1));
            if (cached) {
              CHECK(cached->name == key_of(key));
            }
          }
        }
      }
      CHECK(network.queries() == cache.stats().upstream);
    }
  }
  SUBCASE("bounds around the room made at first: more keys in flight than the bound, and a bound above the default")
  {
    for (const size_t bound : { dns::CachingResolver::k_default_max_entries,
                                2 * dns::CachingResolver::k_default_max_entries + 1 }) {
      CAPTURE(bound);
      DeferredResolver network(zone);
      dns::CachingResolver cache(network, bound);
      const size_t keys = bound + 3000;
      size_t answered = 0;
      for (size_t i = 0; i < keys; ++i) {
        cache.query(key_name(i), RRType::txt, [&answered, i](AnswerPtr answer) {
          CHECK(answer->name == key_name(i));
          ++answered;
        });
      }
      cache.run();
      CHECK(answered == keys);
      CHECK(cache.size() == bound);
      CHECK(cache.stats().evictions == keys - bound);
      // Answered in the order asked: the first 3000 were the least recently used.
      CHECK_FALSE(cache.cached(key_name(2999), RRType::txt));
      for (size_t i = 3000; i < keys; ++i) {
        const auto cached = cache.cached(key_name(i), RRType::txt);
        REQUIRE(cached != nullptr);
        CHECK(cached->name == key_name(i));
      }
    }
  }
  SUBCASE("an evicted entry's late second answer is ignored, also when a new key reuses the entry")
  {
    ManualResolver manual;
    dns::CachingResolver cache(manual, 1);
    std::vector<std::string> got;
    const auto note = [&got](AnswerPtr answer) { got.push_back(answer->name); };
    cache.query("first.example", RRType::a, note);
    manual.answer(0);
    cache.query("second.example", RRType::a, note);
    manual.answer(1); // evicts first.example
    CHECK_FALSE(cache.cached("first.example", RRType::a));
    cache.query("third.example", RRType::a, note); // in flight, in the entry first.example had
    manual.answer(0);                              // first.example's query answered again
    CHECK(got == std::vector<std::string>{ "first.example", "second.example" });
    CHECK_FALSE(cache.cached("third.example", RRType::a));
    manual.answer(2);
    CHECK(got == std::vector<std::string>{ "first.example", "second.example", "third.example" });
    REQUIRE(cache.cached("third.example", RRType::a));
    CHECK(cache.cached("third.example", RRType::a)->name == "third.example");
    CHECK(manual.asked() == std::vector<std::string>{ "first.example", "second.example", "third.example" });
  }
  SUBCASE("entries in flight are never evicted, however many")
  {
    ManualResolver manual;
    dns::CachingResolver cache(manual, 2);
    std::vector<std::string> got;
    for (size_t i = 0; i < 100; ++i) {
      cache.query(key_name(i), RRType::txt, [&got](AnswerPtr answer) { got.push_back(answer->name); });
    }
    for (size_t i = 0; i < 100; ++i) {
      manual.answer(99 - i);
    }
    REQUIRE(got.size() == 100);
    for (size_t i = 0; i < 100; ++i) {
      CHECK(got[i] == key_name(99 - i));
    }
    CHECK(cache.size() == 2);
    CHECK(cache.cached(key_name(0), RRType::txt));
    CHECK(cache.cached(key_name(1), RRType::txt));
    CHECK(cache.stats().evictions == 98);
  }
}

namespace {

/// A resolver that notes which entry point each query and prefetch came through, and never answers.
class EntryRecorder : public dns::Resolver
{
public:
  void
  query(std::string_view name, RRType /*type*/, Callback /*done*/) override
  {
    m_calls.push_back("query " + std::string(name));
  }
  void
  prefetch(std::string_view name, RRType /*type*/) override
  {
    m_calls.push_back("prefetch " + std::string(name));
  }
  void
  query_normalized(std::string_view name, RRType /*type*/, Callback /*done*/) override
  {
    m_calls.push_back("query_normalized " + std::string(name));
  }
  void
  prefetch_normalized(std::string_view name, RRType /*type*/) override
  {
    m_calls.push_back("prefetch_normalized " + std::string(name));
  }
  void run() override {}

  const std::vector<std::string>& calls() const { return m_calls; }

private:
  std::vector<std::string> m_calls;
};

} // namespace

TEST_CASE("dns::Resolver::query_normalized")
{
  SUBCASE("the layers of a stack hand the name they normalized down, through the _normalized entry points")
  {
    EntryRecorder network;
    dns::CachingResolver cache(network);
    dns::LayeredResolver layered(cache);
    layered.query("Mail.Example.EE.", RRType::a, [](AnswerPtr) {});
    layered.prefetch("_SPF.example.ee", RRType::txt);
    // The cache sends a prefetch upstream as a query.
    CHECK(network.calls()
          == std::vector<std::string>{ "query_normalized mail.example.ee", "query_normalized _spf.example.ee" });
    EntryRecorder fallback;
    dns::LayeredResolver direct(fallback);
    dns::ZoneResolver zone("zone file other.zone");
    zone.add_apex("other.example");
    direct.add_zone(zone);
    direct.prefetch("_SPF.example.ee", RRType::txt);
    direct.query("Mail.Example.EE.", RRType::a, [](AnswerPtr) {});
    CHECK(fallback.calls()
          == std::vector<std::string>{ "prefetch_normalized _spf.example.ee", "query_normalized mail.example.ee" });
  }
  SUBCASE("without zones a layered resolver hands the name down as given: the fallback normalizes it")
  {
    EntryRecorder fallback;
    dns::LayeredResolver direct(fallback);
    direct.prefetch("_SPF.example.ee", RRType::txt);
    direct.query("Mail.Example.EE.", RRType::a, [](AnswerPtr) {});
    CHECK(fallback.calls() == std::vector<std::string>{ "prefetch _SPF.example.ee", "query Mail.Example.EE." });
  }
  SUBCASE("a resolver without its own query_normalized answers through query")
  {
    dns::ZoneResolver zone;
    zone.add_txt("example.ee", { "v=spf1 -all" });
    AnswerPtr answer;
    static_cast<dns::Resolver&>(zone).query_normalized("example.ee", RRType::txt, store(answer));
    REQUIRE(answer);
    CHECK(answer->status == Status::ok);
  }
  SUBCASE("a cache finds a name however spelled, looked up as given or normalized first")
  {
    // Spellings of a few names: the first of each is normalized, the others are not, and a query for any of them
    // must find the entry that another spelling made, whichever came first.
    const std::vector<std::vector<std::string>> spellings = {
      { "a.example", "A.example", "a.example.", "A.EXAMPLE." },
      { "_spf.b-c.example", "_SPF.b-c.Example", "_spf.b-c.example." },
      { "x\\.y.example", "X\\.Y.example." },                  // escapes as a zone file writes them
      { "caf\\195\\169.example", "CAF\\195\\169.example" },
      { "\xc3\xa9t\xc3\xa9.example", "\xc3\xa9T\xc3\xa9.EXAMPLE." }, // octets over 127 stay as they are
      { "1.2.0.127.in-addr.arpa", "1.2.0.127.IN-ADDR.ARPA." },
      { "averyveryverylonglabelname.example", "AVeryVeryVeryLongLabelName.Example." },
    };
    for (size_t first = 0; first < 2; ++first) {
      EntryRecorder network;
      dns::CachingResolver cache(network);
      std::vector<std::string> expected;
      for (const auto& names : spellings) {
        const auto& opener = names[first % names.size()];
        cache.query(opener, RRType::txt, [](AnswerPtr) {});
        expected.push_back("query_normalized " + names[0]);
        for (const auto& name : names) {
          cache.query(name, RRType::txt, [](AnswerPtr) {});
          cache.prefetch(name, RRType::txt);
        }
        cache.query(names[0], RRType::a, [](AnswerPtr) {}); // another type: another key
        expected.push_back("query_normalized " + names[0]);
      }
      CHECK(network.calls() == expected);
      CHECK(cache.stats().upstream == 2 * spellings.size());
    }
    {
      // "a.." is asked as "a.", which is not how "a." is asked: a key may end in a dot, and a name found as given
      // must not be taken for normalized when it does.
      EntryRecorder network;
      dns::CachingResolver cache(network);
      cache.query("a..", RRType::txt, [](AnswerPtr) {});
      cache.query("a.", RRType::txt, [](AnswerPtr) {});
      cache.prefetch("a.", RRType::txt);
      cache.query("A..", RRType::txt, [](AnswerPtr) {});
      CHECK(network.calls() == std::vector<std::string>{ "query_normalized a.", "query_normalized a" });
    }
    dns::ZoneResolver zone;
    zone.add_txt("a.example", { "v=spf1 -all" });
    DeferredResolver upstream(zone);
    dns::CachingResolver cache(upstream);
    AnswerPtr answer;
    cache.query("A.Example.", RRType::txt, store(answer));
    cache.run();
    REQUIRE(answer);
    CHECK(answer->status == Status::ok);
    CHECK(upstream.asked() == std::vector<std::string>{ "a.example" });
    for (const auto& name : spellings[0]) {
      CHECK(cache.cached(name, RRType::txt) == answer);
      AnswerPtr again;
      cache.query(name, RRType::txt, store(again));
      CHECK(again == answer);
    }
    CHECK(cache.stats().hits == spellings[0].size());
  }
  SUBCASE("a cache asks upstream once for the prefetched name, however spelled, and upstream gets it normalized")
  {
    EntryRecorder network;
    dns::CachingResolver cache(network);
    cache.prefetch("EXAMPLE.ee.", RRType::txt);
    cache.query("example.EE", RRType::txt, [](AnswerPtr) {});
    CHECK(network.calls() == std::vector<std::string>{ "query_normalized example.ee" });
  }
}

TEST_CASE("dns::ZoneResolver lookups")
{
  dns::ZoneResolver zone("zone file lookups.zone");
  zone.add_txt("a.b.example", { "a" });
  zone.add_txt("C.B.Example.", { "c" });
  zone.add_txt("d.example", { "d" });
  zone.add_cname("Alias.example", "C.b.example.");

  SUBCASE("empty non-terminals shared by several names")
  {
    CHECK(zone.answer("b.example", RRType::txt)->status == Status::nodata);
    CHECK(zone.answer("B.EXAMPLE.", RRType::txt)->status == Status::nodata);
    CHECK(zone.answer("example", RRType::txt)->status == Status::nodata);
    CHECK(zone.answer("x.b.example", RRType::txt)->status == Status::nxdomain);
    CHECK(zone.answer("x.example", RRType::txt)->status == Status::nxdomain);
    CHECK(zone.answer("c.b.example", RRType::txt)->txt.at(0).joined() == "c");
  }
  SUBCASE("names in any spelling; the answer carries the normalized name and the source")
  {
    const auto answer = zone.answer("ALIAS.example.", RRType::txt);
    CHECK(answer->status == Status::ok);
    CHECK(answer->name == "alias.example");
    CHECK(answer->server == "zone file lookups.zone");
    CHECK(answer->cname_chain == std::vector<std::string>{ "c.b.example" });
    CHECK(answer->txt.at(0).joined() == "c");
    CHECK(zone.has_name("C.b.EXAMPLE."));
    CHECK_FALSE(zone.has_name("b.example"));
  }
  SUBCASE("names() is sorted")
  {
    CHECK(zone.names() == std::vector<std::string>{ "a.b.example", "alias.example", "c.b.example", "d.example" });
  }
  SUBCASE("label and name lengths")
  {
    const std::string label63(63, 'x');
    const std::string label64(64, 'x');
    CHECK(zone.answer(label63 + ".example", RRType::a)->status == Status::nxdomain);
    const auto first = zone.answer(label64 + ".example", RRType::a);
    CHECK(first->status == Status::error);
    CHECK(first->detail == "a label of the name is 64 octets long; DNS allows 63");
    CHECK(zone.answer("example." + label64, RRType::a)->status == Status::error);
    CHECK(zone.answer("a." + label64 + ".example", RRType::a)->status == Status::error);
    CHECK(zone.answer(label64, RRType::a)->status == Status::error);
    // Empty labels are not a length problem here.
    CHECK(zone.answer("a..example", RRType::a)->status == Status::nxdomain);
    // 4 labels of 63 and the dots: 255 octets, over 253.
    const auto longest = zone.answer(label63 + "." + label63 + "." + label63 + "." + label63, RRType::a);
    CHECK(longest->status == Status::error);
    CHECK(longest->detail == "the name is 255 octets long; DNS allows 253");
    CHECK(zone.answer(label63 + "." + label63 + "." + label63 + "." + std::string(61, 'x'), RRType::a)->status
          == Status::nxdomain);
  }
}

TEST_CASE("dns::Resolver::answering")
{
  dns::ZoneResolver published("published");
  published.add_txt("example.ee", { "v=spf1 -all" });
  published.add_txt("_spf.provider.example", { "v=spf1 ip4:192.0.2.0/24 -all" });
  dns::ZoneResolver local("zone file local.zone");
  local.add_apex("local.ee");
  local.add_txt("local.ee", { "v=spf1 a -all" });
  DeferredResolver network(published);
  dns::CachingResolver cache(network);

  // What a Lookup (which asks `answering()`) gets from `top` for (`name`, TXT).
  const auto looked_up = [](dns::Resolver& top, std::string_view name) {
    const auto task = [](dns::Resolver& resolver, std::string_view asked) -> util::Task<AnswerPtr> {
      co_return co_await dns::lookup(resolver, asked, RRType::txt);
    };
    return dns::run_sync(top, task(top, name));
  };

  SUBCASE("a resolver that answers itself is its own answerer")
  {
    CHECK(&cache.answering() == &cache);
    CHECK(&network.answering() == &network);
    dns::LayeredResolver offline;
    CHECK(&offline.answering() == &offline);
  }
  SUBCASE("an overlay without candidates and layers without zones pass through, down the whole stack")
  {
    dns::LayeredResolver layered(cache);
    dns::OverlayResolver overlay(layered);
    CHECK(&layered.answering() == &cache);
    CHECK(&overlay.answering() == &cache);
    const auto answer = looked_up(overlay, "Example.EE.");
    REQUIRE(answer);
    CHECK(answer->status == Status::ok);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].joined() == "v=spf1 -all");
    CHECK(cache.stats().queries == 1);
    CHECK(network.queries() == 1);
  }
  SUBCASE("a candidate makes the overlay answer again")
  {
    dns::LayeredResolver layered(cache);
    dns::OverlayResolver overlay(layered, dns::OverlayMode::replace_all);
    overlay.add_txt("example.ee", "v=spf1 mx -all");
    CHECK(&overlay.answering() == &overlay);
    const auto answer = looked_up(overlay, "example.ee");
    REQUIRE(answer);
    REQUIRE(answer->txt.size() == 1);
    CHECK(answer->txt[0].joined() == "v=spf1 mx -all");
    CHECK(answer->server == "candidate record");
    CHECK(network.queries() == 0);
    // Other names still go down the stack (straight to the cache, past the layers), prefetched or asked.
    overlay.prefetch("_SPF.provider.example", RRType::txt);
    CHECK(cache.stats().prefetches == 1);
    const auto other = looked_up(overlay, "_spf.provider.example");
    REQUIRE(other);
    CHECK(other->txt.at(0).joined() == "v=spf1 ip4:192.0.2.0/24 -all");
    CHECK(cache.stats().coalesced + cache.stats().hits == 1);
    CHECK(network.queries() == 1);
  }
  SUBCASE("a zone makes the layers answer again")
  {
    dns::LayeredResolver layered(cache);
    layered.add_zone(local);
    dns::OverlayResolver overlay(layered);
    CHECK(&layered.answering() == &layered);
    CHECK(&overlay.answering() == &layered);
    const auto own = looked_up(overlay, "local.ee");
    REQUIRE(own);
    CHECK(own->txt.at(0).joined() == "v=spf1 a -all");
    CHECK(own->server == "zone file local.zone");
    const auto outside = looked_up(overlay, "example.ee");
    REQUIRE(outside);
    CHECK(outside->txt.at(0).joined() == "v=spf1 -all");
    CHECK(network.queries() == 1);
  }
}
