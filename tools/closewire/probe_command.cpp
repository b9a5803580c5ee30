#include "tools/closewire/probe_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "harness/analysis/verdict.h"
#include "harness/endpoints/client.h"
#include "harness/expect/evaluate.h"
#include "harness/report/text_report.h"
#include "tools/closewire/exit_status.h"
#include "tools/closewire/leg_watch.h"
#include "tools/closewire/signals.h"
#include "tools/closewire/standalone_capture.h"
#include "tools/closewire/standalone_session.h"
#include "tools/closewire/ws_url.h"

namespace closewire::cli {

namespace ep = endpoints;
namespace asio = boost::asio;

namespace {

// After the client closed, how long its leg may take to complete on the wire (the server side's
// FIN or RST usually follows within milliseconds; an Envoy delay ends at the client's FIN).
constexpr std::chrono::milliseconds kLegBound{5000};

std::string describe(const ep::ClientOutcome& o) {
  return fmt::format("{}{} {}", o.code ? std::to_string(*o.code) : "none",
                     o.reason.empty() ? "" : fmt::format(" \"{}\"", o.reason),
                     o.was_clean ? "clean" : "not clean");
}

std::string describe(const Verdict& v) {
  if (!v.closed) return "open (the capture ends first)";
  return fmt::format("{}{} {}", v.code ? std::to_string(*v.code) : "none",
                     v.reason.empty() ? "" : fmt::format(" \"{}\"", v.reason),
                     v.was_clean ? "clean" : "not clean");
}

struct Settings {
  HostPort remote;
  std::string target;
  Profile profile;
  Profile verdict_profile;
  unsigned count;
  std::chrono::milliseconds interval, timeout;
};

// The probe loop: one connection at a time, each judged from the capture once its leg is done.
class Probe {
 public:
  Probe(asio::io_context& io, const Settings& s, LegWatch& watch)
      : io_(io), s_(s), watch_(watch), pause_(io), limit_(io) {}

  void start() { next(); }
  void stop();  // SIGINT/SIGTERM: abandon the current connection, judge what the capture has
  int status() const { return status_; }
  unsigned matched() const { return matched_; }
  unsigned done() const { return done_; }

 private:
  void next();
  void on_closed();
  void judge(std::vector<Connection> legs);
  void finished();

  asio::io_context& io_;
  const Settings& s_;
  LegWatch& watch_;
  asio::steady_timer pause_, limit_;
  std::vector<std::unique_ptr<ep::Client>> clients_;
  std::optional<std::uint16_t> local_port_;
  bool judging_ = false;
  bool stopping_ = false;
  unsigned done_ = 0, matched_ = 0;
  int status_ = kOk;
};

void Probe::next() {
  if (stopping_) return;
  if (done_ == s_.count) {
    io_.stop();
    return;
  }
  local_port_.reset();
  judging_ = false;
  ep::ClientConfig config;
  config.profile = s_.profile;
  config.host = s_.remote.host;
  config.port = s_.remote.port;
  config.target = s_.target;
  auto& client = *clients_.emplace_back(std::make_unique<ep::Client>(io_, config));
  client.subscribe([this, &client](const ep::Observation& o) {
    if (o.kind == ep::ObservationKind::upgraded) {
      // The peer (and its socket) exists once the handler that logged this returns.
      asio::post(io_, [this, &client] {
        boost::system::error_code ec;
        if (auto p = client.peer()) {
          const auto local = p->stream().socket().local_endpoint(ec);
          if (!ec) local_port_ = local.port();
        }
      });
    }
    if (o.kind == ep::ObservationKind::closed) asio::post(io_, [this] { on_closed(); });
  });
  limit_.expires_after(s_.timeout);
  limit_.async_wait([this, &client](const boost::system::error_code& ec) {
    if (ec || client.finished()) return;
    say(fmt::format("#{}: no close event within {} ms: abandoned\n", done_ + 1,
                    s_.timeout.count()));
    client.stop();
    on_closed();
  });
  client.start();
}

void Probe::on_closed() {
  if (judging_) return;
  judging_ = true;
  limit_.cancel();
  const auto remote = s_.remote;
  const auto local = local_port_;
  watch_.when_complete(
      [remote, local](const std::vector<Connection>& all) {
        std::vector<Connection> mine;
        for (const auto& c : all) {
          if (c.server.ip != remote.host || c.server.port != remote.port) continue;
          if (!local || c.client.port == *local) mine = {c};  // the latest to the remote
        }
        return mine;
      },
      1, kLegBound, [this](std::vector<Connection> legs) { judge(std::move(legs)); });
}

void Probe::judge(std::vector<Connection> legs) {
  ep::Client& client = *clients_.back();
  const auto outcome = client.outcome();
  const unsigned n = ++done_;
  std::string out;
  const ep::Observation* failed =
      client.upgraded() ? nullptr : client.log().first(ep::ObservationKind::read_error);
  if (!client.upgraded()) {
    const ep::Observation* closed = client.log().first(ep::ObservationKind::closed);
    out += fmt::format("#{} {}: no WebSocket: {}\n", n, s_.remote.str(),
                       failed   ? failed->note
                       : closed ? closed->note
                                : "abandoned");
    status_ =
        worst(status_, failed && failed->note.starts_with("connect failed") ? kBadInput
                                                                            : kExpectationFailed);
  } else {
    out += fmt::format("#{} {} observed: {}{}\n", n, to_string(s_.profile),
                       outcome ? describe(*outcome) : "no close event",
                       outcome ? fmt::format(" ({})", outcome->why) : "");
  }
  if (legs.empty()) {
    out += "  the capture holds no packets of this connection (wrong --interface?)\n";
    if (client.upgraded()) status_ = worst(status_, kExpectationFailed);
  } else {
    const Connection& leg = legs.front();
    const report::TextStyle style = report::style_for(stdout);
    const LegView view{"probe", &leg, "client", "server"};
    out += "\n" + report::leg_heading(leg, "leg") + "\n" + report::timeline(leg, view, style);
    if (leg.websocket) out += "\n" + report::verdict_table(leg, style);
    if (client.upgraded()) {
      const Verdict v = closewire::judge(leg, s_.verdict_profile);
      const bool agree =
          outcome && v.closed && outcome->code == v.code && outcome->was_clean == v.was_clean;
      out +=
          fmt::format("\n{}: observed {}, the capture says {}: {}\n", to_string(s_.verdict_profile),
                      outcome ? describe(*outcome) : "no close event", describe(v),
                      agree ? "agree" : "DISAGREE");
      if (agree) {
        ++matched_;
      } else {
        status_ = worst(status_, kExpectationFailed);
      }
    }
  }
  say(out + "\n");
  finished();
}

void Probe::finished() {
  if (stopping_ || done_ == s_.count) {
    io_.stop();
    return;
  }
  pause_.expires_after(s_.interval);
  pause_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) next();
  });
}

void Probe::stop() {
  stopping_ = true;
  pause_.cancel();
  if (!clients_.empty() && !judging_ && done_ < s_.count) {
    clients_.back()->stop();
    on_closed();
  }
  watch_.finish_all();
  io_.stop();
}

}  // namespace

CLI::App* add_probe_command(CLI::App& app, ProbeOptions& opt) {
  auto* cmd = app.add_subcommand(
      "probe", "Connect like a browser and check what it reports against the capture");
  cmd->footer(
      "Connects to URL (ws://HOST[:PORT][/PATH]) like the profile's browser at the socket level,\n"
      "captures its own connection (remote port, on --interface), prints the outcome it observed,\n"
      "the connection's timeline and the verdicts of every profile. A remote gateway needs\n"
      "--allow-remote and the interface that routes there, e.g. --interface eth0.\n"
      "Exit status: 0 the observed outcome equals the verdict for the profile on every\n"
      "connection, 1 otherwise, 2 bad usage or no connection, 3 cannot capture.");
  cmd->add_option("url", opt.url, "ws://HOST[:PORT][/PATH]")->required();
  cmd->add_option("--profile", opt.profile, profile_names())
      ->required()
      ->check(CLI::Validator(
          [](std::string& v) {
            return profile_from_string(v) ? std::string()
                                          : v + " not in {" + profile_names() + "}";
          },
          "PROFILE"));
  cmd->add_option("--count", opt.count, "Connections, one after the other")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  cmd->add_option("--interval", opt.interval, "Pause between one connection's end and the next")
      ->capture_default_str();
  cmd->add_option("--timeout", opt.timeout, "Abandon a connection with no close event by then")
      ->capture_default_str();
  add_standalone_options(*cmd, opt.common, "the connection (remote port)");
  return cmd;
}

int run_probe(const ProbeOptions& opt) {
  std::string error;
  Settings s;
  const auto url = parse_ws_url(opt.url, error);
  std::optional<std::string> host;
  if (url) host = resolve_host(url->host, error);
  if (host) {
    s.remote = HostPort{*host, url->port};
    s.target = url->target;
    error = remote_refusal(s.remote, opt.common.allow_remote, "URL");
  }
  const auto interval = parse_millis(opt.interval);
  const auto timeout = parse_millis(opt.timeout);
  if (error.empty() && !interval)
    error = fmt::format("--interval '{}': expected a duration", opt.interval);
  if (error.empty() && (!timeout || timeout->count() == 0)) {
    error = fmt::format("--timeout '{}': expected a duration above 0", opt.timeout);
  }
  if (!error.empty()) {
    std::fprintf(stderr, "closewire probe: %s\n", error.c_str());
    return kBadInput;
  }
  s.profile = *profile_from_string(opt.profile);
  s.verdict_profile = *profile_from_string(opt.profile);
  s.count = opt.count;
  s.interval = *interval;
  s.timeout = *timeout;

  // The probe needs its capture anyway; without --capture it is a temporary file.
  const bool temporary = opt.common.capture.empty();
  const std::string path = temporary ? (std::filesystem::temp_directory_path() /
                                        fmt::format("closewire-probe-{}.pcap", ::getpid()))
                                           .string()
                                     : opt.common.capture;
  asio::io_context io;
  std::unique_ptr<StandaloneCapture> capture;
  try {
    capture = std::make_unique<StandaloneCapture>(StandaloneCaptureOptions{
        .interface = opt.common.interface,
        .filter = port_filter({s.remote.port},
                              is_loopback(s.remote.host) ? std::string() : s.remote.host),
        .output_path = path});
  } catch (const CaptureEnvironmentError& e) {
    std::fprintf(stderr, "closewire probe: %s\n", e.what());
    return kEnvironment;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire probe: %s\n", e.what());
    return kBadInput;
  }
  LegWatch watch(io, *capture);
  Probe probe(io, s, watch);
  std::string stopped_by;
  StopSignals signals(io, [&](const std::string& name) {
    stopped_by = name;
    probe.stop();
  });
  say(fmt::format("probing {} as {} (capture on {}{})\n", opt.url, opt.profile,
                  opt.common.interface, temporary ? "" : ", into " + path));
  probe.start();
  int status = kOk;
  try {
    io.run();
    status = probe.status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire probe: %s\n", e.what());
    status = kEnvironment;
  }
  signals.cancel();
  try {
    capture->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire probe: %s\n", e.what());
    status = worst(status, kEnvironment);
  }
  if (probe.done() < s.count) status = worst(status, kExpectationFailed);
  say(fmt::format("probe{}: {} of {} connections agree with the {} verdict{}\n",
                  stopped_by.empty() ? "" : " (stopped by " + stopped_by + ")", probe.matched(),
                  s.count, opt.profile,
                  temporary ? "" : fmt::format("; replay with 'closewire replay {}'", path)));
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  return status;
}

}  // namespace closewire::cli
