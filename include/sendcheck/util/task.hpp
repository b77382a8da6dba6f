#pragma once

#include <cassert>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <utility>

// C++20 coroutines for checks that wait on DNS. A check is written as straight-line code that `co_await`s its
// lookups; the resolver's event loop resumes it when the answer arrives, so many checks (and many lookups of one
// check) are in flight at once on one thread, without callbacks spread through the SPF and DKIM code.
//
// Rules for coroutine code in this project:
// - A coroutine takes its parameters by value, or by reference to objects that outlive the task (a Resolver, a
//   context owned by the caller who awaits). Never write a coroutine lambda with captures.
// - Expected failures are returned as values; an exception escaping a task is a bug or fatal (bad_alloc) and is
//   passed to `spawn`'s error handler.

// Whether AddressSanitizer instruments this build (GCC defines __SANITIZE_ADDRESS__, clang has the feature test).
#if defined(__SANITIZE_ADDRESS__)
#define SENDCHECK_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SENDCHECK_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef SENDCHECK_ADDRESS_SANITIZER
#define SENDCHECK_ADDRESS_SANITIZER 0
#endif

namespace sendcheck::util {

template<typename T> class Task;

namespace detail {

/// Recycles coroutine frames. Every call of a coroutine allocates its frame, and most frames here (the SPF
/// evaluator's, a whole domain check's) are larger than glibc's per-thread cache serves, so each call went through
/// malloc's slow path and free's consolidation: about a third of all instructions of a run. Freed frames are kept
/// per size class (64-byte steps up to 16 KiB, at most 256 per class; a whole domain check's frame is about 9 KiB)
/// for the next call of the same size; one thread (the resolver's event loop) runs all tasks. Under AddressSanitizer
/// frames come from plain new/delete, so that a use of a freed frame is still caught.
class FramePool
{
public:
  /// A block of at least `size` bytes.
  static void*
  allocate(std::size_t size)
  {
    const std::size_t size_class = class_of(size);
    if (!k_pooling || size_class >= k_classes || t_retired) {
      return ::operator new(size);
    }
    auto& pool = instance();
    if (Block* block = pool.m_free[size_class]) {
      pool.m_free[size_class] = block->next;
      --pool.m_count[size_class];
      return block;
    }
    return ::operator new(size_class * k_step);
  }

  /// Gives back a block from `allocate(size)`.
  static void
  release(void* frame, std::size_t size) noexcept
  {
    const std::size_t size_class = class_of(size);
    if (!k_pooling || size_class >= k_classes || t_retired) {
      ::operator delete(frame);
      return;
    }
    auto& pool = instance();
    if (pool.m_count[size_class] >= k_max_per_class) {
      ::operator delete(frame);
      return;
    }
    pool.m_free[size_class] = new (frame) Block{pool.m_free[size_class]};
    ++pool.m_count[size_class];
  }

  FramePool() = default;
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;
  ~FramePool()
  {
    t_retired = true; // Frames freed after this (static destructors) go straight to the heap.
    for (Block* head : m_free) {
      while (head) {
        ::operator delete(std::exchange(head, head->next));
      }
    }
  }

private:
  struct Block
  {
    Block* next;
  };

  static constexpr bool k_pooling = !SENDCHECK_ADDRESS_SANITIZER;
  static constexpr std::size_t k_step = 64;
  static constexpr std::size_t k_classes = 16384 / k_step + 1;
  static constexpr uint16_t k_max_per_class = 256;

  static std::size_t class_of(std::size_t size) { return (size + k_step - 1) / k_step; }

  static FramePool&
  instance()
  {
    thread_local FramePool pool;
    return pool;
  }

  static inline thread_local bool t_retired = false;

  Block* m_free[k_classes] = {};
  uint16_t m_count[k_classes] = {};
};

/// Where a task stands relative to the coroutine that awaits it.
enum class TaskState : uint8_t {
  not_started,     ///< Created, not yet awaited.
  running_inline,  ///< Started by its awaiter's await_suspend, which has not returned yet.
  finished_inline, ///< Completed before its awaiter's await_suspend returned: the awaiter continues without suspending.
  suspended,       ///< Waiting for something (DNS); its completion resumes the awaiter.
};

struct FinalAwaiter
{
  bool await_ready() noexcept { return false; }

  template<typename Promise>
  std::coroutine_handle<>
  await_suspend(std::coroutine_handle<Promise> handle) noexcept
  {
    auto& promise = handle.promise();
    if (promise.m_state == TaskState::running_inline) {
      // Completed synchronously: return to the awaiter's await_suspend, which then does not suspend. Resuming the
      // awaiter from here instead would nest one stack frame per synchronous await (no tail call at -O0).
      promise.m_state = TaskState::finished_inline;
      return std::noop_coroutine();
    }
    const auto continuation = promise.m_continuation;
    return continuation ? continuation : std::noop_coroutine();
  }

  void await_resume() noexcept {}
};

struct PromiseBase
{
  std::coroutine_handle<> m_continuation;
  std::exception_ptr m_exception;
  TaskState m_state = TaskState::not_started;

  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { m_exception = std::current_exception(); }

  static void* operator new(std::size_t size) { return FramePool::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { FramePool::release(frame, size); }
};

template<typename T> struct Promise : PromiseBase
{
  std::optional<T> m_value;

  Task<T> get_return_object() noexcept;
  // Two overloads rather than one by value: a value that is moved in is then moved once, not twice (a report or
  // an evaluation is dozens of strings). A value built in place (`result_in_place`) is returned as an lvalue (its
  // reference, `co_return value;`) and stays as it is; the rvalue path, taken by every `co_return` of a local,
  // is left without that test.
  void
  return_value(T&& value)
  {
    assert(!is_kept(value) && "co_return the value from result_in_place as it is, not moved");
    m_value.emplace(std::move(value));
  }
  void
  return_value(const T& value)
  {
    if (!is_kept(value)) {
      m_value.emplace(value);
    }
  }

  /// Whether `value` is the one this promise keeps.
  bool is_kept(const T& value) const noexcept { return m_value && &value == &*m_value; }

  T
  take()
  {
    return std::move(kept());
  }

  /// The value where the promise keeps it (or the task's exception rethrown).
  T&
  kept()
  {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
    return *m_value;
  }
};

template<> struct Promise<void> : PromiseBase
{
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}

  void
  take()
  {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
  }
};

/// The awaiter of `result_in_place`.
template<typename T> struct ResultInPlace
{
  T* value = nullptr;

  bool await_ready() noexcept { return false; }

  bool
  await_suspend(std::coroutine_handle<Promise<T>> handle)
  {
    value = &handle.promise().m_value.emplace();
    return false; // The coroutine goes on at once.
  }

  T& await_resume() noexcept { return *value; }
};

} // namespace detail

/// Awaited in a coroutine that returns a Task<T>: the value the task will yield, default-constructed where the task
/// keeps it, for the coroutine to build there: `DomainReport& report = co_await util::result_in_place<DomainReport>();
/// ...; co_return report;` (the `co_return` of the value where it already is leaves it there). A value built in a
/// local is moved into the task at `co_return`, and the moved-from local destroyed: for a domain's report, dozens
/// of strings, vectors and optionals, about 2% of a run's instructions.
template<typename T>
detail::ResultInPlace<T>
result_in_place() noexcept
{
  return {};
}

/// A lazily started coroutine producing a `T`. It starts when awaited (`co_await std::move(task)`), or when given to
/// `spawn`; the awaiting coroutine resumes when it completes.
template<typename T = void> class [[nodiscard]] Task
{
public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Task(Handle handle) noexcept : m_handle(handle) {}
  Task(Task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
  Task& operator=(Task&& other) noexcept
  {
    if (this != &other) {
      destroy();
      m_handle = std::exchange(other.m_handle, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { destroy(); }

  /// Starts the task and suspends the caller until it completes; yields its value (or rethrows its exception).
  auto operator co_await() && noexcept { return Awaiter<Yield::value>{m_handle}; }

  /// As `co_await std::move(task)`, but yields a reference to the value where the task keeps it, valid while this
  /// Task lives: for an awaiter that only hands a large value on (`spawn`), which then is not moved out first.
  auto in_place() & noexcept { return Awaiter<Yield::reference>{m_handle}; }

private:
  /// What awaiting a task yields: its value moved out, or a reference to it.
  enum class Yield : uint8_t { value, reference };

  template<Yield yield> struct Awaiter
  {
    Handle handle;

    bool await_ready() noexcept { return false; }

    bool
    await_suspend(std::coroutine_handle<> caller) noexcept
    {
      auto& promise = handle.promise();
      promise.m_continuation = caller;
      promise.m_state = detail::TaskState::running_inline;
      handle.resume();
      if (promise.m_state == detail::TaskState::finished_inline) {
        return false; // Done already: the caller goes on, on this same stack frame.
      }
      promise.m_state = detail::TaskState::suspended;
      return true;
    }

    decltype(auto)
    await_resume()
    {
      if constexpr (yield == Yield::reference) {
        return handle.promise().kept();
      } else {
        return handle.promise().take();
      }
    }
  };

  void
  destroy() noexcept
  {
    if (m_handle) {
      m_handle.destroy();
      m_handle = {};
    }
  }

  Handle m_handle;
};

namespace detail {

template<typename T>
Task<T>
Promise<T>::get_return_object() noexcept
{
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void>
Promise<void>::get_return_object() noexcept
{
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

/// A coroutine that nobody awaits: it runs until its end and frees itself.
struct Detached
{
  struct promise_type
  {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }

    static void* operator new(std::size_t size) { return FramePool::allocate(size); }
    static void operator delete(void* frame, std::size_t size) noexcept { FramePool::release(frame, size); }
  };
};

/// What spawn calls with a task's value: the value is handed over as an rvalue to take.
template<typename F, typename T>
concept DoneHandler = std::invocable<F&, T&&>;

/// What spawn calls with a task's exception.
template<typename F>
concept ErrorHandler = std::invocable<F&, std::exception_ptr>;

template<typename T, DoneHandler<T> OnDone, ErrorHandler OnError>
Detached
run_detached(Task<T> task, OnDone on_done, OnError on_error)
{
  // The value stays in the task's frame, which `task` keeps until this coroutine ends, and goes to `on_done` from
  // there: not moved into a local first.
  T* value = nullptr;
  std::exception_ptr error;
  try {
    value = &co_await task.in_place();
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    on_error(error);
  } else {
    on_done(std::move(*value));
  }
}

} // namespace detail

/// Starts `task` now, without an awaiting coroutine. When it completes, `on_done` gets its value (as an rvalue to take,
/// straight from where the task keeps it, so that a large value such as a domain's report is not moved on the way);
/// when it throws, `on_error` gets the exception. Both are kept, with the task, in one coroutine frame (no
/// std::function, no allocation of their own). Whoever drives the resolver's event loop keeps the task going.
template<typename T, detail::DoneHandler<T> OnDone, detail::ErrorHandler OnError>
void
spawn(Task<T> task, OnDone on_done, OnError on_error)
{
  detail::run_detached<T>(std::move(task), std::move(on_done), std::move(on_error));
}

/// A task started now whose value is awaited later (`start`): it runs alongside the coroutine that started it, so
/// its DNS lookups overlap with whatever that coroutine awaits meanwhile. `co_await std::move(started)` yields the
/// value once it is there (at once when it already is) or rethrows the task's exception. Destroying a Started that
/// was never awaited lets the task run to its end and drops its value.
template<typename T> class [[nodiscard]] Started
{
public:
  /// Starts `task` (see `start`).
  explicit Started(Task<T> task) : m_state(std::make_shared<State>())
  {
    spawn<T>(
      std::move(task),
      [state = m_state](T&& value) {
        state->value.emplace(std::move(value));
        finish(*state);
      },
      [state = m_state](std::exception_ptr error) {
        state->error = error;
        finish(*state);
      });
  }
  Started(Started&&) noexcept = default;
  Started& operator=(Started&&) noexcept = default;
  Started(const Started&) = delete;
  Started& operator=(const Started&) = delete;
  ~Started()
  {
    if (m_state) {
      m_state->waiter = {}; // Nobody to resume any more.
    }
  }

  /// Suspends the caller until the task has completed; yields its value (or rethrows its exception).
  auto
  operator co_await() && noexcept
  {
    struct Awaiter
    {
      std::shared_ptr<typename Started::State> state;

      bool await_ready() noexcept { return state->done; }
      void await_suspend(std::coroutine_handle<> caller) noexcept { state->waiter = caller; }

      T
      await_resume()
      {
        if (state->error) {
          std::rethrow_exception(state->error);
        }
        return std::move(*state->value);
      }
    };
    return Awaiter{m_state};
  }

private:
  /// What the running task and the awaiter share.
  struct State
  {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> waiter; ///< The coroutine suspended in `co_await`, if any.
    bool done = false;
  };

  static void
  finish(State& state)
  {
    state.done = true;
    if (const auto waiter = std::exchange(state.waiter, {})) {
      waiter.resume();
    }
  }

  std::shared_ptr<State> m_state;
};

/// Starts `task` now and returns a handle to await its value later, e.g. to let a DKIM check's lookups run while the
/// SPF evaluation awaits its own: `auto dkim = util::start(check_dkim(...)); ...; auto report = co_await
/// std::move(dkim);`.
template<typename T>
Started<T>
start(Task<T> task)
{
  return Started<T>(std::move(task));
}

} // namespace sendcheck::util
