#include <sendcheck/report/text.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace sendcheck;

TEST_CASE("report::wrap")
{
  SUBCASE("words fill lines of at most `width` columns; later lines are indented")
  {
    CHECK(report::wrap("one two three four", 10, 2) == "one two\n  three four");
    CHECK(report::wrap("short", 80, 4) == "short");
  }
  SUBCASE("runs of spaces and spaces at either end add nothing")
  {
    CHECK(report::wrap("", 20, 2).empty());
    CHECK(report::wrap("   ", 20, 2).empty());
    CHECK(report::wrap("  a   b ", 20, 2) == "a b");
  }
  SUBCASE("a word longer than a line is split")
  {
    CHECK(report::wrap("abcdefghijklmnopqrstuvwxy", 10, 1) == "abcdefghij\n klmnopqrst\n uvwxy");
    CHECK(report::wrap("ab abcdefghijkl", 10, 0) == "ab\nabcdefghij\nkl");
  }
  SUBCASE("a width below 10 counts as 10")
  {
    CHECK(report::wrap("aaaa bbbb cccc", 3, 0) == report::wrap("aaaa bbbb cccc", 10, 0));
  }
}

TEST_CASE("report::render_text escapes what is not printable ASCII, and only that")
{
  report::DomainReport domain;
  domain.domain = "example.ee";
  domain.unicode = "example.ee";
  domain.findings.push_back({"spf.syntax", Severity::error, "Plain text, with \\ and 'quotes' as they are.", "", ""});
  domain.findings.push_back({"spf.syntax", Severity::error, "Bytes \x1b[31mred\x7f and \xc3\xa4 from DNS.", "", ""});
  const std::string text = report::render_text(domain, report::TextOptions{});
  CHECK(text.find("Plain text, with \\ and 'quotes' as they are.") != std::string::npos);
  CHECK(text.find("Bytes \\x1B[31mred\\x7F and \\xC3\\xA4 from DNS.") != std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
}
