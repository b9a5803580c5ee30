// Timing bounds in tests: how late a timer or a packet may be. A slow machine makes things later,
// never earlier, so only these allowances grow with CLOSEWIRE_TOLERANCE_SCALE; lower bounds stay.
#pragma once

#include "harness/spec/duration.h"

namespace closewire::testing {

// `ms` of allowed lateness, times the machine's tolerance scale.
inline double late(double ms) {
  return ms * tolerance_scale_from_env();
}

}  // namespace closewire::testing
