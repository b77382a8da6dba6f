#include <sendcheck/spf/record.hpp>

#include <doctest/doctest.h>

using namespace sendcheck;

TEST_CASE("spf::parse_record")
{
  CHECK(spf::parse_record("v=spf1 -all"));
}
