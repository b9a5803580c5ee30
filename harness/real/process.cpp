#include "harness/real/process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace closewire::real {
namespace {

constexpr std::size_t kMaxLines = 200;

// Process groups to kill when closewire is interrupted: a fixed array, so that the signal handler
// only touches atomics.
std::array<std::atomic<int>, 256> g_groups{};

void register_group(int pgid) {
  for (auto& slot : g_groups) {
    int expected = 0;
    if (slot.compare_exchange_strong(expected, pgid)) return;
  }
}

void unregister_group(int pgid) {
  for (auto& slot : g_groups) {
    int expected = pgid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void on_signal(int sig) {
  kill_all_children();
  signal(sig, SIG_DFL);
  raise(sig);
}

// Reaps the child `pid` if it exits before `deadline`; false when it is still running then. A
// pidfd (pidfd_open, Linux 5.3+) becomes readable when the process exits, so this is one poll();
// where pidfd_open fails (an older kernel, a seccomp filter) it falls back to polling waitpid
// every 2 ms. A waitpid error (the child already reaped) counts as exited. The raw syscall:
// glibc 2.36's <sys/pidfd.h> (Debian 12) declares pidfd_open without extern "C".
bool reap_until(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  int status = 0;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{pidfd, POLLIN, 0};
      const int n = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    close(pidfd);
    return waitpid(pid, &status, WNOHANG) != 0;
  }
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    usleep(2000);
  }
  return true;
}

}  // namespace

std::string find_program(const std::string& program) {
  namespace fs = std::filesystem;
  if (program.find('/') != std::string::npos)
    return access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  // Debian puts nginx and haproxy in /usr/sbin, which a non-root PATH may lack.
  dirs += ":/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / program;
    if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

void kill_all_children() {
  for (auto& slot : g_groups) {
    const int pgid = slot.load();
    if (pgid > 0) kill(-pgid, SIGKILL);
  }
}

void install_signal_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

ChildProcess::ChildProcess(std::string label, std::vector<std::string> argv, std::string log_file)
    : label_(std::move(label)) {
  if (argv.empty()) throw EnvironmentError(label_ + ": no command");
  const std::string program = find_program(argv[0]);
  if (program.empty()) throw EnvironmentError(fmt::format("{}: '{}' not found", label_, argv[0]));
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    throw EnvironmentError(fmt::format("{}: pipe: {}", label_, std::strerror(errno)));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw EnvironmentError(fmt::format("{}: fork: {}", label_, std::strerror(errno)));
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // closewire killed outright: the child goes too
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    // Sockets of other scenarios (Asio does not set CLOEXEC) must not live on in the child: a
    // kept copy would hold their connections open and change what goes on the wire.
    close_range(3, ~0U, 0);
    execv(program.c_str(), args.data());
    static const char msg[] = "exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  setpgid(pid, pid);  // also here: no race with a kill before the child ran setpgid
  pid_ = pid;
  register_group(pid);
  close(fds[1]);
  out_fd_ = fds[0];
  reader_ = std::thread([this, log_file] { drain(log_file); });
}

ChildProcess::~ChildProcess() {
  stop();
}

void ChildProcess::drain(const std::string& log_file) {
  std::ofstream log;
  if (!log_file.empty()) log.open(log_file, std::ios::app);
  std::string pending;
  char buf[4096];
  for (;;) {
    pollfd p{out_fd_, POLLIN, 0};
    const int n = poll(&p, 1, 100);
    {
      std::lock_guard lock(mutex_);
      if (stopping_ && n <= 0) break;
    }
    if (n <= 0) continue;
    const ssize_t got = read(out_fd_, buf, sizeof buf);
    if (got <= 0) break;
    pending.append(buf, static_cast<std::size_t>(got));
    if (log.is_open()) log.write(buf, got).flush();
    std::lock_guard lock(mutex_);
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      lines_.push_back(pending.substr(0, nl));
      pending.erase(0, nl + 1);
      ++lines_seen_;
      if (lines_.size() > kMaxLines) lines_.pop_front();
    }
    cv_.notify_all();
  }
  std::lock_guard lock(mutex_);
  if (!pending.empty()) {
    lines_.push_back(pending);
    ++lines_seen_;
  }
  eof_ = true;
  cv_.notify_all();
}

std::string ChildProcess::wait_for_line(const std::function<bool(const std::string&)>& match,
                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  std::size_t checked = 0;  // index into every line ever seen
  for (;;) {
    const std::size_t first_kept = lines_seen_ - lines_.size();
    for (std::size_t i = std::max(checked, first_kept); i < lines_seen_; ++i) {
      if (match(lines_[i - first_kept])) return lines_[i - first_kept];
    }
    checked = lines_seen_;
    if (eof_) {
      lock.unlock();
      throw EnvironmentError(
          fmt::format("{} exited before it was ready: {}", label_, output_tail()));
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && lines_seen_ == checked &&
        !eof_) {
      lock.unlock();
      throw EnvironmentError(
          fmt::format("{} was not ready within {} ms: {}", label_, timeout.count(), output_tail()));
    }
  }
}

bool ChildProcess::running() const {
  std::lock_guard lock(mutex_);
  return !reaped_ && !eof_ && pid_ > 0 && kill(pid_, 0) == 0;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  if (!reaped_) {
    kill(-pid_, SIGTERM);
    if (!reap_until(pid_, std::chrono::steady_clock::now() + grace)) {
      kill(-pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    kill(-pid_, SIGKILL);  // whatever of the group outlived the leader
    reaped_ = true;
    unregister_group(pid_);
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
}

std::string ChildProcess::output_tail() const {
  std::lock_guard lock(mutex_);
  std::string out;
  const std::size_t from = lines_.size() > 5 ? lines_.size() - 5 : 0;
  for (std::size_t i = from; i < lines_.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines_[i];
  }
  return out.empty() ? "(no output)" : out;
}

}  // namespace closewire::real
