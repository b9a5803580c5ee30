// Running the closewire command as a user does, from a test: exit status, stdout, stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace closewire::testing {

struct CommandResult {
  int status = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Per process: two build directories testing at once must not share files.
inline std::string temp(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / (std::to_string(::getpid()) + "-" + name))
      .string();
}

// `binary ARGS` through the shell, stdin from /dev/null.
inline CommandResult run_command(const std::string& binary, const std::string& args) {
  const std::filesystem::path out = temp("out.txt"), err = temp("err.txt");
  const std::string cmd =
      binary + " " + args + " >" + out.string() + " 2>" + err.string() + " </dev/null";
  const int raw = std::system(cmd.c_str());
  CommandResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace closewire::testing
