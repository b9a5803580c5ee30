#include "harness/standalone/accounts.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "harness/report/verdict_line.h"
#include "harness/standalone/connection_summary.h"

namespace closewire::standalone {
namespace {

namespace ep = endpoints;

// The n-th leg (in SYN order) whose server side is `server`.
std::vector<Connection> nth_to(const std::vector<Connection>& all, const Endpoint& server,
                               std::size_t n) {
  std::size_t seen = 0;
  for (const auto& c : all) {
    if (c.server == server && seen++ == n) return {c};
  }
  return {};
}

}  // namespace

ServerAccounts::ServerAccounts(Session& session, ep::Server& server, Endpoint bound)
    : session_(session), server_(server), bound_(std::move(bound)) {
  server_.subscribe([this](const ep::Observation& o) {
    if (o.kind == ep::ObservationKind::upgraded && server_.connections() > 0) {
      // The session was added just before this entry: the last one is this connection.
      boost::system::error_code ec;
      const auto remote =
          server_.peer(server_.connections() - 1)->stream().socket().remote_endpoint(ec);
      if (!ec) peers_[o.connection] = Endpoint{remote.address().to_string(), remote.port()};
    }
    // Posted: the handler that logged "closed" finishes first.
    if (o.kind == ep::ObservationKind::closed) {
      boost::asio::post(session_.io(), [this, i = o.connection] { report(i, ""); });
    }
  });
}

void ServerAccounts::report(std::size_t i, const std::string& extra) {
  if (reported_[i]) return;
  reported_[i] = true;
  const auto peer = peers_.count(i) ? std::optional<Endpoint>(peers_[i]) : std::nullopt;
  const std::string summary = connection_summary(server_.log().entries(), i) + extra;
  const double ms = connection_ms(server_.log().entries(), i);
  auto select = [peer, port = bound_.port](const std::vector<Connection>& all) {
    std::vector<Connection> mine;
    for (const auto& c : all) {
      if (peer && c.client == *peer && c.server.port == port) mine = {c};  // the latest one
    }
    return mine;
  };
  session_.report(select, 1, [=](const std::vector<Connection>& legs) {
    std::string line = fmt::format("#{} {}  {}  ({:.1f} ms)", i + 1,
                                   peer ? peer->str() : std::string("(no upgrade)"), summary, ms);
    if (!legs.empty() && legs[0].websocket)
      line += "\n  verdicts: " + report::verdict_line(legs[0]);
    return line;
  });
}

void ServerAccounts::stop() {
  // Server::stop logs nothing more: account for the connections it closes here.
  server_.stop();
  for (const auto& [i, peer] : peers_) {
    if (!reported_[i]) report(i, "; closed by the stop");
  }
}

std::string ServerAccounts::summary() const {
  return fmt::format("{} connections", server_.log().count(ep::ObservationKind::connected));
}

RelayAccounts::RelayAccounts(Session& session, ep::ProxyListener& proxy, Endpoint bound,
                             Endpoint upstream)
    : session_(session),
      proxy_(proxy),
      bound_(std::move(bound)),
      upstream_(std::move(upstream)) {
  proxy_.log().subscribe([this](const ep::Observation& o) {
    Relayed& r = relayed_[o.connection];
    const bool up = o.side == "upstream";
    if (o.kind == ep::ObservationKind::connected && up) {
      r.up_connected = true;
      r.up_order = upstream_connections_++;
    }
    if (o.kind != ep::ObservationKind::closed) return;
    (up ? r.up_closed : r.down_closed) = true;
    if (r.down_closed && (r.up_closed || !r.up_connected)) {
      boost::asio::post(session_.io(), [this, i = o.connection] { report(i, ""); });
    }
  });
}

void RelayAccounts::report(std::size_t i, const std::string& extra) {
  Relayed& r = relayed_[i];
  if (r.reported) return;
  r.reported = true;
  const auto& log = proxy_.log().entries();
  const std::string down = connection_summary(log, i, "downstream");
  const std::string up = r.up_connected ? connection_summary(log, i, "upstream") : "not connected";
  const double ms = connection_ms(log, i);
  auto select = [bound = bound_, upstream = upstream_, i, up_order = r.up_order,
                 has_up = r.up_connected](const std::vector<Connection>& all) {
    std::vector<Connection> mine = nth_to(all, bound, i);
    if (has_up) {
      for (auto& c : nth_to(all, upstream, up_order)) mine.push_back(std::move(c));
    }
    return mine;
  };
  session_.report(select, r.up_connected ? 2 : 1,
                  [=, bound = bound_, upstream = upstream_](const std::vector<Connection>& legs) {
                    const std::string from = !legs.empty() && legs[0].server.port == bound.port
                                                 ? legs[0].client.str()
                                                 : "";
                    std::string line = fmt::format(
                        "#{} {}{}→ {}  ({:.1f} ms)\n  downstream: {}\n  upstream:   {}{}", i + 1,
                        from, from.empty() ? "" : " ", upstream.str(), ms, down, up, extra);
                    for (const auto& leg : legs) {
                      if (!leg.websocket) continue;
                      line += fmt::format("\n  {} verdicts: {}",
                                          leg.server.port == bound.port ? "downstream" : "upstream",
                                          report::verdict_line(leg));
                    }
                    return line;
                  });
}

void RelayAccounts::stop() {
  // The relays log nothing once stopped: account for the connections closed here.
  proxy_.stop();
  for (auto& [i, r] : relayed_) {
    if (!r.reported) report(i, "\n  closed by the stop");
  }
}

std::string RelayAccounts::summary() const {
  return fmt::format("{} connections relayed", relayed_.size());
}

}  // namespace closewire::standalone
