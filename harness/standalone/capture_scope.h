// What a standalone endpoint captures: its own ports, on the interface it was given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/capture/live_capture.h"

namespace closewire::standalone {

// A whole session (minutes, maybe off lo at a gateway's rate) rather than one scenario: a larger
// kernel ring than a scenario run's.
inline constexpr int kSessionRingBytes = 16 * 1024 * 1024;

// True for 127.0.0.0/8, ::1 and ::ffff:127.x.x.x (a numeric address).
bool is_loopback(const std::string& numeric_host);

// Packets to or from `ports` on `interface` into `path`; when `host` (numeric) is not loopback,
// only those to or from it (off lo the capture sees every machine's traffic to those ports).
LiveCaptureOptions capture_scope(const std::vector<std::uint16_t>& ports, const std::string& host,
                                 const std::string& interface, const std::string& path);

}  // namespace closewire::standalone
