#include "tools/closewire/standalone_session.h"

#include <fmt/format.h>

#include <cstdio>

#include "tools/closewire/exit_status.h"

namespace closewire::cli {

namespace {
// A connection's legs are normally complete when its socket closes; this bounds the wait for a
// peer that never closes its side.
constexpr std::chrono::milliseconds kLegBound{3000};
}  // namespace

void say(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

StandaloneSession::StandaloneSession(std::string command, StandaloneOptions options)
    : command_(std::move(command)), options_(std::move(options)) {}

StandaloneSession::~StandaloneSession() = default;

int StandaloneSession::start_capture(const std::vector<std::uint16_t>& ports,
                                     const std::string& host) {
  if (options_.capture.empty()) return kOk;
  try {
    capture_ = std::make_unique<StandaloneCapture>(StandaloneCaptureOptions{
        .interface = options_.interface,
        .filter = port_filter(ports, is_loopback(host) ? std::string() : host),
        .output_path = options_.capture});
  } catch (const CaptureEnvironmentError& e) {
    std::fprintf(stderr, "closewire %s: %s\n", command_.c_str(), e.what());
    return kEnvironment;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire %s: %s\n", command_.c_str(), e.what());
    return kBadInput;
  }
  watch_ = std::make_unique<LegWatch>(io_, *capture_);
  return kOk;
}

void StandaloneSession::report(LegWatch::Select select, std::size_t expected_legs, Line line) {
  if (!watch_) {
    say(line({}) + "\n");
    return;
  }
  watch_->when_complete(
      std::move(select), expected_legs, kLegBound,
      [line = std::move(line)](std::vector<Connection> legs) { say(line(legs) + "\n"); });
}

int StandaloneSession::run(std::function<void()> stop, std::function<std::string()> summary) {
  StopSignals signals(io_, [&](const std::string& name) {
    stopped_by_ = name;
    stop();
    if (watch_) watch_->finish_all();
    io_.stop();
  });
  int status = kOk;
  try {
    io_.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire %s: %s\n", command_.c_str(), e.what());
    status = kEnvironment;
  }
  std::string capture_note;
  if (capture_) {
    try {
      const auto stats = capture_->stop();
      capture_note = fmt::format("; capture {} ({} packets; replay with 'closewire replay {}')",
                                 capture_->path(), stats.packets_written, capture_->path());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "closewire %s: %s\n", command_.c_str(), e.what());
      status = kEnvironment;
    }
  }
  say(fmt::format("{}: stopped by {}: {}{}\n", command_,
                  stopped_by_.empty() ? "error" : stopped_by_, summary(), capture_note));
  return status;
}

}  // namespace closewire::cli
