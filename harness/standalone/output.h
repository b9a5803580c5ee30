// What a standalone endpoint (serve, proxy, probe) reports, and where its text goes, so that a
// front end other than the closewire command (a test, say) can take its lines.
#pragma once

#include <functional>
#include <string>

namespace closewire::standalone {

// How a standalone run went, from best to worst; the closewire command maps it to its exit status.
// Bad input outranks the others: a run on bad input has no result.
enum class Status { ok, expectation_failed, environment, bad_input };

inline Status worst(Status a, Status b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

struct Output {
  std::function<void(const std::string&)> say;   // lines, each ending in '\n', as they happen
  std::function<void(const std::string&)> warn;  // one line of an error or warning, without '\n'
};

// stdout, flushed at once (tests and pipes read it line by line), and stderr after a flush of
// stdout, so the two interleave in the order they happened.
Output stdio_output();

}  // namespace closewire::standalone
