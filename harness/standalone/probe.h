// The probe: connects like a browser profile, one connection after the other, captures its own
// connections and judges each from the capture once its leg is complete on the wire: what the
// client observed against the analyzer's verdict for that profile.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/analysis/connection.h"
#include "harness/analysis/verdict.h"
#include "harness/capture/live_capture.h"
#include "harness/endpoints/client.h"
#include "harness/endpoints/client_profile.h"
#include "harness/report/text_report.h"
#include "harness/standalone/leg_watch.h"
#include "harness/standalone/output.h"

namespace closewire::standalone {

struct ProbeSettings {
  Endpoint remote;     // numeric address and port
  std::string target;  // the request path
  Profile profile = Profile::chrome;
  Profile verdict_profile = Profile::chrome;
  unsigned count = 1;
  std::chrono::milliseconds interval{1000};  // from one connection's end to the next one's start
  std::chrono::milliseconds timeout{30000};  // a connection with no close event by then is abandoned
  std::string interface = "lo";
  std::string capture_path;  // where the capture goes; see Probe::temporary_capture()
  // wss: the client's TLS context, and the key log its sessions' secrets go to (the capture's
  // analysis needs it to read the frames of a TLS leg).
  std::shared_ptr<endpoints::TlsContext> tls;
  std::string key_log_path;
  // WebSocket over HTTP/2 (needs tls): the client model's h2 mode. Its h2 connection, which a
  // browser would keep, is closed after the close event so that the connection's legs complete.
  bool h2 = false;
  report::TextStyle style;   // of the timelines and verdict tables (report::style_for(stdout))
};

struct ProbeResult {
  Status status = Status::ok;
  unsigned done = 0;     // connections judged
  unsigned matched = 0;  // of those, observed outcome == verdict
  std::string stopped_by;  // empty when every connection ran
};

class Probe {
 public:
  // Opens the capture (the probe needs it: its verdicts come from it). Throws
  // CaptureEnvironmentError when the machine cannot capture, std::runtime_error for a filter or
  // file that does not work.
  Probe(ProbeSettings settings, Output output = stdio_output());
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // A capture file for a probe run without one of its own (remove it after run()).
  static std::string temporary_capture();

  boost::asio::io_context& io() { return io_; }

  // Probes `count` connections (or until stop()), printing each one's account as it is judged;
  // then stops the capture. The status: bad_input when a connection could not connect,
  // expectation_failed when an outcome disagreed with its verdict (or was not judged),
  // environment when the loop or the capture failed.
  ProbeResult run();
  // From inside the loop (a signal handler on io()): abandons the current connection, judges what
  // the capture has, and ends run(); `by` names the cause.
  void stop(const std::string& by);

 private:
  void next();
  void on_closed();
  void judge(std::vector<Connection> legs);
  void finished();
  void fail(const std::string& what);

  ProbeSettings s_;
  Output output_;
  boost::asio::io_context io_;
  std::unique_ptr<LiveCapture> capture_;
  std::unique_ptr<LegWatch> watch_;
  boost::asio::steady_timer pause_, limit_;
  std::vector<std::unique_ptr<endpoints::Client>> clients_;
  std::optional<std::uint16_t> local_port_;
  bool judging_ = false;
  bool stopping_ = false;
  ProbeResult result_;
};

}  // namespace closewire::standalone
