// Debian's headless Chromium, started once per `closewire run` and shared by every scenario
// (each gets its own page); stopped, with its whole process group, on every exit path.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "harness/real/cdp_connection.h"
#include "harness/real/process.h"

namespace closewire::real {

inline constexpr const char* kChromiumPath = "/usr/bin/chromium";

struct ChromiumPage {
  std::string target_id;
  std::string ws_url;  // the page's own DevTools endpoint
};

class Chromium {
 public:
  // Starts the browser and connects to its DevTools endpoint (the port it announces on stderr).
  // Throws EnvironmentError naming the Debian package when it is missing.
  static std::shared_ptr<Chromium> launch(
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~Chromium();  // stops the browser, removes its profile folder
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Thread-safe: a fresh about:blank page per scenario.
  ChromiumPage open_page();
  void close_page(const std::string& target_id);
  const std::string& version() const { return version_; }  // "Chrome/156.0.8078.108"

 private:
  Chromium() = default;
  std::string user_data_dir_;
  std::unique_ptr<ChildProcess> process_;
  std::unique_ptr<CdpConnection> browser_;
  std::mutex mutex_;           // one browser-level call at a time
  std::string devtools_host_;  // "127.0.0.1:PORT"
  std::string version_;
};

}  // namespace closewire::real
