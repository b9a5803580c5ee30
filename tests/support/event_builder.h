// Timeline events written by hand for unit tests: ev(3.2, Side::server, kind::close, 4321).
#pragma once

#include <optional>
#include <string>
#include <string_view>

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

}  // namespace closewire::testing
