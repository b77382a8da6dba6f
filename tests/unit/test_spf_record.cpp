#include <sendcheck/spf/record.hpp>
#include <sendcheck/util/strings.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace sendcheck;
using spf::MechanismKind;
using spf::ModifierKind;
using spf::Qualifier;
using spf::TermKind;

namespace {

spf::ParseError
error_of(std::string_view text)
{
  const auto parsed = spf::parse_record(text);
  REQUIRE_FALSE(parsed);
  return parsed.error();
}

} // namespace

TEST_CASE("spf::parse_record")
{
  SUBCASE("terms, qualifiers, offsets and source text")
  {
    const auto parsed = spf::parse_record("v=spf1  ip4:192.0.2.0/24 ~mx a:mail.example.com//64 -all");
    REQUIRE(parsed);
    const auto& terms = parsed->terms;
    REQUIRE(terms.size() == 4);
    CHECK(terms[0].mechanism == MechanismKind::ip4);
    CHECK(terms[0].network->to_string() == "192.0.2.0");
    CHECK(terms[0].cidr4 == 24u);
    CHECK(terms[0].offset == 8);
    CHECK(terms[0].text == "ip4:192.0.2.0/24");
    CHECK(terms[1].mechanism == MechanismKind::mx);
    CHECK(terms[1].qualifier == Qualifier::softfail);
    CHECK(terms[1].offset == 25);
    CHECK(terms[2].domain_spec->text == "mail.example.com");
    CHECK_FALSE(terms[2].cidr4);
    CHECK(terms[2].cidr6 == 64u);
    CHECK(terms[3].mechanism == MechanismKind::all);
    CHECK(terms[3].qualifier == Qualifier::fail);
    CHECK(parsed->dns_term_count() == 2);
  }
  SUBCASE("dual CIDR lengths")
  {
    const auto parsed = spf::parse_record("v=spf1 a:x.example.com/24//64 mx//64 a/0");
    REQUIRE(parsed);
    CHECK(parsed->terms[0].cidr4 == 24u);
    CHECK(parsed->terms[0].cidr6 == 64u);
    CHECK(parsed->terms[1].cidr6 == 64u);
    CHECK_FALSE(parsed->terms[1].cidr4);
    CHECK(parsed->terms[2].cidr4 == 0u);
    CHECK(parsed->terms[2].effective_cidr6() == 128u);
  }
  SUBCASE("a '/' inside the domain-spec is not a prefix length")
  {
    const auto parsed = spf::parse_record("v=spf1 a:foo:bar/baz.example.com");
    REQUIRE(parsed);
    CHECK(parsed->terms[0].domain_spec->text == "foo:bar/baz.example.com");
    CHECK_FALSE(parsed->terms[0].cidr4);
  }
  SUBCASE("modifiers")
  {
    const auto parsed = spf::parse_record("v=spf1 redirect=_spf.example.com exp=explain.%{d} moo.cow-far_out=man:dog");
    REQUIRE(parsed);
    REQUIRE(parsed->redirect());
    CHECK(parsed->redirect()->domain_spec->text == "_spf.example.com");
    REQUIRE(parsed->exp());
    CHECK(parsed->exp()->domain_spec->has_macros());
    CHECK(parsed->terms[2].kind == TermKind::modifier);
    CHECK(parsed->terms[2].modifier == ModifierKind::unknown);
    CHECK(parsed->terms[2].modifier_name == "moo.cow-far_out");
    CHECK(parsed->dns_term_count() == 1);
  }
  SUBCASE("version is case-insensitive; empty record and trailing spaces are fine")
  {
    CHECK(spf::parse_record("V=SpF1"));
    CHECK(spf::parse_record("v=spf1 -all   "));
    CHECK(spf::parse_record("v=spf1")->terms.empty());
  }
  SUBCASE("error: unknown mechanism")
  {
    const auto error = error_of("v=spf1 ip:1.2.3.4 -all");
    CHECK(error.message == "unknown mechanism 'ip'");
    CHECK(error.offset == 7);
    CHECK(error.term == "ip:1.2.3.4");
  }
  SUBCASE("error: IPv4 prefix too long points at the prefix")
  {
    const auto error = error_of("v=spf1 ip4:1.2.3.4/33");
    CHECK(error.message.rfind("'ip4:1.2.3.4/33': IPv4 prefix length must be 0-32", 0) == 0);
    CHECK(error.offset == 18);
  }
  SUBCASE("error: duplicate redirect")
  {
    const auto error = error_of("v=spf1 redirect=a.example.com redirect=b.example.com");
    CHECK(error.message == "duplicate redirect= modifier: a record may have only one");
    CHECK(error.offset == 30);
  }
  SUBCASE("error: control characters and non-ASCII bytes, escaped for display")
  {
    const auto error = error_of("v=spf1 a:ctrl.example.com\rptr -all");
    CHECK(error.offset == 25);
    CHECK(error.term == "a:ctrl.example.com\\x0Dptr");
    CHECK(error.message.find("control character \\x0D") != std::string::npos);
    CHECK(error_of("v=spf1 \xC2\x80" "a -all").offset == 7);
    CHECK(error_of(std::string_view("v=spf1 a:foo.example.com\0", 25)).offset == 24);
  }
  SUBCASE("error: domain-spec rules")
  {
    CHECK(error_of("v=spf1 a:museum").message.find("at least two labels") != std::string::npos);
    CHECK(error_of("v=spf1 a:abc.123").message.find("all digits") != std::string::npos);
    CHECK(error_of("v=spf1 a:192.0.2.1").message.find("write ip4:192.0.2.1 instead") != std::string::npos);
    CHECK(error_of("v=spf1 mx:example.-com").message.find("must not begin or end with '-'") != std::string::npos);
    CHECK(error_of("v=spf1 include:").message == "'include:': include needs a domain name after it");
    CHECK(error_of("v=spf1 exp=").message == "'exp=': exp= needs a domain name after it");
    CHECK(spf::parse_record("v=spf1 a:foo.example.xn--zckzah include:o.spf.example.com. a:%{H}"));
  }
  SUBCASE("error: grammar corners from the openspf suite")
  {
    CHECK_FALSE(spf::parse_record("v=spf1 -all."));
    CHECK_FALSE(spf::parse_record("v=spf1 ptr/0"));
    CHECK_FALSE(spf::parse_record("v=spf1 a/24/64"));
    CHECK_FALSE(spf::parse_record("v=spf1 ip4:1.2.3.4/032"));
    CHECK_FALSE(spf::parse_record("v=spf1 ip4:1.2.3.4//32"));
    CHECK_FALSE(spf::parse_record("v=spf1 ip6::CAFE::BABE"));
    CHECK_FALSE(spf::parse_record("v=spf1 1up=foo"));
    CHECK_FALSE(spf::parse_record("v=spf1 =all"));
    CHECK_FALSE(spf::parse_record("v=spf1 foo=%abc"));
    CHECK_FALSE(spf::parse_record("v=spf1 exists:%{r}.example.com"));
    CHECK(error_of("v=spf1 redirect:example.com").message.find("redirect=domain") != std::string::npos);
    CHECK(spf::parse_record("v=spf1 ip6:::1.1.1.1/0 default=+"));
  }
  SUBCASE("not an SPF record")
  {
    const auto error = error_of("v=spf10 -all");
    CHECK(error.offset == 0);
    CHECK(error.message == "an SPF record must start with 'v=spf1' followed by a space");
  }
}

TEST_CASE("spf::parse_record: ip4 networks are read as inet_pton reads them, on random and mutated addresses")
{
  // The parser reads plain dotted quads itself and leaves the rest to IpAddress::parse; both must give one answer.
  std::mt19937 random(20261130);
  const std::string_view alphabet = "0123456789.";
  const std::array<std::string_view, 12> seeds{"0.0.0.0", "255.255.255.255", "192.0.2.1", "10.0.0.255", "1.2.3.4",
                                               "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "00.0.0.0",
                                               "199.249.250.251"};
  for (int round = 0; round < 20000; ++round) {
    std::string address(seeds[random() % seeds.size()]);
    const int edits = static_cast<int>(random() % 3);
    for (int edit = 0; edit < edits; ++edit) {
      const size_t at = random() % (address.size() + 1);
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
      case 0:
        address.insert(at, 1, c);
        break;
      case 1:
        if (at < address.size()) {
          address.erase(at, 1);
        }
        break;
      default:
        if (at < address.size()) {
          address[at] = c;
        }
        break;
      }
    }
    CAPTURE(address);
    const auto expected = dns::IpAddress::parse(address);
    const auto parsed = spf::parse_record("v=spf1 ip4:" + address);
    REQUIRE(parsed.has_value() == (expected && expected->is_v4()));
    if (parsed) {
      CHECK(*parsed->terms[0].network == *expected);
    } else {
      CHECK(parsed.error().message == "'ip4:" + address + "': '" + address + "' is not a valid IPv4 address");
    }
  }
}

TEST_CASE("spf::parse_record: mechanism names are found in any case, and only whole names")
{
  // The reference: each kind's name as to_string gives it, compared case-insensitively.
  std::vector<std::pair<std::string_view, MechanismKind>> names_of_kinds;
  for (const auto kind : {MechanismKind::all, MechanismKind::include, MechanismKind::a, MechanismKind::mx,
                          MechanismKind::ptr, MechanismKind::ip4, MechanismKind::ip6, MechanismKind::exists}) {
    names_of_kinds.emplace_back(spf::to_string(kind), kind);
  }
  std::vector<std::string> names;
  // Every name of one to three letters over the letters of the short names (and digits), in both cases.
  const std::string_view letters = "aAlLmMxXpPtTrRiI46";
  for (const char a : letters) {
    names.emplace_back(1, a);
    for (const char b : letters) {
      names.push_back(std::string{a, b});
      for (const char c : letters) {
        names.push_back(std::string{a, b, c});
      }
    }
  }
  for (const std::string_view name : {"INCLUDE", "Include", "includ", "includes", "EXISTS", "exist", "existz",
                                      "inclusion", "ip", "ip46", "alll", "mxx"}) {
    names.emplace_back(name);
  }
  for (const auto& name : names) {
    CAPTURE(name);
    const auto known = std::find_if(names_of_kinds.begin(), names_of_kinds.end(),
                                    [&](const auto& entry) { return util::iequals(entry.first, name); });
    // A form every mechanism accepts after its name: "all" takes nothing, so its bare name; the others a domain.
    const bool bare = known == names_of_kinds.end() || known->second == MechanismKind::all;
    const std::string term = bare ? name : name + (known->second == MechanismKind::ip4   ? ":192.0.2.1"
                                                   : known->second == MechanismKind::ip6 ? ":2001:db8::1"
                                                                                         : ":example.com");
    const auto parsed = spf::parse_record("v=spf1 -" + term);
    if (known == names_of_kinds.end()) {
      REQUIRE_FALSE(parsed);
      CHECK(parsed.error().message == "unknown mechanism '" + name + "'");
      CHECK(parsed.error().offset == 8);
      continue;
    }
    REQUIRE(parsed);
    CHECK(parsed->terms[0].mechanism == known->second);
    CHECK(parsed->terms[0].qualifier == Qualifier::fail);
  }
}

TEST_CASE("spf::parse_record: every byte outside visible ASCII is refused where it stands, and '=' ':' '/' split")
{
  for (unsigned byte = 0; byte < 256; ++byte) {
    CAPTURE(byte);
    for (const size_t at : {0, 3, 12}) {
      std::string term = "mx:a.example.com";
      term[at] = static_cast<char>(byte);
      const auto parsed = spf::parse_record("v=spf1 ip4:192.0.2.1 " + term + " -all");
      if (byte == ' ' || (byte >= 0x21 && byte <= 0x7e)) {
        // Not refused by the scan (the term may still be invalid for other reasons).
        CHECK((parsed || parsed.error().message.find("visible ASCII") == std::string::npos));
        continue;
      }
      REQUIRE_FALSE(parsed);
      CHECK(parsed.error().offset == 21 + at);
      CHECK(parsed.error().term == util::escape_for_display(term));
      const bool control = byte < 0x20 || byte == 0x7f;
      CHECK(parsed.error().message.find(control ? "contains the control character" : "contains the non-ASCII byte")
            != std::string::npos);
    }
  }
  // The first separator decides between a modifier and a mechanism.
  CHECK(spf::parse_record("v=spf1 a:foo=bar.example.com")->terms[0].kind == TermKind::mechanism);
  const auto mechanism = spf::parse_record("v=spf1 a:b=c.example.com/24");
  REQUIRE(mechanism);
  CHECK(mechanism->terms[0].domain_spec->text == "b=c.example.com");
  CHECK(mechanism->terms[0].cidr4 == 24u);
  CHECK(spf::parse_record("v=spf1 foo=a:b/c")->terms[0].kind == TermKind::modifier);
  CHECK(spf::parse_record("v=spf1 foo=a:b/c")->terms[0].domain_spec->text == "a:b/c");
}

TEST_CASE("spf::to_string")
{
  const auto parsed =
    spf::parse_record("v=spf1  +a  MX/24 -IP4:192.0.2.1/24 ip6:2001:DB8::/32 include:_spf.example.com ~all foo=bar");
  REQUIRE(parsed);
  CHECK(spf::to_string(*parsed)
        == "v=spf1 +a mx/24 -ip4:192.0.2.1/24 ip6:2001:db8::/32 include:_spf.example.com ~all foo=bar");
  CHECK(spf::to_string(parsed->terms[1]) == "mx/24");
  const auto reparsed = spf::parse_record(spf::to_string(*parsed));
  REQUIRE(reparsed);
  CHECK(spf::to_string(*reparsed) == spf::to_string(*parsed));
  CHECK(spf::to_string(spf::parse_record("v=spf1 a:x.example.com/24//64 redirect=y.example.com")->terms[0])
        == "a:x.example.com/24//64");
}

TEST_CASE("spf::is_spf_record")
{
  CHECK(spf::is_spf_record("v=spf1"));
  CHECK(spf::is_spf_record("V=SPF1 -all"));
  CHECK_FALSE(spf::is_spf_record("v=spf10"));
  CHECK_FALSE(spf::is_spf_record(" v=spf1 -all"));
  CHECK_FALSE(spf::is_spf_record("spf2.0/pra -all"));
  CHECK_FALSE(spf::is_spf_record(""));
  SUBCASE("any one byte changed: only a change of case keeps it a record")
  {
    for (size_t at = 0; at < 8; ++at) {
      for (unsigned byte = 0; byte < 256; ++byte) {
        std::string text = "v=spf1 a";
        const char original = text[at];
        text[at] = static_cast<char>(byte);
        CAPTURE(text);
        const bool same_letter = util::to_lower(std::string(1, text[at])) == std::string(1, original);
        CHECK(spf::is_spf_record(text) == (at >= 7 || (at == 6 ? byte == ' ' : same_letter)));
        // The text cut just after the changed byte.
        const bool cut_is_record = at == 5 ? byte == '1' : at == 6 ? byte == ' ' : at == 7;
        CHECK(spf::is_spf_record(std::string_view(text).substr(0, at + 1)) == cut_is_record);
      }
    }
  }
}

TEST_CASE("spf::is_spf_record of a TXT record: the joined text decides, wherever the strings are split")
{
  const auto is_spf = [](std::vector<std::string> strings) {
    return spf::is_spf_record(dns::TxtRecord{std::move(strings)});
  };
  CHECK(is_spf({"v=spf1 -all"}));
  CHECK(is_spf({"v=spf1"}));
  CHECK(is_spf({"V=SpF1 ", "a"}));
  CHECK(is_spf({"v", "=", "s", "p", "f", "1", " ", "-all"}));
  CHECK(is_spf({"v=spf1", "", " mx"}));
  CHECK(is_spf({"", "v=spf1"}));
  CHECK_FALSE(is_spf({}));
  CHECK_FALSE(is_spf({""}));
  CHECK_FALSE(is_spf({"v=spf"}));
  CHECK_FALSE(is_spf({"v=spf1", "x"}));
  CHECK_FALSE(is_spf({"v=spf10 -all"}));
  CHECK_FALSE(is_spf({"v=spf", "", "10"}));
  CHECK_FALSE(is_spf({" v=spf1"}));
  // Every split of every text gives the answer of the joined text.
  for (const std::string text : {"v=spf1 -all", "v=spf1", "v=spf12", "v=spf", "x=spf1 a", "V=SPF1\ta"}) {
    for (size_t at = 0; at <= text.size(); ++at) {
      CAPTURE(text);
      CAPTURE(at);
      CHECK(is_spf({text.substr(0, at), text.substr(at)}) == spf::is_spf_record(text));
    }
  }
}

TEST_CASE("spf::select_record")
{
  dns::Answer answer;
  answer.status = dns::Status::ok;
  answer.txt = {{{"google-site-verification=x"}}, {{"v=spf1 ip4:", "192.0.2.5 -all"}}};
  SUBCASE("exactly one, strings joined")
  {
    const auto selection = spf::select_record(answer);
    CHECK(selection.status == spf::SelectionStatus::one);
    CHECK(selection.record == "v=spf1 ip4:192.0.2.5 -all");
    CHECK(selection.records.empty());
  }
  SUBCASE("several")
  {
    answer.txt.push_back({{"v=spf1 -all"}});
    answer.txt.push_back({{"v=sp", "f1 a"}});
    const auto selection = spf::select_record(answer);
    CHECK(selection.status == spf::SelectionStatus::multiple);
    CHECK(selection.record.empty());
    CHECK(selection.records == std::vector<std::string>{"v=spf1 ip4:192.0.2.5 -all", "v=spf1 -all", "v=spf1 a"});
  }
  SUBCASE("none and DNS failure")
  {
    answer.txt.erase(answer.txt.begin() + 1);
    CHECK(spf::select_record(answer).status == spf::SelectionStatus::none);
    answer.status = dns::Status::nxdomain;
    answer.txt.clear();
    CHECK(spf::select_record(answer).status == spf::SelectionStatus::none);
    answer.status = dns::Status::servfail;
    CHECK(spf::select_record(answer).status == spf::SelectionStatus::dns_failure);
  }
}

TEST_CASE("spf::find_spf_record decides as select_record does, and views a one-string record in place")
{
  const auto agrees = [](const dns::Answer& answer) {
    const auto selection = spf::select_record(answer);
    const auto found = spf::find_spf_record(answer);
    CHECK(found.status == selection.status);
    if (selection.status == spf::SelectionStatus::one) {
      REQUIRE(found.record != nullptr);
      CHECK(found.count == 1);
      std::string storage;
      CHECK(found.text(storage) == selection.record);
    }
    if (selection.status == spf::SelectionStatus::multiple) {
      CHECK(found.count == selection.records.size());
    }
    return found;
  };
  dns::Answer answer;
  answer.status = dns::Status::ok;
  answer.txt = {{{"google-site-verification=x"}}, {{"v=spf1 ip4:192.0.2.5 -all"}}};
  {
    const auto found = agrees(answer);
    std::string storage;
    const auto text = found.text(storage);
    CHECK(text.data() == answer.txt[1].strings[0].data()); // viewed in place, not copied
    CHECK(storage.empty());
  }
  answer.txt[1] = {{"v=spf1 ip4:", "192.0.2.5", " -all"}};
  {
    const auto found = agrees(answer);
    std::string storage;
    CHECK(found.text(storage) == "v=spf1 ip4:192.0.2.5 -all");
    CHECK(storage == "v=spf1 ip4:192.0.2.5 -all"); // joined into the caller's storage
  }
  answer.txt.push_back({{"v=sp", "f1 a"}});
  agrees(answer);
  answer.txt.push_back({{"v=spf1 -all"}});
  CHECK(agrees(answer).count == 3);
  answer.txt = {{{"v=spf10 a"}}, {{"spf1 a"}}};
  CHECK(agrees(answer).status == spf::SelectionStatus::none);
  answer.txt.clear();
  CHECK(agrees(answer).status == spf::SelectionStatus::none);
  answer.status = dns::Status::servfail;
  CHECK(agrees(answer).status == spf::SelectionStatus::dns_failure);
}

TEST_CASE("spf::RecordCache")
{
  spf::RecordCache cache(2);
  const auto a = cache.parse("v=spf1 -all");
  CHECK(cache.parse("v=spf1 -all") == a);
  CHECK(cache.size() == 1);
  CHECK_FALSE(*cache.parse("v=spf1 bogus"));
  CHECK(cache.size() == 2);
  cache.parse("v=spf1 ~all");
  CHECK(cache.size() == 1); // cleared when full

  SUBCASE("a text is found by its characters, whatever buffer holds them")
  {
    spf::RecordCache big(1000);
    std::vector<spf::RecordCache::Entry> first;
    for (int i = 0; i < 300; ++i) {
      first.push_back(big.parse("v=spf1 ip4:192.0.2." + std::to_string(i) + " -all"));
    }
    CHECK(big.size() == 300);
    for (int i = 0; i < 300; ++i) {
      const std::string text = "v=spf1 ip4:192.0.2." + std::to_string(i) + " -all";
      CHECK(big.parse(std::string_view(text)) == first[static_cast<size_t>(i)]);
      // A prefix of a stored text is another text.
      CHECK(big.parse(std::string_view(text).substr(0, text.size() - 1)) != first[static_cast<size_t>(i)]);
    }
    CHECK(big.size() == 600);
  }
}
