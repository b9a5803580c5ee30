#include "harness/standalone/leg_watch.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/key_log_file.h"

namespace closewire::standalone {

namespace {
// Checkpoints are cheap (a drained ring and a flush); the analysis runs only when packets came.
constexpr std::chrono::milliseconds kPollEvery{10};
}  // namespace

bool leg_complete(const Connection& leg) {
  bool fin[2] = {false, false};
  for (const auto& e : leg.events) {
    if (e.kind == kind::rst) return true;
    if (e.kind == kind::fin) fin[static_cast<int>(e.from)] = true;
  }
  return fin[0] && fin[1];
}

LegWatch::LegWatch(boost::asio::io_context& io, LiveCapture& capture, Warn warn,
                   std::string key_log_path)
    : io_(io),
      capture_(capture),
      warn_(std::move(warn)),
      snapshot_path_((std::filesystem::temp_directory_path() /
                      fmt::format("closewire-{}-snapshot.pcap", ::getpid()))
                         .string()),
      key_log_path_(std::move(key_log_path)) {}

LegWatch::~LegWatch() {
  for (auto& w : waits_) w->timer.cancel();
  std::error_code ec;
  std::filesystem::remove(snapshot_path_, ec);
}

const std::vector<Connection>& LegWatch::legs() {
  const std::uint64_t packets = capture_.checkpoint();
  if (const std::uint64_t dropped = capture_.dropped(); dropped > reported_drops_) {
    reported_drops_ = dropped;
    warn_(fmt::format("closewire: the capture dropped {} packets: verdicts from it may be wrong",
                      dropped));
  }
  if (packets == analysed_packets_) return legs_;
  analysed_packets_ = packets;
  legs_.clear();
  capture_.snapshot(snapshot_path_);
  try {
    AnalyzerOptions options;
    if (!key_log_path_.empty() && std::filesystem::exists(key_log_path_))
      read_key_log(key_log_path_, options.key_log);
    analyze_capture(
        snapshot_path_, [&](Connection&& c) { legs_.push_back(std::move(c)); }, options);
  } catch (const KeyLogError& e) {
    warn_(fmt::format("closewire: the key log did not read: {}", e.what()));
  } catch (const CaptureError& e) {
    warn_(fmt::format("closewire: the capture so far did not analyse: {}", e.what()));
  }
  return legs_;
}

void LegWatch::when_complete(Select select, std::size_t expected, std::chrono::milliseconds bound,
                             Done done) {
  auto w = std::make_shared<Wait>(io_);
  w->select = std::move(select);
  w->expected = expected;
  w->deadline = std::chrono::steady_clock::now() + bound;
  w->done = std::move(done);
  waits_.push_back(w);
  poll(w);
}

void LegWatch::poll(const std::shared_ptr<Wait>& w) {
  std::vector<Connection> found = w->select(legs());
  bool complete = found.size() >= w->expected;
  for (const auto& leg : found) complete = complete && leg_complete(leg);
  if (complete || std::chrono::steady_clock::now() >= w->deadline) {
    finish(w, std::move(found));
    return;
  }
  w->timer.expires_after(kPollEvery);
  w->timer.async_wait([this, w](const boost::system::error_code& ec) {
    if (!ec) poll(w);
  });
}

void LegWatch::finish(const std::shared_ptr<Wait>& w, std::vector<Connection> legs) {
  waits_.remove(w);
  w->timer.cancel();
  w->done(std::move(legs));
}

void LegWatch::finish_all() {
  while (!waits_.empty()) {
    auto w = waits_.front();
    finish(w, w->select(legs()));
  }
}

}  // namespace closewire::standalone
