#include <sendcheck/util/task.hpp>

#include <doctest/doctest.h>

#include <coroutine>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// util::start: a task started before the point where its value is awaited runs alongside the coroutine that
// started it; awaiting it yields the value whether it finished before, during or after the await.

using namespace sendcheck;

namespace {

/// A stand-in for the resolver's event loop: coroutines that await `Gate::wait` resume when `open` is called.
struct Gate
{
  std::vector<std::coroutine_handle<>> waiting;

  auto
  wait()
  {
    struct Awaiter
    {
      Gate& gate;
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<> handle) { gate.waiting.push_back(handle); }
      void await_resume() noexcept {}
    };
    return Awaiter{*this};
  }

  /// Resumes every coroutine waiting now (not those that start waiting meanwhile).
  void
  open()
  {
    auto now = std::move(waiting);
    waiting.clear();
    for (auto handle : now) {
      handle.resume();
    }
  }
};

util::Task<int>
ready_value(int value)
{
  co_return value;
}

util::Task<int>
gated_value(Gate& gate, std::vector<std::string>& log, std::string name, int value)
{
  log.push_back(name + " started");
  co_await gate.wait();
  log.push_back(name + " done");
  co_return value;
}

util::Task<int>
gated_failure(Gate& gate)
{
  co_await gate.wait();
  throw std::runtime_error("lookup exploded");
}

/// Starts `a` and `b`, then awaits them in order: b's work overlaps with the wait for a.
util::Task<int>
overlap(Gate& gate, std::vector<std::string>& log)
{
  auto a = util::start(gated_value(gate, log, "a", 1));
  auto b = util::start(gated_value(gate, log, "b", 2));
  log.push_back("both started");
  const int first = co_await std::move(a);
  log.push_back("a awaited");
  const int second = co_await std::move(b);
  co_return first * 10 + second;
}

util::Task<int>
await_ready_value()
{
  auto started = util::start(ready_value(7));
  co_return co_await std::move(started);
}

util::Task<std::string>
await_failure(Gate& gate)
{
  auto started = util::start(gated_failure(gate));
  try {
    co_await std::move(started);
  } catch (const std::runtime_error& error) {
    co_return std::string(error.what());
  }
  co_return "no exception";
}

util::Task<int>
abandon(Gate& gate, std::vector<std::string>& log)
{
  auto started = util::start(gated_value(gate, log, "abandoned", 3));
  co_return 0;
}

} // namespace

TEST_CASE("util::start")
{
  Gate gate;
  std::vector<std::string> log;
  std::optional<int> seen;
  auto keep = [&](int value) { seen = value; };
  auto fail = [](std::exception_ptr) { FAIL("unexpected exception"); };

  SUBCASE("both tasks run before the first await resumes; values come back in order")
  {
    util::spawn<int>(overlap(gate, log), keep, fail);
    CHECK(log == std::vector<std::string>{"a started", "b started", "both started"});
    CHECK_FALSE(seen);
    gate.open(); // a and b both finish in this one round
    CHECK(log == std::vector<std::string>{"a started", "b started", "both started", "a done", "a awaited", "b done"});
    REQUIRE(seen);
    CHECK(*seen == 12);
  }
  SUBCASE("a task that finished synchronously is awaited without suspending")
  {
    util::spawn<int>(await_ready_value(), keep, fail);
    REQUIRE(seen);
    CHECK(*seen == 7);
  }
  SUBCASE("an exception reaches the awaiter")
  {
    std::optional<std::string> message;
    util::spawn<std::string>(
      await_failure(gate), [&](std::string value) { message = value; }, [](std::exception_ptr) { FAIL("escaped"); });
    CHECK_FALSE(message);
    gate.open();
    REQUIRE(message);
    CHECK(*message == "lookup exploded");
  }
  SUBCASE("a started task nobody awaits runs to its end after its starter is gone")
  {
    util::spawn<int>(abandon(gate, log), keep, fail);
    REQUIRE(seen);
    CHECK(log == std::vector<std::string>{"abandoned started"});
    gate.open();
    CHECK(log == std::vector<std::string>{"abandoned started", "abandoned done"});
  }
}

namespace {

util::Task<int>
depth_sum(int depth)
{
  if (depth == 0) {
    co_return 0;
  }
  // A frame with a buffer of a size that depends on nothing but the coroutine: reused across calls.
  char scratch[300] = {};
  scratch[depth % sizeof scratch] = static_cast<char>(depth);
  co_return scratch[depth % sizeof scratch] + co_await depth_sum(depth - 1);
}

} // namespace

TEST_CASE("util::Task frames are recycled without mixing up values")
{
  // Many calls of different sizes and depths, interleaved: every value must be its own.
  for (int round = 0; round < 50; ++round) {
    std::optional<int> seen;
    util::spawn<int>(depth_sum(round % 40), [&](int value) { seen = value; }, [](std::exception_ptr) { FAIL(""); });
    REQUIRE(seen);
    const int n = round % 40;
    CHECK(*seen == n * (n + 1) / 2);
  }
}

namespace {

/// Counts how often values of this type are copied and moved.
struct Counted
{
  static inline int copies = 0;
  static inline int moves = 0;

  int value = 0;

  explicit Counted(int v) : value(v) {}
  Counted(const Counted& other) : value(other.value) { ++copies; }
  Counted(Counted&& other) noexcept : value(other.value) { ++moves; }
  Counted& operator=(const Counted&) = delete;
  Counted& operator=(Counted&&) = delete;
  ~Counted() = default;
};

util::Task<Counted>
counted_value(int value)
{
  Counted local(value);
  co_return local; // moved into the task's promise: the one move
}

util::Task<Counted>
gated_counted(Gate& gate, int value)
{
  co_await gate.wait();
  co_return Counted(value);
}

util::Task<int>
read_in_place(Gate& gate, int value)
{
  auto task = gated_counted(gate, value);
  const Counted& kept = co_await task.in_place();
  co_return kept.value;
}

} // namespace

TEST_CASE("util::spawn hands the value over where the task keeps it")
{
  // The one move is the co_return's, into the task's promise; none on the way to the handler.
  Counted::copies = 0;
  Counted::moves = 0;
  std::optional<int> seen;
  auto keep = [&](Counted&& counted) { seen = counted.value; };
  auto fail = [](std::exception_ptr) { FAIL("unexpected exception"); };

  SUBCASE("finished at once")
  {
    util::spawn<Counted>(counted_value(4), keep, fail);
    REQUIRE(seen);
    CHECK(*seen == 4);
    CHECK(Counted::moves == 1);
  }
  SUBCASE("finished later")
  {
    Gate gate;
    util::spawn<Counted>(gated_counted(gate, 5), keep, fail);
    CHECK_FALSE(seen);
    gate.open();
    REQUIRE(seen);
    CHECK(*seen == 5);
    CHECK(Counted::moves == 1);
  }
  SUBCASE("taken by a handler that keeps it")
  {
    std::optional<Counted> taken;
    util::spawn<Counted>(counted_value(6), [&](Counted&& counted) { taken.emplace(std::move(counted)); }, fail);
    REQUIRE(taken);
    CHECK(taken->value == 6);
    CHECK(Counted::moves == 2); // and the handler's own
  }
  CHECK(Counted::copies == 0);
}

TEST_CASE("util::spawn keeps move-only handlers without copying them")
{
  auto owned = std::make_unique<int>(7);
  std::optional<int> seen;
  util::spawn<int>(
    ready_value(8), [owned = std::move(owned), &seen](int&& value) { seen = value + *owned; },
    [](std::exception_ptr) { FAIL("unexpected exception"); });
  REQUIRE(seen);
  CHECK(*seen == 15);
}

TEST_CASE("util::Task::in_place yields the value where the task keeps it")
{
  Counted::copies = 0;
  Counted::moves = 0;
  Gate gate;
  std::optional<int> seen;
  util::spawn<int>(read_in_place(gate, 9), [&](int value) { seen = value; }, [](std::exception_ptr) { FAIL(""); });
  gate.open();
  REQUIRE(seen);
  CHECK(*seen == 9);
  CHECK(Counted::copies == 0);
  CHECK(Counted::moves == 1); // the co_return's, into the promise, where it is read
}

namespace {

/// Counts copies and moves, and can be default-constructed (result_in_place builds it so).
struct Built
{
  static inline int copies = 0;
  static inline int moves = 0;

  std::vector<int> parts;

  Built() = default;
  Built(const Built& other) : parts(other.parts) { ++copies; }
  Built(Built&& other) noexcept : parts(std::move(other.parts)) { ++moves; }
  Built& operator=(const Built&) = delete;
  Built& operator=(Built&&) = delete;
  ~Built() = default;
};

/// Builds its value in place, around an await of `gate` when there is one; `where` gets the value's address.
util::Task<Built>
built_in_place(Gate* gate, const Built*& where, bool fail)
{
  Built& built = co_await util::result_in_place<Built>();
  where = &built;
  built.parts.push_back(1);
  if (gate) {
    co_await gate->wait();
  }
  built.parts.push_back(2);
  if (fail) {
    throw std::runtime_error("failed after building");
  }
  co_return built;
}

util::Task<int>
sum_of_built(Gate* gate, const Built*& where)
{
  const Built built = co_await built_in_place(gate, where, false);
  co_return built.parts[0] + built.parts[1];
}

} // namespace

TEST_CASE("util::result_in_place")
{
  Built::copies = 0;
  Built::moves = 0;
  const Built* where = nullptr;
  const Built* handed = nullptr;
  std::optional<std::vector<int>> seen;
  std::string error;
  auto keep = [&](Built&& built) {
    handed = &built;
    seen = built.parts;
  };
  auto fail = [&](std::exception_ptr exception) {
    try {
      std::rethrow_exception(exception);
    } catch (const std::runtime_error& caught) {
      error = caught.what();
    }
  };

  SUBCASE("the handler gets the value where it was built, never moved, whether it finished at once or later")
  {
    for (const bool later : {false, true}) {
      Gate gate;
      seen.reset();
      util::spawn<Built>(built_in_place(later ? &gate : nullptr, where, false), keep, fail);
      CHECK(seen.has_value() == !later);
      gate.open();
      REQUIRE(seen);
      CHECK(*seen == std::vector<int>{1, 2});
      CHECK(handed == where);
    }
    CHECK(Built::moves == 0);
  }
  SUBCASE("awaited: moved out once, to the awaiter")
  {
    Gate gate;
    std::optional<int> sum;
    util::spawn<int>(sum_of_built(&gate, where), [&](int&& value) { sum = value; }, fail);
    gate.open();
    REQUIRE(sum);
    CHECK(*sum == 3);
    CHECK(Built::moves == 1);
  }
  SUBCASE("an exception after the value was built reaches the error handler")
  {
    util::spawn<Built>(built_in_place(nullptr, where, true), keep, fail);
    CHECK_FALSE(seen);
    CHECK(error == "failed after building");
  }
  CHECK(Built::copies == 0);
}
