#include <sendcheck/cli/domain_input.hpp>

#include <doctest/doctest.h>

#include <string>

using sendcheck::cli::parse_domain_input;

TEST_CASE("cli::parse_domain_input")
{
  SUBCASE("plain names are lower-cased, a trailing dot dropped")
  {
    const auto result = parse_domain_input("Example.EE.");
    REQUIRE(result);
    CHECK(result->ascii == "example.ee");
    CHECK(result->unicode == "example.ee");
    CHECK(result->note.empty());
  }
  SUBCASE("internationalized names: both forms")
  {
    const auto result = parse_domain_input("pärnu.ee");
    REQUIRE(result);
    CHECK(result->ascii == "xn--prnu-loa.ee");
    CHECK(result->unicode == "pärnu.ee");
    const auto upper = parse_domain_input("ÕUN.ee");
    REQUIRE(upper);
    CHECK(upper->unicode == "õun.ee");
  }
  SUBCASE("an address: its domain, with a note")
  {
    const auto result = parse_domain_input("user@Example.ee");
    REQUIRE(result);
    CHECK(result->ascii == "example.ee");
    CHECK(result->note == "checking the domain Example.ee of the address user@Example.ee");
  }
  SUBCASE("refused with a message that names the problem")
  {
    CHECK(parse_domain_input("http://example.ee/").error()
          == "'http://example.ee/' is a web address; give only the domain name, e.g. example.ee");
    CHECK(parse_domain_input("exa mple.ee").error()
          == "'exa mple.ee' contains a space; give one domain name per argument");
    CHECK(parse_domain_input("").error() == "an empty domain name was given");
    CHECK(parse_domain_input("localhost").error()
          == "'localhost' is not a full domain name; give the domain mail is sent from, such as example.ee");
    CHECK(parse_domain_input("a..ee").error() == "'a..ee' has an empty label (two dots in a row, or a dot at the start)");
    CHECK(parse_domain_input(std::string(64, 'a') + ".ee").error().find("a label of 64 characters") != std::string::npos);
    CHECK(parse_domain_input(std::string(10000, 'a')).error()
          == "the domain name given is 10000 characters long; a domain name can have at most 253");
    CHECK(parse_domain_input("exam!ple.ee").error() == "'exam!ple.ee' contains '!', which is not allowed in a domain name");
    CHECK(parse_domain_input("bad\x1b.ee").error() == "'bad\\x1B.ee' contains '\\x1B', which is not allowed in a domain name");
  }
}
