// Fuzzes the DMARC record parser (dmarc::looks_like_dmarc, dmarc::parse_dmarc_record) and the policy accessors.

#include "fuzz_common.hpp"

#include <sendcheck/dmarc/record.hpp>

#include <cstddef>
#include <cstdint>

using namespace sendcheck;

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text = fuzz::as_text(data, size);
  const bool looks = dmarc::looks_like_dmarc(text);
  const auto record = dmarc::parse_dmarc_record(text);
  if (!record) {
    if (record.error().position > text.size()) {
      fuzz::fail("error position past the end", text, record.error().message);
    }
    return 0;
  }
  if (!looks) {
    fuzz::fail("a record parses but does not look like DMARC", text);
  }
  (void)record->effective_policy();
  (void)record->subdomain_effective_policy(dmarc::DmarcRecord::Existence::exists);
  (void)record->subdomain_effective_policy(dmarc::DmarcRecord::Existence::nonexistent);
  (void)record->find("p");
  for (const auto& issue : record->issues) {
    if (issue.position > text.size()) {
      fuzz::fail("issue position past the end", text, issue.message);
    }
  }
  return 0;
}
