#include <sendcheck/cli/domain_input.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdio>
#include <random>
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
    CHECK(lines_of("# customers\n\ngood.example\n  spaced.example \t\nno-spf.example   # no SPF yet\n#\n \t \n"
                   "last.ee\n")
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

namespace {

/// What parse_domain_input gives for an input: the names and the note, or (when `ok` is false) the error.
struct Expected
{
  std::string input;
  bool ok = false;
  std::string ascii_or_error;
  std::string unicode = {};
  std::string note = {};
};

void
check_expected(const Expected& expected)
{
  CAPTURE(expected.input);
  const auto result = parse_domain_input(expected.input);
  REQUIRE(static_cast<bool>(result) == expected.ok);
  if (result) {
    CHECK(result->ascii == expected.ascii_or_error);
    CHECK(result->unicode == expected.unicode);
    CHECK(result->note == expected.note);
  } else {
    CHECK(result.error() == expected.ascii_or_error);
  }
}

} // namespace

TEST_CASE("cli::parse_domain_input: every rule, and which one speaks first")
{
  using namespace std::string_literals;
  SUBCASE("short inputs")
  {
    const Expected table[] = {
      {"example.ee"s, true, "example.ee", "example.ee"},
      {"Example.EE."s, true, "example.ee", "example.ee"},
      {"a.b"s, true, "a.b", "a.b"},
      {"a"s, false, "'a' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {""s, false, "an empty domain name was given"},
      {" "s, false, "an empty domain name was given"},
      {"  example.ee  "s, true, "example.ee", "example.ee"},
      {"\texample.ee"s, true, "example.ee", "example.ee"},
      {"."s, false, "'.' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {".."s, false, "'..' has an empty label (two dots in a row, or a dot at the start)"},
      {".ee"s, false, "'.ee' has an empty label (two dots in a row, or a dot at the start)"},
      {"a."s, false, "'a.' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"a.."s, false, "'a..' has an empty label (two dots in a row, or a dot at the start)"},
      {"a..ee"s, false, "'a..ee' has an empty label (two dots in a row, or a dot at the start)"},
      {"example.ee.."s, false, "'example.ee..' has an empty label (two dots in a row, or a dot at the start)"},
      {"-a.ee"s, false, "'-a.ee' has a label that starts or ends with '-'"},
      {"a-.ee"s, false, "'a-.ee' has a label that starts or ends with '-'"},
      {"a.-ee"s, false, "'a.-ee' has a label that starts or ends with '-'"},
      {"a.ee-"s, false, "'a.ee-' has a label that starts or ends with '-'"},
      {"a-b.ee"s, true, "a-b.ee", "a-b.ee"},
      {"_dmarc.a.ee"s, true, "_dmarc.a.ee", "_dmarc.a.ee"},
      {"a_b.ee"s, true, "a_b.ee", "a_b.ee"},
      {"1.2.3.4"s, true, "1.2.3.4", "1.2.3.4"},
      {"exam!ple.ee"s, false, "'exam!ple.ee' contains '!', which is not allowed in a domain name"},
      {"bad\x1B.ee"s, false, "'bad\\x1B.ee' contains '\\x1B', which is not allowed in a domain name"},
      {"bad\\x.ee"s, false, "'bad\\\\x.ee' contains '\\\\', which is not allowed in a domain name"},
      {"a/b.ee"s, false, "'a/b.ee' contains '/', which is not allowed in a domain name"},
      {"a:b.ee"s, false, "'a:b.ee' contains ':', which is not allowed in a domain name"},
      {"user@Example.ee"s, true, "example.ee", "example.ee",
       "checking the domain Example.ee of the address user@Example.ee"},
      {"a@b@c.ee"s, true, "c.ee", "c.ee", "checking the domain c.ee of the address a@b@c.ee"},
      {"@ee"s, false, "'@ee' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"@a.ee"s, true, "a.ee", "a.ee", "checking the domain a.ee of the address @a.ee"},
      {"user@"s, false, "'user@' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"user@."s, false, "'user@.' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"http://example.ee/"s, false,
       "'http://example.ee/' is a web address; give only the domain name, e.g. example.ee"},
      {"https://Example.ee:8080/x?y#z"s, false,
       "'https://Example.ee:8080/x?y#z' is a web address; give only the domain name, e.g. Example.ee"},
      {"ftp://"s, false, "'ftp://' is a web address; give only the domain name, e.g. "},
      {"x://"s, false, "'x://' is a web address; give only the domain name, e.g. "},
      {"exa mple.ee"s, false, "'exa mple.ee' contains a space; give one domain name per argument"},
      {"a\tb.ee"s, false, "'a\\x09b.ee' contains a space; give one domain name per argument"},
      {"a\rb.ee"s, false, "'a\\x0Db.ee' contains a space; give one domain name per argument"},
      {"a\nb.ee"s, false, "'a\\x0Ab.ee' contains a space; give one domain name per argument"},
      {"a\r"s, false, "'a\\x0D' contains a space; give one domain name per argument"},
      {"pärnu.ee"s, true, "xn--prnu-loa.ee", "pärnu.ee"},
      {"ÕUN.ee"s, true, "xn--un-bka.ee", "õun.ee"},
      {"xn--prnu-loa.ee"s, true, "xn--prnu-loa.ee", "pärnu.ee"},
      {"XN--PRNU-LOA.EE"s, true, "xn--prnu-loa.ee", "pärnu.ee"},
      {"xn--zz.ee"s, true, "xn--zz.ee", "xn--zz.ee"},
      {"xn--.ee"s, false, "'xn--.ee' has a label that starts or ends with '-'"},
      {"pärnu..ee"s, false,
       "'p\\xC3\\xA4rnu..ee' has an empty label (two dots in a row, or a dot at the start)"},
      {"\xFF.ee"s, false, "'\\xFF.ee' is not a valid internationalized domain name: string encoding error"},
      {"\xC3.ee"s, false, "'\\xC3.ee' is not a valid internationalized domain name: string encoding error"},
      {"user@pärnu.ee"s, true, "xn--prnu-loa.ee", "pärnu.ee",
       "checking the domain p\\xC3\\xA4rnu.ee of the address user@p\\xC3\\xA4rnu.ee"},
      {"pärnu.ee."s, true, "xn--prnu-loa.ee", "pärnu.ee"},
      {"a\x00""b.ee"s, false, "'a\\x00b.ee' contains '\\x00', which is not allowed in a domain name"},
      {"\x00"s, false, "'\\x00' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"a.e\x00"s, false, "'a.e\\x00' contains '\\x00', which is not allowed in a domain name"},
      {"0.ee"s, true, "0.ee", "0.ee"},
      {"a.0"s, true, "a.0", "a.0"},
      {"a.ee/"s, false, "'a.ee/' contains '/', which is not allowed in a domain name"},
      {"a%b.ee"s, false, "'a%b.ee' contains '%', which is not allowed in a domain name"},
      {"a.b.c.d.e.f.g"s, true, "a.b.c.d.e.f.g", "a.b.c.d.e.f.g"},
      {"A.B"s, true, "a.b", "a.b"},
      {"a.."s, false, "'a..' has an empty label (two dots in a row, or a dot at the start)"},
      {"a.b-"s, false, "'a.b-' has a label that starts or ends with '-'"},
      {"-.ee"s, false, "'-.ee' has a label that starts or ends with '-'"},
      {"a.-"s, false, "'a.-' has a label that starts or ends with '-'"},
      {"a\x7F.ee"s, false, "'a\\x7F.ee' contains '\\x7F', which is not allowed in a domain name"},
      {"ä"s, false,
       "'\\xC3\\xA4' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"ä."s, false,
       "'\\xC3\\xA4.' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"a.ä"s, true, "a.xn--4ca", "a.ä"},
      {"xn--a.xn--b"s, true, "xn--a.xn--b", "xn--a.xn--b"},
      {"a.xn--"s, false, "'a.xn--' has a label that starts or ends with '-'"},
      {"@"s, false, "'@' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"@@"s, false, "'@@' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"a@"s, false, "'a@' is not a full domain name; give the domain mail is sent from, such as example.ee"},
      {"mail: a.ee"s, false, "'mail: a.ee' contains a space; give one domain name per argument"},
      {"a.ee,b.ee"s, false, "'a.ee,b.ee' contains ',', which is not allowed in a domain name"},
      {"a;b.ee"s, false, "'a;b.ee' contains ';', which is not allowed in a domain name"},
      {"\"a.ee\""s, false, "'\"a.ee\"' contains '\"', which is not allowed in a domain name"},
      {"<a.ee>"s, false, "'<a.ee>' contains '<', which is not allowed in a domain name"},
      {"a.ee#"s, false, "'a.ee#' contains '#', which is not allowed in a domain name"},
      {"a*.ee"s, false, "'a*.ee' contains '*', which is not allowed in a domain name"},
      {"*.a.ee"s, false, "'*.a.ee' contains '*', which is not allowed in a domain name"},
      {"a.ee\\"s, false, "'a.ee\\\\' contains '\\\\', which is not allowed in a domain name"},
      {"a\\.ee"s, false, "'a\\\\.ee' contains '\\\\', which is not allowed in a domain name"},
    };
    for (const auto& expected : table) {
      check_expected(expected);
    }
  }
  SUBCASE("long inputs: the input shown is cut at 80 bytes")
  {
    const std::string a80(80, 'a');
    const std::string l63(63, 'a');
    const std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b'); // 253 characters
    const std::string too_long = l63 + "." + l63 + "." + l63 + "." + std::string(62, 'b');
    const std::string limit = " characters long; a domain name can have at most 253";
    const std::string label = " characters; each part between dots can have at most 63";
    const Expected table[] = {
      {l63 + ".ee", true, l63 + ".ee", l63 + ".ee"},
      {std::string(64, 'a') + ".ee", false, "'" + std::string(64, 'a') + ".ee' has a label of 64" + label},
      {std::string(250, 'a') + ".ee", false, "'" + a80 + "...' has a label of 250" + label},
      {std::string(200, 'a') + "..ee", false, "'" + a80 + "...' has a label of 200" + label},
      {std::string(90, 'x') + "\x01.ee", false, "'" + std::string(80, 'x') + "...' has a label of 91" + label},
      {longest, true, longest, longest},
      {longest + ".", true, longest, longest},
      {too_long, false, "'" + l63 + "." + std::string(16, 'a') + "...' is 254" + limit},
      {std::string(1024, 'a'), false, "'" + a80 + "...' is 1024" + limit},
      {std::string(1024, 'a') + ".", false, "'" + a80 + "...' is 1024" + limit},
      {std::string(1025, 'a'), false, "the domain name given is 1025" + limit},
      {std::string(100, 'b') + " c", false,
       "'" + std::string(80, 'b') + "...' contains a space; give one domain name per argument"},
      {"\xC3\xA4\xC3\xA4" + std::string(300, 'a') + ".ee", false,
       "'\\xC3\\xA4\\xC3\\xA4" + std::string(76, 'a')
         + "...' is not a valid internationalized domain name: domain name longer than 255 characters"},
    };
    for (const auto& expected : table) {
      check_expected(expected);
    }
  }
}

TEST_CASE("cli::parse_domain_input: the shortcut for plain host names agrees with the general path")
{
  // Inputs made mostly of the bytes the shortcut takes, with the edges it must send down the general path: empty
  // and long labels, '-' at a label's edge, a trailing dot or two, one label, A-labels, upper case, and a few bytes
  // it must not take (space, '@', ':', '/', non-ASCII).
  const std::string common = "abcxyzABCXYZ0189-_..";
  const std::string rare = " @:/\xC3\xA4\t*";
  std::mt19937 random(20261130);
  const auto agree = [](const std::string& input) {
    CAPTURE(input);
    const auto fast = parse_domain_input(input);
    const auto general = sendcheck::cli::detail::parse_domain_input_general(input);
    REQUIRE(fast.has_value() == general.has_value());
    if (fast) {
      CHECK(fast->ascii == general->ascii);
      CHECK(fast->unicode == general->unicode);
      CHECK(fast->note == general->note);
    } else {
      CHECK(fast.error() == general.error());
    }
  };
  for (const std::string& input : { std::string("xn--mnchen-3ya.de"), std::string("XN--MNCHEN-3YA.DE"),
                                    std::string("a.xn--p1ai"), std::string("example.ee.."), std::string("ee."),
                                    std::string(".ee"), std::string("-a.ee"), std::string("a-.ee"),
                                    std::string(63, 'a') + ".ee", std::string(64, 'a') + ".ee",
                                    std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                                      "." + std::string(61, 'd'),
                                    std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                                      "." + std::string(62, 'd') }) {
    agree(input);
  }
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    const size_t length = 1 + random() % (random() % 10 == 0 ? 300 : 24);
    for (size_t at = 0; at < length; ++at) {
      input += random() % 50 == 0 ? rare[random() % rare.size()] : common[random() % common.size()];
    }
    if (random() % 4 == 0) {
      input += random() % 2 == 0 ? ".ee" : ".xn--p1ai";
    }
    agree(input);
  }
}
