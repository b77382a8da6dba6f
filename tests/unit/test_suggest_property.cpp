// Property test for suggest_record: several hundred generated published records (random valid records built from
// provider includes, ip4/ip6 lists, a/mx, every `all`, redirect=, duplicates, terms after `all`, several records,
// typographic damage) over a fixed world of provider zones. For each: the result verifies independently, is
// idempotent, keeps every address that passed before, and a fix is produced whenever one exists.

#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>
#include <sendcheck/suggest/suggest.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace sendcheck;
using suggest::SuggestStatus;

namespace {

constexpr uint32_t k_seed = 20240611;
constexpr int k_cases = 600;

dns::IpAddress
ip(std::string_view text)
{
  return *dns::IpAddress::parse(text);
}

/// A deterministic generator (the standard distributions differ between libraries; this does not).
class Random
{
public:
  explicit Random(uint32_t seed) : m_engine(seed) {}

  /// A number in [0, n).
  size_t below(size_t n) { return static_cast<size_t>(m_engine() % n); }
  /// True with probability percent/100.
  bool chance(unsigned percent) { return below(100) < percent; }
  template<typename T> const T& pick(const std::vector<T>& items) { return items[below(items.size())]; }

private:
  std::mt19937 m_engine;
};

/// A term the generator may write, with what it costs (upper bound, counting the term itself) in DNS-querying terms
/// and void lookups, and what makes a fix impossible.
struct TermSpec
{
  std::string text;
  unsigned cost = 0;
  unsigned voids = 0;
  bool permerror = false;   ///< Reaching it is a permerror the suggestion cannot repair.
  bool temperror = false;   ///< Reaching it is a temperror.
};

/// The world's facts that change per case.
struct World
{
  int host = 0; ///< 0: directo.gate.ee is .212 only, 1: all four, 2: no A record.
  bool mx = true;
};

dns::ZoneResolver
make_world(const World& world)
{
  dns::ZoneResolver zone("property test");
  if (world.host == 0) {
    zone.add_address("directo.gate.ee", ip("90.190.150.212"));
  } else if (world.host == 1) {
    for (const char* address : {"90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213"}) {
      zone.add_address("directo.gate.ee", ip(address));
    }
  }
  zone.add_txt("_spf.p1.test", {"v=spf1 ip4:198.51.100.0/24 -all"});
  zone.add_txt("_spf.p2.test", {"v=spf1 include:a.p2.test include:b.p2.test ~all"});
  zone.add_txt("a.p2.test", {"v=spf1 ip4:203.0.113.0/26 ip4:203.0.113.200 -all"});
  zone.add_txt("b.p2.test", {"v=spf1 ip6:2001:db8:b::/48 ?all"});
  zone.add_txt("_spf.p3.test", {"v=spf1 ip4:192.0.2.128/25 ip6:2001:db8:3::/48 ~all"});
  zone.add_txt("mid.test", {"v=spf1 a:m1.mid.test a:m2.mid.test a:m3.mid.test a:m4.mid.test -all"});
  for (int i = 1; i <= 4; ++i) {
    zone.add_address("m" + std::to_string(i) + ".mid.test", ip("198.18.0." + std::to_string(i)));
    zone.add_address("m" + std::to_string(i) + ".mid.test", ip("2001:db8:18::" + std::to_string(i)));
  }
  std::string heavy = "v=spf1";
  for (int i = 1; i <= 8; ++i) {
    heavy += " a:h" + std::to_string(i) + ".heavy.test";
    zone.add_address("h" + std::to_string(i) + ".heavy.test", ip("198.18.1." + std::to_string(i)));
    zone.add_address("h" + std::to_string(i) + ".heavy.test", ip("2001:db8:19::" + std::to_string(i)));
  }
  zone.add_txt("heavy.test", {heavy + " -all"});
  zone.add_txt("nospf.test", {"hello"});
  zone.add_txt("slow.test", {"v=spf1 a:t.slow.test -all"});
  zone.add_failure("t.slow.test", dns::Status::timeout);
  // Customer and provider hosts have AAAA records too, so that IPv6 clients do not spend the void-lookup budget
  // (directo.gate.ee has none: a realistic source of void lookups for IPv6 clients).
  zone.add_address("mail.example.lt", ip("192.0.2.26"));
  zone.add_address("mail.example.lt", ip("2001:db8:26::1"));
  zone.add_address("example.ee", ip("192.0.2.80"));
  zone.add_address("example.ee", ip("2001:db8:80::1"));
  if (world.mx) {
    zone.add_mx("example.ee", 10, "mail.example.ee");
    zone.add_address("mail.example.ee", ip("192.0.2.25"));
    zone.add_address("mail.example.ee", ip("2001:db8:25::1"));
  }
  return zone;
}

std::vector<TermSpec>
term_pool(const World& world)
{
  const unsigned host_void = 1; // no AAAA ever (and no A either when world.host is 2)
  return {
    {"mx", 1, world.mx ? 0U : 1U},
    {"a", 1},
    {"a:mail.example.lt", 1},
    {"ip4:192.0.2.10"},
    {"ip4:192.0.2.11"},
    {"ip4:203.0.113.0/24"},
    {"ip6:2001:db8:1::/48"},
    {"ip6:2001:db8::1"},
    {"include:_spf.p1.test", 1},
    {"include:_spf.p2.test", 4},
    {"include:_spf.p3.test", 1},
    {"include:mid.test", 5},
    {"include:heavy.test", 9},
    {"a:directo.gate.ee", 1, host_void},
    {"include:directo.gate.ee", 1, host_void},
    {"ip4:90.190.150.210"},
    {"ip4:90.190.150.212/31"},
    {"ip4:90.190.150.82"},
    {"~ip4:192.0.2.12"},
    {"a:nothing.example.ee", 1, 1},
  };
}

/// One generated case.
struct Case
{
  World world;
  std::vector<std::string> published;       ///< TXT texts, as published (damaged ones too).
  std::vector<std::string> extra_txt;       ///< Non-SPF TXT records.
  suggest::SuggestOptions options;
  bool fix_expected = true;                 ///< No permerror/temperror term, within the limits (upper bound).
  bool temperror = false;
  bool non_pass_term = false;               ///< A `-`/`~` mechanism other than all was written.
  std::string description;
};

/// Applies one kind of typographic damage to a clean record.
std::string
damage(std::string record, Random& random)
{
  switch (random.below(8)) {
  case 0:
    return "\xE2\x80\x9C" + record + "\xE2\x80\x9D";
  case 1:
    if (const auto at = record.find("-all"); at != std::string::npos) {
      record.replace(at, 1, "\xE2\x80\x93");
    }
    return record;
  case 2:
    if (const auto at = record.find(' '); at != std::string::npos) {
      record.replace(at, 1, "\xC2\xA0");
    }
    return record;
  case 3:
    if (const auto at = record.rfind(' '); at != std::string::npos) {
      record.insert(at + 1, "\xE2\x80\x8B");
    }
    return record;
  case 4:
    return "\"" + record + "\"";
  case 5:
    record.replace(0, 6, "V=SPF1");
    return record;
  case 6:
    record.replace(0, 6, "v = spf1");
    return record;
  default:
    if (const auto at = record.find(' '); at != std::string::npos) {
      record.replace(at, 1, " \t ");
    }
    return record + " ";
  }
}

Case
generate(Random& random)
{
  Case c;
  c.world.host = static_cast<int>(random.below(3));
  c.world.mx = random.chance(70);
  c.options.bulk = random.chance(80);
  c.options.style = random.chance(80) ? suggest::IpStyle::automatic : suggest::IpStyle::ip4;
  const auto pool = term_pool(c.world);

  size_t record_count = 1;
  const auto roll = random.below(100);
  if (roll < 12) {
    record_count = 0;
  } else if (roll < 82) {
    record_count = 1;
  } else if (roll < 95) {
    record_count = 2;
  } else {
    record_count = 3;
  }
  if (random.chance(10)) {
    c.extra_txt.push_back("google-site-verification=abc123");
  }

  std::map<std::string, TermSpec> distinct; // by normalized text, for the cost upper bound
  const auto use = [&](const TermSpec& spec) {
    auto key = spec.text;
    if (!key.empty() && (key[0] == '~' || key[0] == '+' || key[0] == '-' || key[0] == '?')) {
      key.erase(0, 1);
    }
    if (key == "include:directo.gate.ee") {
      key = "a:directo.gate.ee";
    }
    distinct.emplace(key, spec);
  };

  for (size_t r = 0; r < record_count; ++r) {
    std::vector<std::string> terms;
    const size_t count = random.below(5);
    for (size_t i = 0; i < count; ++i) {
      const auto& spec = random.pick(pool);
      terms.push_back(spec.text);
      use(spec);
      c.non_pass_term = c.non_pass_term || spec.text[0] == '~';
    }
    if (!terms.empty() && random.chance(10)) {
      terms.push_back(terms.front()); // a duplicate
    }
    if (random.chance(3)) {
      terms.emplace_back("include:nospf.test");
      c.fix_expected = false;
    }
    if (random.chance(3)) {
      terms.emplace_back("include:slow.test");
      c.temperror = true;
    }
    if (random.chance(3)) {
      terms.emplace_back("ptr");
      use({"ptr", 1, 1});
    }
    std::string record = "v=spf1";
    for (const auto& term : terms) {
      record += " " + term;
    }
    const auto ending = random.below(10);
    if (ending < 8) {
      static const std::vector<std::string> alls = {"-all", "-all", "~all", "~all", "?all", "+all"};
      record += " " + random.pick(alls);
      if (random.chance(15)) {
        const auto& spec = random.pick(pool);
        record += " " + spec.text; // after all
        use(spec);
      }
    } else if (ending == 8) {
      record += " redirect=_spf.p1.test";
      use({"redirect=_spf.p1.test", 1});
    }
    if (random.chance(25)) {
      record = damage(record, random);
    }
    c.published.push_back(record);
  }

  unsigned cost = 0;
  unsigned voids = 0;
  for (const auto& [key, spec] : distinct) {
    cost += spec.cost;
    voids += spec.voids;
  }
  if (record_count == 0) {
    cost += 1;                      // mx (left out when there is no MX)
  }
  // Directo's host may add one lookup only when it fits; the ip4 form costs none, so it never breaks a fix.
  // The a:directo.gate.ee the suggestion may add is a void lookup for IPv6 clients.
  if (c.options.style == suggest::IpStyle::automatic && distinct.count("a:directo.gate.ee") == 0) {
    voids += 1;
  }
  // Merged records with an exclusion (`~ip4:`) can contradict each other: what one passes, the other refuses.
  if (record_count > 1 && c.non_pass_term) {
    c.fix_expected = false;
  }
  if (cost > 10 || voids > 2) {
    c.fix_expected = false;
  }
  if (c.temperror) {
    c.fix_expected = false;
  }
  for (const auto& text : c.published) {
    c.description += "[" + text + "] ";
  }
  c.description += "host=" + std::to_string(c.world.host) + " mx=" + std::to_string(c.world.mx) +
                   " bulk=" + std::to_string(c.options.bulk) + " style=" + std::string(to_string(c.options.style));
  return c;
}

dns::ZoneResolver
world_with(const Case& c, const std::vector<std::string>& spf_texts)
{
  auto zone = make_world(c.world);
  for (const auto& text : spf_texts) {
    zone.add_txt("example.ee", suggest::split_txt_strings(text));
  }
  for (const auto& text : c.extra_txt) {
    zone.add_txt("example.ee", {text});
  }
  return zone;
}

spf::Evaluation
evaluate(dns::ZoneResolver& zone, const dns::IpAddress& address)
{
  spf::Options options;
  options.helo = "example.ee";
  return dns::run_sync(zone, spf::check_host(zone, address, "example.ee", "postmaster@example.ee", options));
}

/// Addresses to check "nothing authorized is lost" with: every network named in the world and the records, the
/// world's hosts, and Directo's.
std::vector<dns::IpAddress>
sample_addresses()
{
  std::vector<dns::IpAddress> out;
  for (const char* text :
       {"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.25", "192.0.2.26", "192.0.2.80", "192.0.2.200",
        "203.0.113.0", "203.0.113.5", "203.0.113.200", "198.51.100.7", "198.18.0.3", "198.18.1.8", "2001:db8:1::5",
        "2001:db8::1", "2001:db8:3::9", "2001:db8:b::1", "90.190.150.210", "90.190.150.211", "90.190.150.212",
        "90.190.150.213", "90.190.150.82", "10.0.0.1"}) {
    out.push_back(ip(text));
  }
  return out;
}

} // namespace

TEST_CASE("suggest::suggest_record property")
{
  Random random(k_seed);
  const auto sample = sample_addresses();
  std::map<SuggestStatus, int> statuses;
  int fixes_expected = 0;

  for (int n = 0; n < k_cases; ++n) {
    const auto c = generate(random);
    CAPTURE(n);
    CAPTURE(c.description);

    auto zone = world_with(c, c.published);
    const auto s = dns::run_sync(zone, suggest::suggest_record(zone, "example.ee", c.options));
    ++statuses[s.status];
    CAPTURE(s.record);
    CAPTURE(s.failure);

    if (c.fix_expected) {
      ++fixes_expected;
      REQUIRE_MESSAGE((s.status == SuggestStatus::changed || s.status == SuggestStatus::unchanged),
                      "a fix exists but none was produced");
    }
    if (c.temperror && s.status != SuggestStatus::changed && s.status != SuggestStatus::unchanged) {
      // The DNS failure, unless another problem that no fix can get past was found first.
      CHECK((s.status == SuggestStatus::dns_error || s.status == SuggestStatus::impossible));
    }
    if (!c.temperror) {
      CHECK(s.status != SuggestStatus::dns_error);
    }
    if (s.status == SuggestStatus::impossible || s.status == SuggestStatus::dns_error) {
      CHECK(s.record.empty());
      CHECK_FALSE(s.failure.empty());
      continue;
    }

    // The record is well-formed and fits TXT strings.
    const auto parsed = spf::parse_record(s.record);
    REQUIRE(parsed);
    CHECK(std::count_if(parsed->terms.begin(), parsed->terms.end(), [](const spf::Term& t) {
            return t.kind == spf::TermKind::mechanism && t.mechanism == spf::MechanismKind::all;
          }) <= 1);
    std::string joined;
    for (const auto& piece : suggest::split_txt_strings(s.record)) {
      CHECK(piece.size() <= 255);
      joined += piece;
    }
    CHECK(joined == s.record);
    if (s.status == SuggestStatus::unchanged) {
      REQUIRE(c.published.size() == 1);
      CHECK(s.record == c.published.front());
      CHECK(s.changes.empty());
    } else {
      CHECK_FALSE(s.changes.empty());
    }

    // Verified, independently: every profile address passes with the record published alone.
    auto published = world_with(c, {s.record});
    for (const auto& address : directo_profile().all_ips(c.options.bulk)) {
      const auto evaluation = evaluate(published, address);
      CHECK_MESSAGE(evaluation.result == spf::SpfResult::pass, address.to_string());
      CHECK(evaluation.dns_terms <= 10);
      CHECK(evaluation.void_lookups <= 2);
    }
    CHECK(s.verification.passed);
    CHECK(s.verification.total_dns_terms <= 10);
    CHECK(s.verification.total_void_lookups <= 2);

    // Nothing that passed before (on any one of the published records, as published) is lost.
    for (const auto& text : c.published) {
      auto before = world_with(c, {text});
      for (const auto& address : sample) {
        if (evaluate(before, address).result == spf::SpfResult::pass) {
          CHECK_MESSAGE(evaluate(published, address).result == spf::SpfResult::pass, address.to_string(),
                        " passed on [", text, "]");
        }
      }
    }

    // Idempotent.
    auto again_zone = world_with(c, {s.record});
    const auto again = dns::run_sync(again_zone, suggest::suggest_record(again_zone, "example.ee", c.options));
    CHECK(again.status == SuggestStatus::unchanged);
    CHECK(again.record == s.record);
  }

  MESSAGE("statuses: changed ", statuses[SuggestStatus::changed], ", unchanged ", statuses[SuggestStatus::unchanged],
          ", impossible ", statuses[SuggestStatus::impossible], ", dns_error ", statuses[SuggestStatus::dns_error],
          "; fixes expected ", fixes_expected);
  // The generator must exercise every outcome.
  CHECK(statuses[SuggestStatus::changed] > 200);
  CHECK(statuses[SuggestStatus::unchanged] > 5);
  CHECK(statuses[SuggestStatus::impossible] > 5);
  CHECK(statuses[SuggestStatus::dns_error] > 2);
}
