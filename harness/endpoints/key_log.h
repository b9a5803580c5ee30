// The run's TLS key log: one NSS key log line per secret (SSLKEYLOGFILE's format), from every TLS
// endpoint of the run, so a capture of encrypted legs can be read the way Wireshark reads it.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace closewire::endpoints {

class KeyLogFile {
 public:
  // Creates (truncates) `path`; throws std::runtime_error when it cannot.
  explicit KeyLogFile(std::string path);
  ~KeyLogFile();
  KeyLogFile(const KeyLogFile&) = delete;
  KeyLogFile& operator=(const KeyLogFile&) = delete;

  // Appends `line` and a newline, flushed at once: a reader may look while the run goes on.
  void write(std::string_view line);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;  // real peers' threads aside, endpoints of several io_contexts may share it
};

}  // namespace closewire::endpoints
