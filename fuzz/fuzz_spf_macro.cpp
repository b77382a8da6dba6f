// Fuzzes spf::parse_macro_string and spf::expand. Input: a selector byte (use, IP family), then
// `macro-string \n local-part \n sender domain \n current domain \n helo \n validated name`.
// Expanded domain-specs must be at most 253 octets (or one over-long label that is not a valid domain).

#include "fuzz_common.hpp"

#include <sendcheck/dns/ip_address.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/macro.hpp>

#include <cstddef>
#include <cstdint>

using namespace sendcheck;

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  if (size < 1) {
    return 0;
  }
  const uint8_t selector = data[0];
  const auto fields = fuzz::split_input(fuzz::as_text(data + 1, size - 1), '\n', 6);
  const spf::MacroUse use = (selector & 1) != 0 ? spf::MacroUse::explanation : spf::MacroUse::domain_spec;
  const auto macro = spf::parse_macro_string(fields[0], use);
  (void)spf::truncate_domain(fields[0]);
  if (!macro) {
    if (macro.error().offset > fields[0].size()) {
      fuzz::fail("macro error offset past the end", fields[0], macro.error().message);
    }
    return 0;
  }
  spf::MacroContext context;
  context.sender_local = fields.size() > 1 ? fields[1] : "postmaster";
  context.sender_domain = fields.size() > 2 ? fields[2] : "example.com";
  context.domain = fields.size() > 3 ? fields[3] : "example.com";
  const auto ip = dns::IpAddress::parse((selector & 2) != 0 ? "2001:db8::cb01" : "192.0.2.3");
  if (!ip) {
    fuzz::fail("fixed address does not parse", "");
  }
  context.ip = *ip;
  context.helo = fields.size() > 4 ? fields[4] : "mail.example.com";
  if (fields.size() > 5) {
    context.validated_name = fields[5];
  }
  context.receiver = "receiver.example.net";
  context.timestamp = 1'700'000'000;
  (void)macro->has_macros();
  (void)macro->uses_ptr();
  const std::string expanded = spf::expand(*macro, context, use);
  // Over 253 octets only when one label is longer than that (it cannot be cut at a label boundary, so it stays
  // whole; check_host then finds no valid domain). Found by this target: a URL-escaped %{H} of a long helo.
  if (use == spf::MacroUse::domain_spec && expanded.size() > 253
      && (expanded.find('.') != std::string::npos || spf::is_valid_domain(expanded))) {
    fuzz::fail("expanded domain-spec longer than 253 octets", fields[0], expanded);
  }
  return 0;
}
