// Tests that capture on lo need root or CAP_NET_RAW. Without them the whole program exits 77, which
// meson reports as skipped (a gtest that skips inside exits 0: meson would say OK); with CI=true
// it runs and each test fails instead, never a skip. REQUIRE_CAPTURE_RIGHTS() is the per-test
// check (a macro: FAIL() and GTEST_SKIP() must return from the test body itself).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
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

namespace closewire::testing {

class CaptureRightsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string why;
    const char* ci = std::getenv("CI");
    if (::closewire::can_capture(&why) || (ci && std::string(ci) == "true")) return;
    std::fprintf(stderr, "skipped: this machine cannot capture on lo: %s\n", why.c_str());
    std::fflush(nullptr);
    std::_Exit(77);
  }
};

// Registered once per program that includes this header.
inline const bool kCaptureRightsChecked =
    (::testing::AddGlobalTestEnvironment(new CaptureRightsEnvironment), true);

}  // namespace closewire::testing
