// `closewire run` as a user runs it when a scenario fails: exit 1, the FAIL line with what was
// expected and found and the timeline, `-v` with every expectation and the endpoints'
// observations, `--report` with the full account. Captures on lo: suite 'live'.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/capture_rights.h"
#include "tests/support/command.h"

namespace {

using closewire::testing::CommandResult;
using closewire::testing::slurp;
using closewire::testing::temp;

const std::string kBinary = CLOSEWIRE_BIN;

CommandResult closewire_run(const std::string& args) {
  return closewire::testing::run_command(kBinary, args);
}

std::string wrong_scenario() {
  const std::string path = temp("wrong.yaml");
  std::ofstream(path) << "name: wrong\n"
                         "about: The seed fix, with one expectation that cannot hold.\n"
                         "client: { profile: chrome }\n"
                         "server: {}\n"
                         "expect:\n"
                         "  - verdict: { profile: chrome, code: 1006 }\n"
                         "  - never: [ tcp.rst ]\n";
  return path;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RunCommand, AFailedExpectationExitsOneAndSaysWhatWasFound) {
  REQUIRE_CAPTURE_RIGHTS();
  const std::string out = temp("run-out"), report = temp("run-report.txt");
  const CommandResult r =
      closewire_run("run " + wrong_scenario() + " --out " + out + " --report " + report);
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("FAIL  wrong ")) << r.out;
  EXPECT_TRUE(has(r.out, "  FAIL  verdict chrome: code 1006 on client-server")) << r.out;
  EXPECT_TRUE(has(r.out, "wrong.yaml:6)")) << r.out;  // the expectation's line
  EXPECT_TRUE(has(r.out, "found:    chrome: 4321 'test' clean")) << r.out;
  EXPECT_TRUE(has(r.out, "◀─  server  ws.close 4321 \"test\"")) << r.out;  // the timeline
  EXPECT_TRUE(has(r.out, "capture: " + out + "/wrong.pcap")) << r.out;
  EXPECT_TRUE(has(r.out, "scenarios: 0 passed, 1 failed")) << r.out;
  // Without -v, the expectations that held are not listed.
  EXPECT_FALSE(has(r.out, "PASS  never")) << r.out;
  // The report: the scenario's account with its leg, verdict table, chain and client outcome.
  const std::string account = slurp(report);
  EXPECT_TRUE(has(account, "━━ wrong")) << account;
  EXPECT_TRUE(has(account, "client-server  127.0.0.1:")) << account;
  EXPECT_TRUE(has(account, "  chrome          4321  test       yes    no")) << account;
  EXPECT_TRUE(has(account, "the client (chrome) reported: 4321 'test' clean")) << account;
}

TEST(RunCommand, VerboseListsEveryExpectationAndTheObservations) {
  REQUIRE_CAPTURE_RIGHTS();
  const CommandResult r = closewire_run("run -v " + wrong_scenario() + " --out " + temp("run-v"));
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_TRUE(has(r.out, "  PASS  never: tcp.rst on client-server")) << r.out;
  EXPECT_TRUE(has(r.out,
                  "  PASS  the client's own outcome (4321 test, clean) equals the chrome "
                  "verdict"))
      << r.out;
  EXPECT_TRUE(has(r.out, "\nclient:\n")) << r.out;
  EXPECT_TRUE(has(r.out, "frame_received close 4321 'test'")) << r.out;
  EXPECT_TRUE(has(r.out, "\nserver:\n")) << r.out;
}

TEST(ListCommand, SaysWhatEachScenarioShows) {
  const CommandResult r = closewire_run("list " + wrong_scenario());
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("wrong  (")) << r.out;
  EXPECT_TRUE(has(r.out, "    The seed fix, with one expectation that cannot hold.")) << r.out;
}

}  // namespace
