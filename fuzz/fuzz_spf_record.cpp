// Fuzzes spf::parse_record and the canonical printer: whatever parses prints to a canonical text that parses
// again and prints to the same text.

#include "fuzz_common.hpp"

#include <sendcheck/spf/record.hpp>

#include <cstddef>
#include <cstdint>

using namespace sendcheck;

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  const std::string_view text = fuzz::as_text(data, size);
  (void)spf::is_spf_record(text);
  const auto record = spf::parse_record(text);
  if (!record) {
    if (record.error().offset > text.size()) {
      fuzz::fail("parse error offset past the end of the record", text);
    }
    return 0;
  }
  (void)record->dns_term_count();
  (void)record->redirect();
  (void)record->exp();
  (void)record->all();
  const std::string canonical = spf::to_string(*record);
  const auto again = spf::parse_record(canonical);
  if (!again) {
    fuzz::fail("canonical text does not parse", canonical, again.error().message);
  }
  const std::string canonical_again = spf::to_string(*again);
  if (canonical_again != canonical) {
    fuzz::fail("canonical text is not stable", canonical, canonical_again);
  }
  if (again->terms.size() != record->terms.size()) {
    fuzz::fail("canonical text has a different number of terms", text, canonical);
  }
  return 0;
}
