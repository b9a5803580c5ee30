// Every command that captures exits 3 with one line when the machine may not capture: run as root
// with CAP_NET_RAW and CAP_NET_ADMIN taken away (setpriv), as an unprivileged user would be.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/command.h"

namespace {

using closewire::testing::CommandResult;
using closewire::testing::temp;

const std::string kBinary = CLOSEWIRE_BIN;
const std::string kSource = CLOSEWIRE_SOURCE_DIR;

// `closewire ARGS` without the capabilities libpcap needs on lo.
CommandResult without_capture_rights(const std::string& args) {
  return closewire::testing::run_command(
      "setpriv --bounding-set -net_raw,-net_admin --inh-caps -net_raw,-net_admin " + kBinary, args);
}

bool can_drop_rights() {
  return ::geteuid() == 0 && std::system("command -v setpriv >/dev/null 2>&1") == 0;
}

void expect_environment_error(const std::string& args) {
  const CommandResult r = without_capture_rights(args);
  EXPECT_EQ(r.status, 3) << args << "\n" << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
  EXPECT_NE(r.err.find("permission"), std::string::npos) << args << "\n" << r.err;
}

class CaptureRights : public ::testing::Test {
 protected:
  void SetUp() override {
    if (can_drop_rights()) return;
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL() << "CI=true: needs root and setpriv";
    GTEST_SKIP() << "needs root and setpriv (util-linux) to take the capture rights away";
  }
};

TEST_F(CaptureRights, RunAndSweepExitThree) {
  expect_environment_error("run " + kSource + "/scenarios/seed/fix.yaml --out " + temp("rights"));
  expect_environment_error("sweep " + kSource +
                           "/scenarios/sweeps/envoy-version-guard.yaml --out " + temp("rights"));
}

TEST_F(CaptureRights, StandaloneCommandsThatCaptureExitThree) {
  const std::string pcap = temp("rights.pcap");
  expect_environment_error("serve --listen 127.0.0.1:0 --capture " + pcap);
  expect_environment_error(
      "proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:9 --model envoy --capture " + pcap);
  // The probe always captures (a temporary file without --capture).
  expect_environment_error("probe ws://127.0.0.1:9/ --profile chrome");
}

TEST_F(CaptureRights, ReplayNeedsNoRights) {
  const CommandResult r = without_capture_rights(
      "replay --quiet " + kSource + "/captures/chromium-156/s4321__D_reset_0__chromium.pcap");
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
