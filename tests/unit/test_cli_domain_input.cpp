#include <sendcheck/cli/domain_input.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

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

namespace {

using sendcheck::cli::DomainFileReader;
using sendcheck::cli::DomainLine;

/// A temporary file holding `bytes`, read from its start; closed when the owner goes.
struct TempFile
{
  explicit TempFile(std::string_view bytes) : file(std::tmpfile())
  {
    REQUIRE(file != nullptr);
    REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
    std::rewind(file);
  }
  ~TempFile() { std::fclose(file); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  std::FILE* file;
};

/// Every line `reader` gives, as "NUMBER:TEXT".
std::vector<std::string>
read_all(DomainFileReader& reader)
{
  std::vector<std::string> lines;
  while (const auto line = reader.next()) {
    lines.push_back(std::to_string(line->number) + ":" + line->text);
  }
  CHECK_FALSE(reader.next()); // and it stays at the end
  return lines;
}

/// The lines of a file holding `bytes`.
std::vector<std::string>
lines_of(std::string_view bytes)
{
  TempFile temp(bytes);
  DomainFileReader reader(temp.file);
  auto lines = read_all(reader);
  CHECK_FALSE(reader.binary());
  CHECK_FALSE(reader.read_error());
  return lines;
}

using Lines = std::vector<std::string>;

} // namespace

TEST_CASE("cli::DomainFileReader")
{
  SUBCASE("comments, blank lines and the blanks around a name are dropped; numbers count every line")
  {
    CHECK(lines_of("# customers\n\ngood.example\n  spaced.example \t\nno-spf.example   # no SPF yet\n#\n \t \nlast.ee\n")
          == Lines{"3:good.example", "4:spaced.example", "5:no-spf.example", "8:last.ee"});
  }
  SUBCASE("CR LF line ends, and a last line without a line end")
  {
    CHECK(lines_of("a.ee\r\nb.ee\r\n\r\n \r\nc.ee # note\r\nd.ee") == Lines{"1:a.ee", "2:b.ee", "5:c.ee", "6:d.ee"});
    CHECK(lines_of("only.ee") == Lines{"1:only.ee"});
    CHECK(lines_of("only.ee\r") == Lines{"1:only.ee"});
    CHECK(lines_of("only.ee \t\r\r") == Lines{"1:only.ee"});
  }
  SUBCASE("a CR that does not end the line stays in it (for parse_domain_input to refuse)")
  {
    CHECK(lines_of("a\rb.ee\r\n\rc.ee\n") == Lines{"1:a\rb.ee", "2:\rc.ee"});
  }
  SUBCASE("spaces inside a line are kept")
  {
    CHECK(lines_of(" two names.ee \n") == Lines{"1:two names.ee"});
  }
  SUBCASE("files without a domain")
  {
    CHECK(lines_of("").empty());
    CHECK(lines_of("\n\n\n").empty());
    CHECK(lines_of("# nothing\n   # here\r\n\t\n").empty());
    CHECK(lines_of("#no newline").empty());
  }
  SUBCASE("very long lines are read whole")
  {
    const std::string long_name(100000, 'a');
    CHECK(lines_of(long_name + ".ee\nshort.ee\n" + long_name)
          == Lines{"1:" + long_name + ".ee", "2:short.ee", "3:" + long_name});
    const std::string long_comment = "x.ee #" + std::string(70000, '#') + "\ny.ee";
    CHECK(lines_of(long_comment) == Lines{"1:x.ee", "2:y.ee"});
  }
  SUBCASE("NUL bytes: in the first two lines the file is binary; a NUL is kept in the line")
  {
    const std::string nul(1, '\0');
    for (const std::string& bytes : {nul + "a.ee\n", "a" + nul + ".ee\nb.ee\n", "# x" + nul + "\nb.ee\n",
                                    "\n" + nul + "\nb.ee\n", "a.ee\n" + nul}) {
      TempFile temp(bytes);
      DomainFileReader reader(temp.file);
      while (reader.next()) {
      }
      CHECK(reader.binary());
    }
    TempFile second_line("a.ee\nb" + nul + ".ee\n");
    DomainFileReader reader(second_line.file);
    CHECK(reader.next()->text == "a.ee");
    CHECK_FALSE(reader.binary()); // not yet: the second line was not read
    CHECK(reader.next()->text == "b" + nul + ".ee");
    CHECK(reader.binary());

    TempFile third_line("a.ee\nb.ee\nc" + nul + ".ee\n");
    DomainFileReader later(third_line.file);
    CHECK(read_all(later) == Lines{"1:a.ee", "2:b.ee", "3:c" + nul + ".ee"});
    CHECK_FALSE(later.binary());
  }
  SUBCASE("a read that fails ends the lines and tells why")
  {
    std::FILE* directory = std::fopen(SENDCHECK_SOURCE_DIR, "rb");
    REQUIRE(directory != nullptr);
    DomainFileReader reader(directory);
    CHECK_FALSE(reader.next());
    CHECK(reader.read_error() == EISDIR);
    std::fclose(directory);
  }
}
