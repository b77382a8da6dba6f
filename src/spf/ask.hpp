#pragma once

#include <sendcheck/dns/resolver.hpp>
#include <sendcheck/util/task.hpp>

#include <string>

namespace sendcheck::spf::detail {

/// `co_await dns::lookup(resolver, name, type)`, but never null: a resolver that hands back no answer gives an
/// `error` answer instead, so the SPF code can always dereference it.
inline util::Task<dns::AnswerPtr>
ask(dns::Resolver& resolver, std::string name, dns::RRType type)
{
  auto answer = co_await dns::lookup(resolver, name, type);
  if (!answer) {
    answer = dns::make_status_answer(name, type, dns::Status::error, {}, "the resolver gave no answer");
  }
  co_return answer;
}

} // namespace sendcheck::spf::detail
