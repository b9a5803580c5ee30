// A closewire process started by a test: fork/exec with stdout and stderr on pipes, and bounded
// waits for a line or for the exit. The destructor kills and reaps whatever is still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace closewire::standalone_test {

class Process {
 public:
  explicit Process(std::vector<std::string> args);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Reads stdout until a line starting with `prefix`; that line, or nullopt after `limit`.
  std::optional<std::string> wait_line(std::string_view prefix, std::chrono::milliseconds limit);
  // Reads until the process exits and its pipes close; its exit status (128+signal when killed),
  // or nullopt after `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  void signal(int sig);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what is there within `limit`; false when both pipes are closed.
  bool pump(std::chrono::milliseconds limit);

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  std::size_t scanned_ = 0;  // out_ up to here was searched for lines already
  std::optional<int> status_;
};

}  // namespace closewire::standalone_test
