// What serve and proxy share around their endpoint: the io_context, SIGINT/SIGTERM, the optional
// capture with a verdict per connection as it ends, and the summary at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "harness/analysis/connection.h"
#include "tools/closewire/leg_watch.h"
#include "tools/closewire/signals.h"
#include "tools/closewire/standalone_capture.h"
#include "tools/closewire/standalone_options.h"

namespace closewire::cli {

class StandaloneSession {
 public:
  using Line = std::function<std::string(const std::vector<Connection>& legs)>;

  StandaloneSession(std::string command, StandaloneOptions options);
  ~StandaloneSession();

  boost::asio::io_context& io() { return io_; }

  // With --capture: starts it on `ports` (packets to or from `host` only, off loopback).
  // Returns kOk, or an exit status after printing one line.
  int start_capture(const std::vector<std::uint16_t>& ports, const std::string& host);

  // Prints one connection's account; with a capture, once its legs are complete on the wire, so
  // that `line` can add their verdicts. `line` gets the legs found (none without a capture).
  void report(LegWatch::Select select, std::size_t expected_legs, Line line);

  // Runs until SIGINT/SIGTERM. `stop` closes the endpoint and reports the connections still
  // open; `summary` is the last line. Returns the exit status.
  int run(std::function<void()> stop, std::function<std::string()> summary);

 private:
  std::string command_;
  StandaloneOptions options_;
  boost::asio::io_context io_;
  std::unique_ptr<StandaloneCapture> capture_;
  std::unique_ptr<LegWatch> watch_;
  std::string stopped_by_;
};

// Prints `text` to stdout at once (tests and pipes read it line by line).
void say(const std::string& text);

}  // namespace closewire::cli
