// Timeline events written by hand for unit tests: ev(3.2, Side::server, kind::close, 4321).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/analysis/connection.h"
#include "harness/analysis/event.h"

namespace closewire::testing {

// An event `at_ms` after time 0; a code makes it a Close with reason "test".
inline Event ev(double at_ms, Side from, std::string_view k, std::optional<std::uint16_t> code = {},
                std::string note = {}) {
  Event e;
  e.t = static_cast<Nanos>(at_ms * kNanosPerMilli);
  e.from = from;
  e.kind = std::string(k);
  e.code = code;
  if (code) e.reason = "test";
  e.note = std::move(note);
  return e;
}

inline constexpr Nanos ms(double v) {
  return static_cast<Nanos>(v * kNanosPerMilli);
}

// A WebSocket leg whose upgrade finished at 1 ms, then `events`; `observed_until_ms` 0: unknown.
inline Connection websocket_leg(std::vector<Event> events, double observed_until_ms = 0) {
  Connection c;
  c.websocket = true;
  c.events = {ev(0, Side::client, kind::syn), ev(0.01, Side::server, kind::syn),
              ev(0.5, Side::client, kind::upgrade), ev(1, Side::server, kind::upgrade)};
  c.events.insert(c.events.end(), events.begin(), events.end());
  c.observed_until = ms(observed_until_ms);
  return c;
}

}  // namespace closewire::testing
