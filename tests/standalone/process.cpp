#include "tests/standalone/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

namespace closewire::standalone_test {

Process::Process(std::vector<std::string> args) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

Process::~Process() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool Process::pump(std::chrono::milliseconds limit) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  if (::poll(fds, 2, static_cast<int>(limit.count())) <= 0) return true;
  int* fd[2] = {&out_fd_, &err_fd_};
  std::string* into[2] = {&out_, &err_};
  for (int i = 0; i < 2; ++i) {
    if (*fd[i] < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[4096];
    const ssize_t n = ::read(*fd[i], buf, sizeof buf);
    if (n > 0) {
      into[i]->append(buf, static_cast<std::size_t>(n));
    } else {
      ::close(*fd[i]);
      *fd[i] = -1;
    }
  }
  return true;
}

std::optional<std::string> Process::wait_line(std::string_view prefix,
                                              std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    for (std::size_t end; (end = out_.find('\n', scanned_)) != std::string::npos;) {
      std::string line = out_.substr(scanned_, end - scanned_);
      scanned_ = end + 1;
      if (line.starts_with(prefix)) return line;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (!pump(std::min(left, std::chrono::milliseconds(100))) && out_fd_ < 0) return std::nullopt;
  }
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!status_) {
    if (out_fd_ < 0 && err_fd_ < 0) {
      int raw = 0;
      const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        break;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    if (out_fd_ >= 0 || err_fd_ >= 0) {
      pump(std::chrono::milliseconds(20));
    } else {
      ::usleep(5000);  // pipes closed, the exit is a moment away
    }
  }
  return status_;
}

void Process::signal(int sig) {
  if (!status_ && pid_ > 0) ::kill(pid_, sig);
}

}  // namespace closewire::standalone_test
