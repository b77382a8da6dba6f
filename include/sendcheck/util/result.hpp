#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace sendcheck::util {

/// Wraps an error value so that `Result<T, E>` can be built from it unambiguously, even when T and E are the same type.
template<typename E> struct Unexpected
{
  E error;
};

/// Makes an `Unexpected<E>` from `error`, to return from a function that returns `Result<T, E>`.
template<typename E>
Unexpected<std::decay_t<E>>
unexpected(E&& error)
{
  return Unexpected<std::decay_t<E>>{std::forward<E>(error)};
}

/// The value of an operation that can fail in an expected way: either a `T` or an `E` (a small std::expected, which
/// needs C++23; Debian 12 has no tl-expected package).
template<typename T, typename E> class Result
{
public:
  /// A successful result holding `value`.
  Result(T value) : m_data(std::in_place_index<0>, std::move(value))
  {
  }

  /// A failed result holding `error.error`.
  template<typename U>
  Result(Unexpected<U> error) : m_data(std::in_place_index<1>, E(std::move(error.error)))
  {
  }

  /// Whether the result holds a value.
  bool has_value() const { return m_data.index() == 0; }
  explicit operator bool() const { return has_value(); }

  /// The value; must only be called when `has_value()`.
  T& value() & { assert(has_value()); return std::get<0>(m_data); }
  const T& value() const& { assert(has_value()); return std::get<0>(m_data); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(m_data)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; must only be called when `!has_value()`.
  E& error() & { assert(!has_value()); return std::get<1>(m_data); }
  const E& error() const& { assert(!has_value()); return std::get<1>(m_data); }

private:
  std::variant<T, E> m_data;
};

} // namespace sendcheck::util
