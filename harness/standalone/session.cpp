#include "harness/standalone/session.h"

#include <fmt/format.h>

#include "harness/standalone/capture_scope.h"

namespace closewire::standalone {

Session::Session(SessionOptions options, Output output)
    : options_(std::move(options)), output_(std::move(output)) {}

Session::~Session() = default;

void Session::fail(const std::string& what) {
  output_.warn(fmt::format("closewire {}: {}", options_.command, what));
}

Status Session::start_capture(const std::vector<std::uint16_t>& ports, const std::string& host) {
  if (options_.capture_path.empty()) return Status::ok;
  try {
    capture_ = std::make_unique<LiveCapture>(
        capture_scope(ports, host, options_.interface, options_.capture_path));
  } catch (const CaptureEnvironmentError& e) {
    fail(e.what());
    return Status::environment;
  } catch (const std::exception& e) {
    fail(e.what());
    return Status::bad_input;
  }
  watch_ = std::make_unique<LegWatch>(io_, *capture_, output_.warn, options_.key_log_path);
  return Status::ok;
}

void Session::report(LegWatch::Select select, std::size_t expected_legs, Line line) {
  if (!watch_) {
    say(line({}) + "\n");
    return;
  }
  watch_->when_complete(
      std::move(select), expected_legs, kEndpointLegBound,
      [this, line = std::move(line)](std::vector<Connection> legs) { say(line(legs) + "\n"); });
}

void Session::stop(const std::string& by) {
  stopped_by_ = by;
  if (stop_endpoint_) stop_endpoint_();
  if (watch_) watch_->finish_all();
  io_.stop();
}

Status Session::run(std::function<void()> stop, std::function<std::string()> summary) {
  stop_endpoint_ = std::move(stop);
  Status status = Status::ok;
  try {
    io_.run();
  } catch (const std::exception& e) {
    fail(e.what());
    status = Status::environment;
  }
  std::string capture_note;
  if (capture_) {
    try {
      const auto stats = capture_->stop();
      capture_note = fmt::format("; capture {} ({} packets; replay with 'closewire replay {}')",
                                 capture_->path(), stats.packets_written, capture_->path());
    } catch (const std::exception& e) {
      fail(e.what());
      status = Status::environment;
    }
  }
  say(fmt::format("{}: stopped by {}: {}{}\n", options_.command,
                  stopped_by_.empty() ? "error" : stopped_by_, summary(), capture_note));
  return status;
}

}  // namespace closewire::standalone
