// An external program run as a real peer: its own process group, stdout/stderr on pipes, stopped
// (the whole group) on every exit path, including SIGINT/SIGTERM of closewire itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace closewire::real {

// The program is missing or cannot start: closewire's exit status 3 (environment).
class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ChildProcess {
 public:
  // Starts argv[0] (a path, or a name looked up in PATH) in a new process group. `label` names it
  // in errors ("nginx"); every line it prints is also appended to `log_file` when given.
  // Throws EnvironmentError when it cannot start.
  ChildProcess(std::string label, std::vector<std::string> argv, std::string log_file = {});
  ~ChildProcess();  // stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until `match` returns true for a line of its output (stdout and stderr; returns that
  // line), or throws EnvironmentError with the output seen so far when the process exits or
  // `timeout` passes first.
  std::string wait_for_line(const std::function<bool(const std::string&)>& match,
                            std::chrono::milliseconds timeout);

  bool running() const;
  // SIGTERM to the group, SIGKILL to what is left after `grace`; reaps the process.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(500));

  int pid() const { return pid_; }
  const std::string& label() const { return label_; }
  std::string output_tail() const;  // the last lines it printed, for errors

 private:
  void drain(const std::string&
                 log_file);  // the reader thread: the pipe must never fill up and block the child
  std::string label_;
  int pid_ = -1;
  int out_fd_ = -1;  // stdout and stderr share one pipe
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;  // the last lines, bounded
  std::size_t lines_seen_ = 0;     // every line ever read
  bool eof_ = false;
  bool stopping_ = false;
  bool reaped_ = false;
};

// Finds `program` as a path or in PATH; empty when missing.
std::string find_program(const std::string& program);

// Kills every process group still registered: used by the signal handler and at exit.
void kill_all_children();
// SIGINT/SIGTERM/SIGHUP: kill every child group, then die of the signal as usual.
void install_signal_cleanup();

}  // namespace closewire::real
