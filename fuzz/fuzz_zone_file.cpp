// Fuzzes the zone-file loader (dns::load_zone_text on libzscanner) and asks the loaded zone about every name.

#include "fuzz_common.hpp"

#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/dns/zone_resolver.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

using namespace sendcheck;

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  if (size > 65536) {
    return 0;
  }
  dns::ZoneResolver zone("fuzz zone");
  const auto loaded = dns::load_zone_text(zone, fuzz::as_text(data, size), "fuzz.zone", "example.com.");
  if (!loaded) {
    const std::string line = dns::to_string(loaded.error());
    if (line.empty() || !zone.names().empty()) {
      fuzz::fail("a failed load left records behind or has no message", line);
    }
    return 0;
  }
  constexpr std::array types = {dns::RRType::a,  dns::RRType::aaaa, dns::RRType::mx, dns::RRType::txt,
                                dns::RRType::ptr};
  size_t asked = 0;
  for (const std::string& name : zone.names()) {
    for (const dns::RRType type : types) {
      const dns::AnswerPtr answer = zone.answer(name, type);
      if (!answer) {
        fuzz::fail("no answer for a loaded name", name);
      }
    }
    if (++asked == 64) {
      break;
    }
  }
  return 0;
}
