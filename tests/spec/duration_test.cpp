#include "harness/spec/duration.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace closewire {
namespace {

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration("2s"), 2 * kNanosPerSecond);
  EXPECT_EQ(parse_duration("250ms"), 250 * kNanosPerMilli);
  EXPECT_EQ(parse_duration("1.5s"), 1500 * kNanosPerMilli);
  EXPECT_EQ(parse_duration("300us"), 300'000);
  EXPECT_EQ(parse_duration("0"), 0);
  EXPECT_EQ(parse_duration(" 10ms "), 10 * kNanosPerMilli);
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "ms", "2", "-1s", "2 seconds", "1e999s", "abc", "2sx"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Tolerance, DefaultIsPacketdrills) {
  const Tolerance t;
  // 4 ms + 12.5 % of 2 s = 254 ms.
  EXPECT_EQ(t.for_value(2 * kNanosPerSecond, 1.0), 254 * kNanosPerMilli);
  EXPECT_EQ(t.for_value(2 * kNanosPerSecond, 2.0), 508 * kNanosPerMilli);
}

TEST(Tolerance, ParsesAbsolutePercentAndBoth) {
  EXPECT_EQ(parse_tolerance("50ms")->for_value(kNanosPerSecond, 1), 50 * kNanosPerMilli);
  EXPECT_EQ(parse_tolerance("10%")->for_value(kNanosPerSecond, 1), 100 * kNanosPerMilli);
  EXPECT_EQ(parse_tolerance("4ms+12.5%")->for_value(kNanosPerSecond, 1), 129 * kNanosPerMilli);
  EXPECT_FALSE(parse_tolerance("fast").has_value());
  EXPECT_FALSE(parse_tolerance("").has_value());
}

TEST(Tolerance, ScaleFromEnvironment) {
  ::setenv("CLOSEWIRE_TOLERANCE_SCALE", "3", 1);
  EXPECT_EQ(tolerance_scale_from_env(), 3.0);
  ::setenv("CLOSEWIRE_TOLERANCE_SCALE", "0.5", 1);
  EXPECT_THROW(tolerance_scale_from_env(), std::invalid_argument);
  ::setenv("CLOSEWIRE_TOLERANCE_SCALE", "x", 1);
  EXPECT_THROW(tolerance_scale_from_env(), std::invalid_argument);
  ::unsetenv("CLOSEWIRE_TOLERANCE_SCALE");
  EXPECT_EQ(tolerance_scale_from_env(), 1.0);
}

}  // namespace
}  // namespace closewire
