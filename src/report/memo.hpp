#pragma once

#include <cstddef>
#include <vector>

// The report remembers, per thread, the pieces of text it makes for every domain from a handful of values (address
// lists, the sender findings' and the verdict's sentences): one sender's few addresses and outcomes come back domain
// after domain. Each such memo is a short list searched in order; this is the one way it is searched and filled.

namespace sendcheck::report::detail {

/// The entry of `memo` that `matches` accepts, or else the one `make()` returns, added to `memo` (emptied first when
/// it holds `capacity` entries: the values come back, so the memo fills again at once). The reference is valid until
/// the next call with the same memo.
template<typename Entry, typename Matches, typename Make>
const Entry&
remembered(std::vector<Entry>& memo, size_t capacity, Matches matches, Make make)
{
  for (const auto& entry : memo) {
    if (matches(entry)) {
      return entry;
    }
  }
  if (memo.size() >= capacity) {
    memo.clear();
  }
  memo.push_back(make());
  return memo.back();
}

} // namespace sendcheck::report::detail
