#pragma once

#include <sendcheck/dns/resolver.hpp>

#include <string_view>

namespace sendcheck::spf::detail {

/// `co_await ask(resolver, name, type)`: the answer of `dns::lookup`, never null (a resolver that hands back no
/// answer gives an `error` answer instead), so the SPF code can always dereference it. An awaitable, not a
/// coroutine: `name` is viewed, so it must stay valid until the co_await completes (a variable, or a temporary in the
/// co_await expression).
inline dns::Lookup
ask(dns::Resolver& resolver, std::string_view name, dns::RRType type)
{
  return dns::lookup(resolver, name, type);
}

} // namespace sendcheck::spf::detail
