// Every profile's verdict on one WebSocket leg, in one line (the standalone endpoints print it as
// each connection ends).
#pragma once

#include <string>

#include "harness/analysis/connection.h"

namespace closewire::report {

// "chrome 4321 clean, chrome-legacy 1006 not clean, ..." ("open" for a profile whose connection
// never closed, "none" for a Close without a code).
std::string verdict_line(const Connection& leg);

}  // namespace closewire::report
