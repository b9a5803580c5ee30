// One-line accounts of a connection from an endpoint's observation log: what was sent and seen,
// and how TCP closed, in the order it happened.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "harness/endpoints/observation.h"

namespace closewire::standalone {

// e.g. 'sent close 4321 "test", received close 4321 "test"; tcp: FIN sent (half-close), peer FIN,
// closed (plain close after the peer's FIN)'. `side` filters proxy entries ("downstream").
std::string connection_summary(const std::vector<endpoints::Observation>& log,
                               std::size_t connection, std::string_view side = {});

// Milliseconds from the connection's first entry to its last.
double connection_ms(const std::vector<endpoints::Observation>& log, std::size_t connection);

}  // namespace closewire::standalone
