#include <sendcheck/util/finding.hpp>
#include <sendcheck/util/result.hpp>
#include <sendcheck/util/string_hash.hpp>
#include <sendcheck/util/strings.hpp>
#include <sendcheck/util/task.hpp>
#include <sendcheck/util/text_buffer.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

using namespace sendcheck;

TEST_CASE("util::Result")
{
  SUBCASE("value")
  {
    util::Result<int, std::string> result = 7;
    REQUIRE(result);
    CHECK(*result == 7);
  }
  SUBCASE("error, same type as value")
  {
    util::Result<std::string, std::string> result = util::unexpected(std::string("bad"));
    REQUIRE(!result);
    CHECK(result.error() == "bad");
  }
}

TEST_CASE("util::escape_for_display")
{
  CHECK(util::escape_for_display("v=spf1 -all") == "v=spf1 -all");
  CHECK(util::escape_for_display(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(util::escape_for_display("\x1b[31mred") == "\\x1B[31mred");
  CHECK(util::escape_for_display("caf\xc3\xa9") == "caf\\xC3\\xA9");
  CHECK(util::escape_for_display("back\\slash") == "back\\\\slash");
}

TEST_CASE("util::terminal_safe")
{
  CHECK(util::terminal_safe("v=spf1 -all") == "v=spf1 -all");
  CHECK(util::terminal_safe("\x1b[31m") == "\\x1B[31m");
  CHECK(util::terminal_safe(std::string("a\0b", 3)) == "a\\x00b");
  const std::string escaped = util::escape_for_display(std::string("x\\y\x01", 4));
  CHECK(util::terminal_safe(escaped) == escaped);
  CHECK(util::terminal_safe(util::terminal_safe("\x7f")) == "\\x7F");
}

TEST_CASE("util::normalize_name")
{
  CHECK(util::normalize_name("Example.EE.") == "example.ee");
  CHECK(util::normalize_name("example.ee") == "example.ee");
  CHECK(util::iequals("ExAmple", "example"));
  CHECK_FALSE(util::iequals("example", "exampl"));
  CHECK(util::istarts_with("V=SPF1 -all", "v=spf1"));
}

namespace {

/// The normalization as first written (before the fast paths): drop one trailing dot, then lower-case A-Z byte by
/// byte. The reference the faster functions must agree with.
std::string
reference_normalize(std::string_view name)
{
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

/// Names that stress the edge cases: case, dots, the root, escapes (kept as written: normalization does not
/// interpret them), bytes outside ASCII, NUL, the characters next to A-Z in ASCII, and lengths around word sizes.
std::vector<std::string>
tricky_names()
{
  std::vector<std::string> names = {
    "",
    ".",
    "..",
    "a",
    "A",
    "A.",
    "example.ee",
    "example.ee.",
    "Example.EE",
    "EXAMPLE.EE.",
    "example.ee..",
    ".example.ee",
    "_spf.Provider.example",
    "_DMARC.example.ee",
    "selector1._domainkey.Example.ee",
    "a\\.b.example",
    "A\\.B.EXAMPLE.",
    "example\\.",
    "a\\046b.Example",
    "\\065BC.example",
    "@[\\]^_`{|}~.example",
    "@AZ[`az{",
    "xn--mnchen-3ya.DE",
    "m\\195\\188nchen.DE.",
    "abcdefgH",
    "abcdefghI",
    "abcdefghijklmnoP",
    "abcdefghijklmnopQ",
    "Abcdefghijklmnop",
    std::string(63, 'a') + "." + std::string(63, 'B') + ".",
    std::string(300, 'z') + "Z",
    std::string("nul\0inside.Example", 18),
    std::string("nul\0inside.example.", 19),
    "\xff\x80\xc3\x9c.EXAMPLE",
    "\xc3\x9c\xc3\xa9.example.",
    "\xc1\xda.example", // 'A' and 'Z' with the high bit set: not letters
  };
  return names;
}

} // namespace

TEST_CASE("util::normalize_name fast paths agree with the reference")
{
  for (const auto& name : tricky_names()) {
    CAPTURE(util::escape_for_display(name));
    const std::string expected = reference_normalize(name);
    CHECK(util::normalize_name(name) == expected);

    std::string storage;
    const std::string_view view = util::normalize_name(name, storage);
    CHECK(view == expected);
    CHECK(util::is_normalized_name(name) == (expected == name));
    if (util::is_normalized_name(name)) {
      // Borrowed: no copy made.
      CHECK(view.data() == name.data());
      CHECK(storage.empty());
    } else {
      CHECK(view.data() == storage.data());
    }

    std::string lowered(name);
    for (char& c : lowered) {
      if (c >= 'A' && c <= 'Z') {
        c = static_cast<char>(c - 'A' + 'a');
      }
    }
    CHECK(util::to_lower(name) == lowered);
  }
}

TEST_CASE("util::to_lower and util::is_normalized_name: every byte value at every position of a word and its tail")
{
  for (size_t length = 1; length <= 19; ++length) {
    for (size_t position = 0; position < length; ++position) {
      for (int value = 0; value < 256; ++value) {
        std::string text(length, 'a');
        text[position] = static_cast<char>(value);
        const bool upper = value >= 'A' && value <= 'Z';
        std::string expected = text;
        if (upper) {
          expected[position] = static_cast<char>(value - 'A' + 'a');
        }
        CAPTURE(length);
        CAPTURE(position);
        CAPTURE(value);
        REQUIRE(util::to_lower(text) == expected);
        REQUIRE(util::is_normalized_name(text) == (!upper && (value != '.' || position + 1 < length)));
        REQUIRE(util::normalize_name(text) == reference_normalize(text));
      }
    }
  }
}

TEST_CASE("util::is_normalized_name")
{
  CHECK(util::is_normalized_name(""));
  CHECK(util::is_normalized_name("example.ee"));
  CHECK(util::is_normalized_name("a\\.b"));        // escapes are not interpreted
  CHECK(util::is_normalized_name("\xc3\x9c.ee"));  // bytes over 127 are not letters here
  CHECK_FALSE(util::is_normalized_name("."));      // the root's normal form is ""
  CHECK_FALSE(util::is_normalized_name("example.ee."));
  CHECK_FALSE(util::is_normalized_name("example.eE"));
  CHECK_FALSE(util::is_normalized_name("Zexample.ee"));

  std::string storage = "left over";
  CHECK(util::normalize_name(".", storage).empty());
  CHECK(util::normalize_name("Example.EE.", storage) == "example.ee");
  CHECK(storage == "example.ee");
}

TEST_CASE("util::StringHash")
{
  std::unordered_map<std::string, int, util::StringHash, std::equal_to<>> map;
  map.emplace("example.ee", 1);
  const std::string_view view = "example.ee";
  CHECK(util::StringHash{}(view) == util::StringHash{}(std::string("example.ee")));
  CHECK(util::StringHash{}("example.ee") == util::StringHash{}(view));
  REQUIRE(map.find(view) != map.end());
  CHECK(map.find(view)->second == 1);
  CHECK(map.find("example.ee") != map.end());
  CHECK(map.find(std::string_view("example.e")) == map.end());
}

TEST_CASE("util::split and util::trim")
{
  const auto pieces = util::split("a..b", '.');
  REQUIRE(pieces.size() == 3);
  CHECK(pieces[0] == "a");
  CHECK(pieces[1] == "");
  CHECK(pieces[2] == "b");
  CHECK(util::trim("  x y \t") == "x y");
  CHECK(util::trim("   ") == "");
}

TEST_CASE("util::TextBuffer")
{
  SUBCASE("appends, and a cleared buffer holds only what comes after")
  {
    util::TextBuffer buffer;
    CHECK(buffer.empty());
    buffer.append("");
    CHECK(buffer.view() == "");
    buffer.append(std::string(6000, 'a'));
    buffer.append("b");
    CHECK(buffer.size() == 6001);
    CHECK(buffer.view() == std::string(6000, 'a') + "b");
    const size_t capacity = buffer.capacity();
    buffer.clear();
    CHECK(buffer.view() == "");
    buffer.append("short");
    CHECK(buffer.view() == "short");
    CHECK(buffer.capacity() == capacity); // the room is kept
  }

  SUBCASE("a writer writes into the room and ends the text where it stopped")
  {
    util::TextBuffer buffer(std::string("head:"));
    buffer.make_room(10);
    REQUIRE(buffer.room_end() - buffer.end() >= 10);
    char* at = buffer.end();
    for (char c : std::string_view("0123456789")) {
      *at++ = c;
    }
    CHECK(buffer.view() == "head:"); // not text until ended there
    buffer.end_at(at);
    CHECK(buffer.view() == "head:0123456789");
    // More room than there is: the text moves along, written bytes and all.
    buffer.make_room(100000);
    CHECK(buffer.room_end() - buffer.end() >= 100000);
    CHECK(buffer.view() == "head:0123456789");
  }

  SUBCASE("append_with gives the writer the text alone, never the room after it")
  {
    util::TextBuffer buffer;
    buffer.append(std::string(3000, 'x'));
    buffer.clear();
    buffer.append("a");
    buffer.append_with([](std::string& text) {
      CHECK(text == "a");
      text += "bc";
    });
    CHECK(buffer.view() == "abc");
    buffer.append("d");
    CHECK(std::move(buffer).take() == "abcd");
  }
}

namespace {

util::Task<int>
answer_after(int value)
{
  co_return value + 1;
}

util::Task<int>
sum_of_two()
{
  const int a = co_await answer_after(1);
  const int b = co_await answer_after(2);
  co_return a + b;
}

util::Task<int>
throws_inside()
{
  co_await answer_after(0);
  throw std::runtime_error("boom");
}

} // namespace

TEST_CASE("util::Task and util::spawn")
{
  SUBCASE("nested tasks complete synchronously")
  {
    int seen = 0;
    util::spawn<int>(sum_of_two(), [&](int value) { seen = value; }, [](std::exception_ptr) { FAIL("error"); });
    CHECK(seen == 5);
  }
  SUBCASE("an exception reaches the error handler")
  {
    std::string message;
    util::spawn<int>(
      throws_inside(), [](int) { FAIL("no value expected"); },
      [&](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          message = e.what();
        }
      });
    CHECK(message == "boom");
  }
  SUBCASE("a long loop of synchronous awaits does not grow the stack")
  {
    struct Loop
    {
      static util::Task<int>
      run(int n)
      {
        int total = 0;
        for (int i = 0; i < n; ++i) {
          total += co_await answer_after(0);
        }
        co_return total;
      }
    };
    int seen = 0;
    util::spawn<int>(Loop::run(200000), [&](int value) { seen = value; }, [](std::exception_ptr) { FAIL("error"); });
    CHECK(seen == 200000);
  }
}

TEST_CASE("sendcheck::worst")
{
  Findings findings;
  CHECK(worst(findings) == Severity::info);
  findings.push_back({"a.b", Severity::warning, "m", "f", ""});
  findings.push_back({"a.c", Severity::info, "m", "f", ""});
  CHECK(worst(findings) == Severity::warning);
}
