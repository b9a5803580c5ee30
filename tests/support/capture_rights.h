// Tests that capture on lo need root or CAP_NET_RAW. Without them a test skips with the reason;
// with CI=true that is a failure, never a skip. A macro: FAIL() and GTEST_SKIP() must return from
// the test body itself.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "harness/capture/live_capture.h"

#define REQUIRE_CAPTURE_RIGHTS()                                                 \
  do {                                                                           \
    std::string why_no_capture;                                                  \
    if (!::closewire::can_capture(&why_no_capture)) {                            \
      const char* ci = std::getenv("CI");                                        \
      if (ci && std::string(ci) == "true")                                       \
        FAIL() << "CI=true and this machine cannot capture: " << why_no_capture; \
      GTEST_SKIP() << why_no_capture;                                            \
    }                                                                            \
  } while (0)
