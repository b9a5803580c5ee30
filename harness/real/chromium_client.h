// The real browser in the client slot: a page of the shared Chromium opens `new WebSocket(url)`
// (Runtime.evaluate, awaitPromise) and reports its close event. Runs on the scenario's
// io_context, so the model endpoints and the browser share one clock and one loop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "harness/real/chromium.h"

namespace closewire::real {

// What the page's close event said, with the page's own timings (performance.now(), ms from
// `new WebSocket`).
struct BrowserOutcome {
  std::optional<std::uint16_t> code;  // absent: no close event (timed out, or an error)
  std::string reason;
  bool was_clean = false;
  bool error_event = false;  // onerror fired before onclose
  double open_ms = -1;       // onopen; -1 if it never opened
  double error_ms = -1;
  double close_ms = -1;
  std::string error;  // DevTools or page failure, when there is no close event
};

std::string describe(const BrowserOutcome& o);  // "4321 'test' clean (open 1.2 ms, close 5.0 ms)"

// The JavaScript evaluated in the page: resolves on onclose, or after `give_up` with
// {timedOut: true}.
std::string websocket_probe_script(const std::string& url, std::chrono::milliseconds give_up);

class ChromiumClient {
 public:
  // Opens a page and connects to it now (before the capture starts).
  ChromiumClient(boost::asio::io_context& io, std::shared_ptr<Chromium> browser, std::string url,
                 std::chrono::milliseconds give_up);
  ~ChromiumClient();  // stop()
  ChromiumClient(const ChromiumClient&) = delete;
  ChromiumClient& operator=(const ChromiumClient&) = delete;

  void start();  // evaluates the probe; `on_finished` runs on the io_context with the outcome
  void on_finished(std::function<void()> fn);
  void stop();  // abandons the evaluation, closes the page

  bool finished() const;
  std::optional<BrowserOutcome> outcome() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace closewire::real
