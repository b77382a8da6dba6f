#include <sendcheck/util/finding.hpp>
#include <sendcheck/util/result.hpp>
#include <sendcheck/util/strings.hpp>
#include <sendcheck/util/task.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

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
