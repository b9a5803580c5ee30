// What serve and proxy share around their endpoint: the io_context, the optional capture with a
// verdict per connection as it ends, the stop and the summary at the end. The front end owns how
// a stop is asked for (the closewire command: SIGINT/SIGTERM, see tools/closewire/signals.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "harness/analysis/connection.h"
#include "harness/capture/live_capture.h"
#include "harness/standalone/leg_watch.h"
#include "harness/standalone/output.h"

namespace closewire::standalone {

struct SessionOptions {
  std::string command;       // "serve", "proxy": names the session in its errors and summary
  std::string capture_path;  // empty: no capture
  std::string interface = "lo";
  std::string key_log_path;  // the TLS endpoints' key log (empty: none), for the verdicts
};

class Session {
 public:
  using Line = std::function<std::string(const std::vector<Connection>& legs)>;

  explicit Session(SessionOptions options, Output output = stdio_output());
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  boost::asio::io_context& io() { return io_; }
  void say(const std::string& text) { output_.say(text); }
  // One error line: "closewire COMMAND: what".
  void fail(const std::string& what);

  // With a capture path: starts the capture on `ports` (packets to or from `host` only, off
  // loopback). ok, or the status after printing one line (environment: the machine cannot
  // capture; bad_input: a filter or file that does not work).
  Status start_capture(const std::vector<std::uint16_t>& ports, const std::string& host);

  // Prints one connection's account; with a capture, once its legs are complete on the wire
  // (kEndpointLegBound), so that `line` can add their verdicts. `line` gets the legs found (none
  // without a capture).
  void report(LegWatch::Select select, std::size_t expected_legs, Line line);

  // Runs until stop(). `stop` closes the endpoint and reports the connections still open;
  // `summary` is the last line. Returns ok, or environment when the loop or the capture failed.
  Status run(std::function<void()> stop, std::function<std::string()> summary);
  // Ends run(), from inside the loop (a signal handler on io()); `by` names the cause in the last
  // line ("stopped by SIGTERM").
  void stop(const std::string& by);

 private:
  SessionOptions options_;
  Output output_;
  boost::asio::io_context io_;
  std::unique_ptr<LiveCapture> capture_;
  std::unique_ptr<LegWatch> watch_;
  std::function<void()> stop_endpoint_;
  std::string stopped_by_;
};

}  // namespace closewire::standalone
