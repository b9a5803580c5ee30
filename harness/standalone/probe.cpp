#include "harness/standalone/probe.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <filesystem>

#include "harness/standalone/capture_scope.h"

namespace closewire::standalone {

namespace ep = endpoints;
namespace asio = boost::asio;

namespace {

std::string describe(const ep::ClientOutcome& o) {
  return fmt::format("{}{} {}", o.code ? std::to_string(*o.code) : "none",
                     o.reason.empty() ? "" : fmt::format(" \"{}\"", o.reason),
                     o.was_clean ? "clean" : "not clean");
}

std::string describe(const Verdict& v) {
  if (v.undecided) return "undecided (" + v.why + ")";
  if (!v.closed) return "open (the capture ends first)";
  return fmt::format("{}{} {}", v.code ? std::to_string(*v.code) : "none",
                     v.reason.empty() ? "" : fmt::format(" \"{}\"", v.reason),
                     v.was_clean ? "clean" : "not clean");
}

}  // namespace

Probe::Probe(ProbeSettings settings, Output output)
    : s_(std::move(settings)), output_(std::move(output)), pause_(io_), limit_(io_) {
  capture_ = std::make_unique<LiveCapture>(
      capture_scope({s_.remote.port}, s_.remote.ip, s_.interface, s_.capture_path));
  watch_ = std::make_unique<LegWatch>(io_, *capture_, output_.warn, s_.key_log_path);
}

Probe::~Probe() = default;

std::string Probe::temporary_capture() {
  return (std::filesystem::temp_directory_path() /
          fmt::format("closewire-probe-{}.pcap", ::getpid()))
      .string();
}

void Probe::fail(const std::string& what) {
  output_.warn(fmt::format("closewire probe: {}", what));
}

ProbeResult Probe::run() {
  next();
  try {
    io_.run();
  } catch (const std::exception& e) {
    fail(e.what());
    result_.status = Status::environment;
  }
  try {
    capture_->stop();
  } catch (const std::exception& e) {
    fail(e.what());
    result_.status = worst(result_.status, Status::environment);
  }
  if (result_.done < s_.count) result_.status = worst(result_.status, Status::expectation_failed);
  return result_;
}

void Probe::next() {
  if (stopping_) return;
  if (result_.done == s_.count) {
    io_.stop();
    return;
  }
  local_port_.reset();
  judging_ = false;
  ep::ClientConfig config;
  config.profile = s_.profile;
  config.host = s_.remote.ip;
  config.port = s_.remote.port;
  config.target = s_.target;
  config.tls = s_.tls;
  config.h2 = s_.h2;
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
    if (o.kind == ep::ObservationKind::closed) {
      asio::post(io_, [this, &client] {
        // Over h2 the TCP connection outlives the stream: end it, or its legs never complete.
        if (s_.h2) client.close_h2_connection();
        on_closed();
      });
    }
  });
  limit_.expires_after(s_.timeout);
  limit_.async_wait([this, &client](const boost::system::error_code& ec) {
    if (ec || client.finished()) return;
    output_.say(fmt::format("#{}: no close event within {} ms: abandoned\n", result_.done + 1,
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
  const Endpoint remote = s_.remote;
  const auto local = local_port_;
  watch_->when_complete(
      [remote, local](const std::vector<Connection>& all) {
        std::vector<Connection> mine;
        for (const auto& c : all) {
          if (c.server != remote) continue;
          if (!local || c.client.port == *local) mine = {c};  // the latest to the remote
        }
        return mine;
      },
      1, kProbeLegBound, [this](std::vector<Connection> legs) { judge(std::move(legs)); });
}

void Probe::judge(std::vector<Connection> legs) {
  ep::Client& client = *clients_.back();
  const auto outcome = client.outcome();
  const unsigned n = ++result_.done;
  Status& status = result_.status;
  std::string out;
  const ep::Observation* failed =
      client.upgraded() ? nullptr : client.log().first(ep::ObservationKind::read_error);
  if (!client.upgraded()) {
    const ep::Observation* closed = client.log().first(ep::ObservationKind::closed);
    out += fmt::format("#{} {}: no WebSocket: {}\n", n, s_.remote.str(),
                       failed   ? failed->note
                       : closed ? closed->note
                                : "abandoned");
    status = worst(status, failed && failed->note.starts_with("connect failed")
                               ? Status::bad_input
                               : Status::expectation_failed);
  } else {
    out += fmt::format("#{} {} observed: {}{}\n", n, to_string(s_.profile),
                       outcome ? describe(*outcome) : "no close event",
                       outcome ? fmt::format(" ({})", outcome->why) : "");
  }
  if (legs.empty()) {
    out += "  the capture holds no packets of this connection (wrong --interface?)\n";
    if (client.upgraded()) status = worst(status, Status::expectation_failed);
  } else {
    const Connection& leg = legs.front();
    const report::TextStyle& style = s_.style;
    const LegView view{"probe", &leg, "client", "server"};
    out += "\n" + report::leg_heading(leg, "leg") + "\n" + report::timeline(leg, view, style);
    if (leg.websocket) out += "\n" + report::verdict_table(leg, style);
    if (client.upgraded()) {
      const Verdict v = closewire::judge(leg, s_.verdict_profile);
      const bool agree = ep::agrees(outcome, v);
      out +=
          fmt::format("\n{}: observed {}, the capture says {}: {}\n", to_string(s_.verdict_profile),
                      outcome ? describe(*outcome) : "no close event", describe(v),
                      agree ? "agree" : "DISAGREE");
      if (agree) {
        ++result_.matched;
      } else {
        status = worst(status, Status::expectation_failed);
      }
    }
  }
  output_.say(out + "\n");
  finished();
}

void Probe::finished() {
  if (stopping_ || result_.done == s_.count) {
    io_.stop();
    return;
  }
  pause_.expires_after(s_.interval);
  pause_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) next();
  });
}

void Probe::stop(const std::string& by) {
  result_.stopped_by = by;
  stopping_ = true;
  pause_.cancel();
  if (!clients_.empty() && !judging_ && result_.done < s_.count) {
    clients_.back()->stop();
    on_closed();
  }
  watch_->finish_all();
  io_.stop();
}

}  // namespace closewire::standalone
