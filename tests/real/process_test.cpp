#include "harness/real/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace closewire::real {
namespace {

using namespace std::chrono_literals;

// Processes of `group` that still run (a killed one may linger as a zombie until init reaps it).
int running_in_group(int group) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    // pid (comm) state ppid pgrp ...
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    char state = 0;
    int ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == group && state != 'Z' && state != 'X') ++n;
  }
  return n;
}

// running_in_group once it is 0, or after `limit`. A SIGKILL takes effect when the process next
// leaves the kernel: one still inside execve (the `sleep` a shell just forked) runs on for a
// millisecond or two after kill() returned, and stop() reaps only the leader.
int running_in_group_within(int group, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int n = running_in_group(group);
  while (n > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    n = running_in_group(group);
  }
  return n;
}

TEST(ChildProcess_WaitForLine, ReturnsTheMatchingLine) {
  ChildProcess p("sh", {"/bin/sh", "-c", "echo starting; echo 'listening 1234' >&2; sleep 30"});
  EXPECT_EQ(p.wait_for_line([](const std::string& l) { return l.starts_with("listening "); }, 5s),
            "listening 1234");
  EXPECT_TRUE(p.running());
}

TEST(ChildProcess_WaitForLine, ExitBeforeReadyIsAnEnvironmentError) {
  ChildProcess p("sh", {"/bin/sh", "-c", "echo 'bind failed'; exit 1"});
  EXPECT_THROW(p.wait_for_line([](const std::string&) { return false; }, 5s), EnvironmentError);
  EXPECT_NE(p.output_tail().find("bind failed"), std::string::npos);
}

TEST(ChildProcess_Stop, KillsTheWholeProcessGroup) {
  // The grandchild ignores SIGTERM: only the group's SIGKILL ends it.
  ChildProcess p("sh", {"/bin/sh", "-c", "(trap '' TERM; echo child $$; sleep 30) & wait"});
  p.wait_for_line([](const std::string& l) { return l.starts_with("child "); }, 5s);
  const int group = p.pid();
  p.stop(100ms);
  EXPECT_EQ(running_in_group_within(group, 2s), 0);
}

TEST(ChildProcess_Stop, ReturnsAsSoonAsTheProgramExits) {
  // sh dies of SIGTERM at once: stop() must not sit out the grace period.
  ChildProcess p("sh", {"/bin/sh", "-c", "echo up; while :; do sleep 0.05; done"});
  p.wait_for_line([](const std::string& l) { return l == "up"; }, 5s);
  const int group = p.pid();
  const auto start = std::chrono::steady_clock::now();
  p.stop(10s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(running_in_group_within(group, 2s), 0);
}

TEST(ChildProcess_Stop, WaitsTheGraceThenKills) {
  // The leader ignores SIGTERM: stop() waits out the grace, then SIGKILL.
  ChildProcess p("sh", {"/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.05; done"});
  p.wait_for_line([](const std::string& l) { return l == "up"; }, 5s);
  const int group = p.pid();
  const auto start = std::chrono::steady_clock::now();
  p.stop(300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(running_in_group_within(group, 2s), 0);
}

TEST(ChildProcess_Start, MissingProgramIsAnEnvironmentError) {
  EXPECT_THROW(ChildProcess("x", {"/nonexistent/program"}), EnvironmentError);
}

}  // namespace
}  // namespace closewire::real
