// Lookahead prefetching must never change SPF results or the RFC 7208 accounting: every name with an SPF record in
// the demo zone and the integration-test zones is evaluated for every Directo address with prefetching off
// (answers straight from the zone) and on (answers arriving asynchronously, prefetched ones served at once).

#include "../support/prefetch_recorder.hpp"

#include <sendcheck/dns/zone_file.hpp>
#include <sendcheck/profile.hpp>
#include <sendcheck/spf/evaluator.hpp>
#include <sendcheck/spf/record.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace sendcheck;

TEST_CASE("spf::check_host: prefetching changes nothing on the demo and integration zones")
{
  const std::vector<std::string> files = {
    SENDCHECK_SOURCE_DIR "/examples/demo.zone",
    SENDCHECK_SOURCE_DIR "/tests/zones/knot-test.zone",
  };
  size_t evaluations = 0;
  size_t hits = 0;
  for (const auto& file : files) {
    CAPTURE(file);
    dns::ZoneResolver zone(file);
    REQUIRE(dns::load_zone_file(zone, file));
    for (const auto& name : zone.names()) {
      const auto txt = zone.answer(name, dns::RRType::txt);
      if (spf::select_record(*txt).status == spf::SelectionStatus::none) {
        continue;
      }
      for (const auto& ip : directo_profile().all_ips(true)) {
        CAPTURE(name);
        CAPTURE(ip.to_string());
        spf::Options options;
        options.prefetch = spf::Prefetch::off;
        const auto off = dns::run_sync(zone, spf::check_host(zone, ip, name, "postmaster@" + name, options));

        test::PrefetchRecorder recorder(zone);
        options.prefetch = spf::Prefetch::on;
        const auto on = dns::run_sync(recorder, spf::check_host(recorder, ip, name, "postmaster@" + name, options));
        hits += recorder.hits();
        ++evaluations;

        CHECK(on.result == off.result);
        CHECK(on.dns_terms == off.dns_terms);
        CHECK(on.void_lookups == off.void_lookups);
        CHECK(on.error_code == off.error_code);
        CHECK(on.explanation == off.explanation);
        CHECK(on.trace.size() == off.trace.size());
      }
    }
  }
  CHECK(evaluations >= 50);
  CHECK(hits > 0); // prefetched answers were really used
}
