#include <sendcheck/dns/zone_resolver.hpp>
#include <sendcheck/spf/macro.hpp>
#include <sendcheck/util/strings.hpp>

#include <doctest/doctest.h>

#include <array>
#include <random>
#include <string>

using namespace sendcheck;

namespace {

/// The context of RFC 7208 §7.4's examples.
spf::MacroContext
rfc_context(std::string_view ip = "192.0.2.3")
{
  spf::MacroContext context;
  context.sender_local = "strong-bad";
  context.sender_domain = "email.example.com";
  context.domain = "email.example.com";
  context.ip = *dns::IpAddress::parse(ip);
  context.helo = "mx.example.org";
  context.receiver = "mx.example.net";
  context.timestamp = 1700000000;
  return context;
}

std::string
expand_domain(std::string_view text, const spf::MacroContext& context)
{
  const auto macro = spf::parse_macro_string(text, spf::MacroUse::domain_spec);
  REQUIRE(macro);
  return spf::expand(*macro, context, spf::MacroUse::domain_spec);
}

std::string
expand_exp(std::string_view text, const spf::MacroContext& context)
{
  const auto macro = spf::parse_macro_string(text, spf::MacroUse::explanation);
  REQUIRE(macro);
  return spf::expand(*macro, context, spf::MacroUse::explanation);
}

} // namespace

TEST_CASE("spf::expand")
{
  const auto context = rfc_context();
  SUBCASE("RFC 7208 section 7.4 examples")
  {
    CHECK(expand_domain("%{s}", context) == "strong-bad@email.example.com");
    CHECK(expand_domain("%{o}", context) == "email.example.com");
    CHECK(expand_domain("%{d}", context) == "email.example.com");
    CHECK(expand_domain("%{d4}", context) == "email.example.com");
    CHECK(expand_domain("%{d3}", context) == "email.example.com");
    CHECK(expand_domain("%{d2}", context) == "example.com");
    CHECK(expand_domain("%{d1}", context) == "com");
    CHECK(expand_domain("%{dr}", context) == "com.example.email");
    CHECK(expand_domain("%{d2r}", context) == "example.email");
    CHECK(expand_domain("%{l}", context) == "strong-bad");
    CHECK(expand_domain("%{l-}", context) == "strong.bad");
    CHECK(expand_domain("%{lr}", context) == "strong-bad");
    CHECK(expand_domain("%{lr-}", context) == "bad.strong");
    CHECK(expand_domain("%{l1r-}", context) == "strong");
    CHECK(expand_domain("%{ir}.%{v}._spf.%{d2}", context) == "3.2.0.192.in-addr._spf.example.com");
    CHECK(expand_domain("%{lr-}.lp._spf.%{d2}", context) == "bad.strong.lp._spf.example.com");
    CHECK(expand_domain("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", context)
          == "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
    CHECK(expand_domain("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", context)
          == "3.2.0.192.in-addr.strong.lp._spf.example.com");
    CHECK(expand_domain("%{d2}.trusted-domains.example.net", context) == "example.com.trusted-domains.example.net");
  }
  SUBCASE("RFC 7208 section 7.4 IPv6 example (nibbles are printed upper-case, as the openspf suite expects)")
  {
    const auto v6 = rfc_context("2001:db8::cb01");
    CHECK(util::iequals(expand_domain("%{ir}.%{v}._spf.%{d2}", v6),
                        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"));
    CHECK(expand_exp("%{c}", v6) == "2001:db8::cb01");
  }
  SUBCASE("escapes, URL-escaping and exp-only letters")
  {
    CHECK(expand_domain("macro%%percent%_%_space%-url-space.example.com", context)
          == "macro%percent  space%20url-space.example.com");
    spf::MacroContext jack = context;
    jack.sender_local = "~jack&jill=up-a_b3.c";
    CHECK(expand_exp("http://example.com/why.html?l=%{L}", jack)
          == "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c");
    CHECK(expand_exp("%{c} via %{r} at %{t}, %{p}", context) == "192.0.2.3 via mx.example.net at 1700000000, unknown");
    CHECK(expand_domain("%{l2r+-}.user.example.com", [] {
            auto c = rfc_context();
            c.sender_local = "foo-bar+zip+quux";
            return c;
          }()) == "bar.foo.user.example.com");
  }
  SUBCASE("trailing dot removed from domains, kept in explanations")
  {
    CHECK(expand_domain("%{d}.d.spf.example.com.", context) == "email.example.com.d.spf.example.com");
    CHECK(expand_exp("This is a test.", context) == "This is a test.");
  }
  SUBCASE("domain truncation to 253 octets from the left")
  {
    spf::MacroContext long_context = context;
    long_context.sender_domain = "somewhat.long.exp.example.com";
    const auto name = expand_domain("foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com", long_context);
    CHECK(name.size() <= 253);
    CHECK(name.rfind("somewhat.long.exp.example.com.", 0) == 0);
    CHECK(name.size() == 8 * 30 + 11);
  }
}

TEST_CASE("spf::parse_macro_string")
{
  using spf::MacroUse;
  SUBCASE("tokens")
  {
    const auto macro = spf::parse_macro_string("%{ir}.%{v}._spf.%{D2}", MacroUse::domain_spec);
    REQUIRE(macro);
    REQUIRE(macro->tokens.size() == 5);
    CHECK(macro->tokens[0].letter == 'i');
    CHECK(macro->tokens[0].reverse);
    CHECK(macro->tokens[4].letter == 'd');
    CHECK(macro->tokens[4].digits == 2);
    CHECK(macro->tokens[4].url_escape);
    CHECK(macro->tokens[4].offset == 16);
    CHECK(macro->has_macros());
    CHECK_FALSE(macro->uses_ptr());
  }
  SUBCASE("errors")
  {
    const auto bad = spf::parse_macro_string("foo%(ir).example.com", MacroUse::domain_spec);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().offset == 3);
    CHECK(bad.error().message.rfind("'%(' is not valid", 0) == 0);
    CHECK_FALSE(spf::parse_macro_string("%{a}.example.com", MacroUse::domain_spec));
    CHECK_FALSE(spf::parse_macro_string("%{r}.example.com", MacroUse::domain_spec));
    CHECK(spf::parse_macro_string("%{r}.example.com", MacroUse::explanation));
    CHECK_FALSE(spf::parse_macro_string("%{d0}", MacroUse::domain_spec));
    CHECK_FALSE(spf::parse_macro_string("%{d", MacroUse::domain_spec));
    CHECK_FALSE(spf::parse_macro_string("50%", MacroUse::explanation));
    CHECK_FALSE(spf::parse_macro_string("\xEF\xBB\xBF" "Explanation", MacroUse::explanation));
    CHECK(spf::parse_macro_string("two words", MacroUse::explanation));
    CHECK_FALSE(spf::parse_macro_string("two words", MacroUse::domain_spec));
    // A refused byte inside a run of literal bytes is reported where it is, after a macro too.
    const auto space = spf::parse_macro_string("%{d}.ab cd.example", MacroUse::domain_spec);
    REQUIRE_FALSE(space);
    CHECK(space.error().offset == 7);
    CHECK(space.error().message.find("is not allowed here") != std::string::npos);
  }
  SUBCASE("literal runs")
  {
    // The bytes between macros form one literal token each, with the escapes turned into their text.
    const auto macro = spf::parse_macro_string("a.b%%c%{d}_x%_y%-z.", MacroUse::explanation);
    REQUIRE(macro);
    REQUIRE(macro->tokens.size() == 3);
    CHECK(macro->tokens[0].literal == "a.b%c");
    CHECK(macro->tokens[0].offset == 0);
    CHECK(macro->tokens[1].letter == 'd');
    CHECK(macro->tokens[2].literal == "_x y%20z.");
    CHECK(macro->tokens[2].offset == 10);
  }
  SUBCASE("a domain-spec without macros carries its expansion")
  {
    // What the evaluator uses instead of expanding: it must be what expand() gives in any context, and whether that
    // can be asked.
    spf::MacroContext v6 = rfc_context("2001:db8::cb01");
    v6.domain = "other.example";
    const auto check_fixed = [&](const std::string& text) {
      const auto macro = spf::parse_macro_string(text, MacroUse::domain_spec);
      REQUIRE(macro);
      REQUIRE(macro->fixed_target);
      CHECK(macro->fixed_target->name == spf::expand(*macro, rfc_context(), MacroUse::domain_spec));
      CHECK(macro->fixed_target->name == spf::expand(*macro, v6, MacroUse::domain_spec));
      CHECK(macro->fixed_target->queryable == spf::is_queryable(macro->fixed_target->name));
    };
    check_fixed("_spf.example.com");
    check_fixed("example.com.");
    check_fixed("a%%b.%_x.%-y.example");
    check_fixed("a..b.example");
    check_fixed(std::string(64, 'a') + ".example");
    check_fixed(std::string(63, 'a') + "\\.example");
    std::string long_name; // over 253 octets: truncated from the left, label by label
    for (int i = 0; i < 30; ++i) {
      long_name += "label" + std::to_string(i) + ".";
    }
    check_fixed(long_name + "example.com");
    const auto truncated = spf::parse_macro_string(long_name + "example.com", MacroUse::domain_spec);
    REQUIRE(truncated);
    CHECK(truncated->fixed_target->name.size() <= 253);
    CHECK(truncated->fixed_target->queryable);
    CHECK(spf::parse_macro_string("a..b.example", MacroUse::domain_spec)->fixed_target->queryable == false);
    CHECK(spf::parse_macro_string("example.com.", MacroUse::domain_spec)->fixed_target->name == "example.com");

    std::mt19937 random(20261130);
    const std::array<std::string_view, 9> pieces{"a", "b9", "-", ".", "..", "%%", "%_", "%-", std::string_view("\\")};
    for (int round = 0; round < 2000; ++round) {
      std::string text;
      const size_t count = 1 + random() % 40;
      for (size_t i = 0; i < count; ++i) {
        text += random() % 10 == 0 ? std::string(1 + random() % 70, 'x') : std::string(pieces[random() % pieces.size()]);
      }
      CAPTURE(text);
      check_fixed(text);
    }

    // fixed_expansion: the parser's name, or for a MacroString built by hand (no fixed_target) the tokens expanded.
    auto parsed = spf::parse_macro_string("_spf.Example.com.", MacroUse::domain_spec);
    REQUIRE(parsed);
    CHECK(spf::fixed_expansion(*parsed) == parsed->fixed_target->name);
    spf::MacroString by_hand = *parsed;
    by_hand.fixed_target.reset();
    CHECK(spf::fixed_expansion(by_hand) == "_spf.Example.com");

    // Macros, or explanation text: nothing is fixed.
    CHECK_FALSE(spf::parse_macro_string("%{d}", MacroUse::domain_spec)->fixed_target);
    CHECK_FALSE(spf::parse_macro_string("_spf.%{i}.example", MacroUse::domain_spec)->fixed_target);
    CHECK_FALSE(spf::parse_macro_string("example.com", MacroUse::explanation)->fixed_target);
  }
}

TEST_CASE("spf::is_queryable: the block-wise check agrees with label-by-label splitting on random names")
{
  // The reference: split at each dot and check every label, then every byte.
  const auto reference = [](std::string_view name) {
    if (!name.empty() && name.back() == '.') {
      name.remove_suffix(1);
    }
    if (name.empty() || name.size() > 253) {
      return false;
    }
    for (const char c : name) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte >= 0x7f || byte == '\\') {
        return false;
      }
    }
    for (size_t start = 0;;) {
      const size_t dot = name.find('.', start);
      const size_t length = (dot == std::string_view::npos ? name.size() : dot) - start;
      if (length == 0 || length > 63) {
        return false;
      }
      if (dot == std::string_view::npos) {
        return true;
      }
      start = dot + 1;
    }
  };
  CHECK(spf::is_queryable("mx5.mailhost.bench.test"));
  CHECK(spf::is_queryable(std::string(63, 'a') + ".example.com."));
  CHECK_FALSE(spf::is_queryable(std::string(64, 'a') + ".example.com"));
  CHECK_FALSE(spf::is_queryable("a.example.com.."));
  CHECK_FALSE(spf::is_queryable(".example.com"));
  CHECK_FALSE(spf::is_queryable("."));
  CHECK(spf::is_queryable("a b%.example")); // what a resolver can ask, even if no host is named so

  std::mt19937 random(20261130);
  for (int round = 0; round < 50000; ++round) {
    std::string name;
    const size_t labels = 1 + random() % 8;
    for (size_t i = 0; i < labels; ++i) {
      // Label lengths around the limit of 63 and around the 16-byte blocks, and now and then an empty one.
      const std::array<size_t, 10> lengths{0, 1, 3, 7, 15, 16, 17, 62, 63, 64};
      const size_t length = random() % 3 == 0 ? lengths[random() % lengths.size()] : 1 + random() % 20;
      for (size_t j = 0; j < length; ++j) {
        name += static_cast<char>('a' + random() % 26);
      }
      if (i + 1 < labels) {
        name += '.';
      }
    }
    if (random() % 4 == 0) {
      name += '.';
    }
    if (random() % 3 == 0 && !name.empty()) {
      name[random() % name.size()] = static_cast<char>(random() % 256); // any byte, at any place
    }
    if (random() % 20 == 0) {
      name = std::string(249 + random() % 8, 'x'); // around the limit of 253, labels too long
      for (size_t at = 40; at < name.size(); at += 50) {
        name[at] = '.';
      }
    }
    CAPTURE(name);
    CHECK(spf::is_queryable(name) == reference(name));
  }
}

TEST_CASE("spf::validated_ptr_name")
{
  dns::ZoneResolver zone;
  zone.add_ptr("42.218.168.192.in-addr.arpa", "mx.example.com");
  zone.add_ptr("42.218.168.192.in-addr.arpa", "mx.e7.example.com");
  zone.add_ptr("40.218.168.192.in-addr.arpa", "unvalidated.example.com");
  zone.add_address("mx.example.com", *dns::IpAddress::parse("192.168.218.42"));
  zone.add_address("mx.e7.example.com", *dns::IpAddress::parse("192.168.218.42"));
  const auto ip42 = *dns::IpAddress::parse("192.168.218.42");
  CHECK(dns::run_sync(zone, spf::validated_ptr_name(zone, ip42, "e7.example.com", 10)) == "mx.e7.example.com");
  CHECK(dns::run_sync(zone, spf::validated_ptr_name(zone, ip42, "other.example", 10)) == "mx.example.com");
  CHECK(dns::run_sync(zone, spf::validated_ptr_name(zone, *dns::IpAddress::parse("192.168.218.40"), "x.example", 10))
        == "unknown");
}
