// closewire's exit statuses, the same for every subcommand.
#pragma once

#include "harness/standalone/output.h"

namespace closewire::cli {

enum ExitStatus : int {
  kOk = 0,               // ran; every expectation held
  kExpectationFailed = 1,
  kBadInput = 2,         // bad usage, a malformed file, an unreadable capture
  kEnvironment = 3,      // the machine cannot run it (no capture rights, a missing program)
};

inline int worst(int a, int b) {
  // Bad input outranks a failed expectation: the result of a run on bad input is no result.
  auto rank = [](int s) { return s == kBadInput ? 3 : s == kEnvironment ? 2 : s == kExpectationFailed ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

// A standalone endpoint's status (serve, proxy, probe) as the exit status.
inline int exit_status(standalone::Status s) {
  switch (s) {
    case standalone::Status::ok: return kOk;
    case standalone::Status::expectation_failed: return kExpectationFailed;
    case standalone::Status::environment: return kEnvironment;
    case standalone::Status::bad_input: return kBadInput;
  }
  return kBadInput;
}

}  // namespace closewire::cli
