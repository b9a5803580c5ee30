// `closewire sweep` as a user runs it: every bad input a one-line error and exit 2, before any
// point runs (so no capture rights are needed here).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/command.h"

namespace {

using closewire::testing::CommandResult;
using closewire::testing::temp;

const std::string kBinary = CLOSEWIRE_BIN;
const std::string kSource = CLOSEWIRE_SOURCE_DIR;

CommandResult closewire(const std::string& args) {
  return closewire::testing::run_command(kBinary, args);
}

const std::string kBase = R"(about: one envoy
client: { profile: chrome-legacy }
proxies:
  - { name: gateway, model: envoy, delayed_close_timeout: 1s, no_delay_close_for_upgrades: false }
server: {}
expect:
  - verdict: { profile: safari, code: 4321 }
)";

std::string sweep_file(const std::string& block) {
  const std::string path = temp("sweep.yaml");
  std::ofstream(path) << kBase << block;
  return path;
}

// Exit 2 and exactly one line on stderr that contains `what`.
void expect_bad_input(const std::string& args, const std::string& what) {
  const CommandResult r = closewire(args);
  EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(what), std::string::npos) << args << "\n" << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(SweepCommand, BadSweepsAreOneLineErrorsWithExitTwo) {
  expect_bad_input("sweep " + sweep_file("sweep: { vary: { client.profile: [] } }\n"),
                   "sweep.yaml:8:34: client.profile: an empty dimension (no values)");
  expect_bad_input(
      "sweep " + sweep_file("sweep: { vary: { \"proxies[*].latency\": \"0ms..9ms/0ms\" } }\n"),
      "the step must be more than zero");
  expect_bad_input(
      "sweep " + sweep_file("sweep: { vary: { \"proxies[*].latency\": \"0ms..9ms/-1ms\" } }\n"),
      "the step must be more than zero");
  const std::string big = sweep_file(
      "sweep: { vary: { \"proxies[*].latency\": \"0ms..100ms/1ms\", "
      "\"proxies[*].delayed_close_timeout\": "
      "\"0ms..99ms/1ms\" } }\n");
  expect_bad_input("sweep " + big, "the sweep has 10100 points, more than 10000");
  expect_bad_input("sweep " + big + " --max-points 100", "more than 100 (raise --max-points");
  expect_bad_input(
      "sweep " + sweep_file("sweep:\n  vary: { client.profile: [chrome] }\n  expect:\n"
                            "    - { when: { client.target: / }, verdict: { code: 1 } }\n"),
      "'client.target' is not varied (varied: client.profile)");
  expect_bad_input("sweep " + sweep_file("sweep: { vary: { client.profle: [chrome] } }\n"),
                   "sweep.yaml:8:18: key 'client.profle' = chrome: unknown key 'profle' in client");
  expect_bad_input("sweep " + sweep_file("sweep: { vary: { client.close_timeout: [1s, soon] } }\n"),
                   "client.close_timeout = soon:");
  expect_bad_input("sweep " + sweep_file(""), "no 'sweep:' block");
  expect_bad_input("sweep /nonexistent/sweep.yaml",
                   "/nonexistent/sweep.yaml: cannot read the file");
}

TEST(SweepCommand, BadArgumentsAreOneLineErrorsWithExitTwo) {
  const std::string ok = sweep_file("sweep: { vary: { client.profile: [chrome] } }\n");
  expect_bad_input("sweep " + ok + " --shard 3/2", "--shard 3/2: write K/N");
  expect_bad_input("sweep " + ok + " --shard x", "--shard x: write K/N");
  expect_bad_input("sweep " + ok + " --vary client.profile",
                   "--vary client.profile: write KEY=VALUES");
  expect_bad_input("sweep " + ok + " --vary 'client.profile=[chrome'",
                   "--vary client.profile=[chrome:");
  expect_bad_input("sweep " + ok + " --json --csv", "excludes");
  expect_bad_input("sweep " + ok + " --client safari", "--client: not chromium");
  expect_bad_input("sweep --merge " + ok, "not a sweep's JSON");
  expect_bad_input("sweep --merge " + ok + " --shard 1/2", "--merge runs nothing");
}

TEST(SweepCommand, RunRefusesASweepFileAndSkipsSweepsInFolders) {
  const std::string ok = sweep_file("sweep: { vary: { client.profile: [chrome] } }\n");
  expect_bad_input("run " + ok, "this file is a sweep: run it with 'closewire sweep");
  const auto dir = std::filesystem::path(temp("only-sweeps"));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(ok, dir / "a.yaml", std::filesystem::copy_options::overwrite_existing);
  expect_bad_input("run " + dir.string(), "only sweeps here: run them with 'closewire sweep'");
}

TEST(SweepCommand, ListShowsASweepWithItsPoints) {
  const CommandResult r =
      closewire("list " + kSource + "/scenarios/sweeps/seed-threshold-2hop.yaml");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(
      r.out.find("sweep: 36 points, proxies[*].delayed_close_timeout (12) × client.profile (3)"),
      std::string::npos)
      << r.out;
}

}  // namespace
