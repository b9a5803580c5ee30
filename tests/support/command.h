// Running the closewire command as a user does, from a test: exit status, stdout, stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
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

// A fresh folder in the temporary directory, removed with all it holds when it goes out of scope.
class TempFolder {
 public:
  TempFolder() {
    std::string name = temp("folder-XXXXXX");
    if (::mkdtemp(name.data())) path_ = name;
  }
  ~TempFolder() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A program the test runs, from the environment variable meson test sets (CLOSEWIRE_EXE, ...);
// empty when it is not set.
inline std::string program_from_env(const char* variable) {
  const char* path = std::getenv(variable);
  return path ? path : "";
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
