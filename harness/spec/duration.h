// Durations as written in scenario and expectation files: "2s", "250ms", "1.5s", "300us", "0".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace closewire {

// Time in nanoseconds: capture timestamps (since the Unix epoch) and the durations between them.
using Nanos = std::int64_t;
inline constexpr Nanos kNanosPerMilli = 1'000'000;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

std::optional<Nanos> parse_duration(std::string_view text);
std::string format_duration(Nanos d);  // "2000 ms", "0.25 ms"

// A timing tolerance: absolute plus a fraction of the expected value (packetdrill's 4 ms and
// 12.5 % by default), widened on slow machines by one scale factor.
struct Tolerance {
  Nanos absolute = 4 * kNanosPerMilli;
  double percent = 12.5;
  Nanos for_value(Nanos expected, double scale) const;
};

// "50ms", "10%", "4ms+12.5%".
std::optional<Tolerance> parse_tolerance(std::string_view text);

// The slow-machine multiplier: CLOSEWIRE_TOLERANCE_SCALE, 1 when unset. Throws on a bad value.
double tolerance_scale_from_env();

}  // namespace closewire
