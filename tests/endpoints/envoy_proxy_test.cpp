// The Envoy model between a profile client and the seed server (close-semantics.md §2, §5).
#include "harness/endpoints/envoy_proxy.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "tests/endpoints/chain.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::find;
using testing::find_close_frame;
using testing::ms_between;
using testing::run_until;
using testing::start_client;

EnvoyConfig old_envoy(tcp::endpoint upstream, std::chrono::milliseconds timeout = 1000ms) {
  EnvoyConfig c;
  c.upstream = upstream;
  c.delayed_close_timeout = timeout;
  c.no_delay_close_for_upgrades = false;
  return c;
}

class EnvoyProxyTest : public ::testing::Test {
 protected:
  std::string dump() {
    std::string out;
    if (server) out += "server:\n" + server->log().dump(origin);
    for (std::size_t i = 0; i < proxies.size(); ++i)
      out += "proxy " + std::to_string(i) + ":\n" + proxies[i]->log().dump(origin);
    for (auto& c : clients) out += "client:\n" + c->log().dump(origin);
    return out;
  }
  // Upstream EOF at the proxy -> its downstream socket closed.
  double downstream_close_lag(EnvoyProxy& p) {
    auto* eof = find(p.log(), K::eof, "upstream");
    auto* closed = find(p.log(), K::closed, "downstream");
    EXPECT_TRUE(eof && closed) << dump();
    return eof && closed ? ms_between(eof->at, closed->at) : -1;
  }
  bool all_finished() {
    for (auto& c : clients)
      if (!c->finished()) return false;
    return true;
  }

  asio::io_context io;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server = std::make_unique<Server>(io, ServerConfig{});
  std::vector<std::unique_ptr<EnvoyProxy>> proxies;
  std::vector<std::unique_ptr<Client>> clients;
};

TEST_F(EnvoyProxyTest, OldEnvoyDelaysTheDownstreamCloseByItsTimeout) {
  auto& envoy =
      proxies.emplace_back(std::make_unique<EnvoyProxy>(io, old_envoy(server->endpoint())));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();

  EXPECT_NE(find(envoy->log(), K::upgraded, "upstream"), nullptr) << dump();
  double lag = downstream_close_lag(*envoy);
  EXPECT_GE(lag, 950.0) << dump();
  EXPECT_LE(lag, 1100.0) << dump();
  EXPECT_NE(find(envoy->log(), K::delay_ended, "downstream", "timer"), nullptr);
  // One hop at 1 s is within Chrome's 2 s: the proxy's FIN reaches it first.
  auto out = client->outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_TRUE(out->was_clean) << out->why;
  EXPECT_EQ(client->log().count(K::timeout), 0u) << dump();
  EXPECT_NE(client->log().first(K::eof), nullptr);
}

TEST_F(EnvoyProxyTest, ClientFinEndsTheDelayAtOnce) {
  auto& envoy =
      proxies.emplace_back(std::make_unique<EnvoyProxy>(io, old_envoy(server->endpoint())));
  ClientConfig cc;
  cc.port = envoy->port();
  cc.close_timeout = 300ms;  // the client closes first, well inside the proxy's 1 s
  auto& client = clients.emplace_back(std::make_unique<Client>(io, cc));
  client->start();
  ASSERT_TRUE(run_until(
      io, [&] { return find(envoy->log(), K::closed, "downstream") != nullptr; }, 2000ms))
      << dump();

  auto* client_closed = client->log().first(K::closed);
  auto* proxy_closed = find(envoy->log(), K::closed, "downstream");
  ASSERT_TRUE(client_closed && proxy_closed);
  EXPECT_NE(find(envoy->log(), K::delay_ended, "downstream", "peer fin"), nullptr) << dump();
  EXPECT_GE(ms_between(client_closed->at, proxy_closed->at), 0.0);
  EXPECT_LE(ms_between(client_closed->at, proxy_closed->at), 20.0) << dump();
  EXPECT_LE(downstream_close_lag(*envoy), 500.0);
  EXPECT_NE(client->log().first(K::timeout), nullptr);
}

TEST_F(EnvoyProxyTest, IstioChainOutlastsChromesCloseTimeout) {
  // client -> gateway -> sidecar -> server, 1 s each and 20 ms per hop: the gateway would close
  // at about reply + 2.08 s, so the browser's own 2 s timeout fires first (§5).
  auto sidecar_cfg = old_envoy(server->endpoint());
  sidecar_cfg.added_latency = 20ms;
  auto& sidecar = proxies.emplace_back(std::make_unique<EnvoyProxy>(io, sidecar_cfg));
  auto gateway_cfg = old_envoy(sidecar->endpoint());
  gateway_cfg.added_latency = 20ms;
  auto& gateway = proxies.emplace_back(std::make_unique<EnvoyProxy>(io, gateway_cfg));
  clients.push_back(start_client(io, gateway->port(), ClientProfile::chrome));
  clients.push_back(start_client(io, gateway->port(), ClientProfile::chrome_legacy));
  clients.push_back(start_client(io, gateway->port(), ClientProfile::firefox));
  ASSERT_TRUE(run_until(
      io, [&] { return all_finished() && gateway->log().count(K::closed, "downstream") == 3; },
      3500ms))
      << dump();

  for (std::size_t i : {0u, 1u}) {
    auto& c = clients[i];
    auto* reply = find_close_frame(c->log(), K::frame_sent);
    auto* timeout = c->log().first(K::timeout);
    ASSERT_TRUE(reply && timeout) << dump();
    double waited = ms_between(reply->at, timeout->at);
    EXPECT_GE(waited, 1995.0);
    EXPECT_LE(waited, 2050.0);
  }
  auto chrome = clients[0]->outcome();
  auto legacy = clients[1]->outcome();
  auto firefox = clients[2]->outcome();
  ASSERT_TRUE(chrome && legacy && firefox);
  EXPECT_EQ(chrome->code, 4321);
  EXPECT_TRUE(chrome->was_clean);
  EXPECT_EQ(legacy->code, 1006);  // the seed report's symptom
  EXPECT_FALSE(legacy->was_clean);
  EXPECT_EQ(firefox->code, 4321);
  EXPECT_TRUE(firefox->was_clean);
  // The chrome clients' FINs ended the gateway's delay on their connections.
  std::size_t by_peer = 0;
  for (const auto& o : gateway->log().entries())
    if (o.kind == K::delay_ended && o.side == "downstream" && o.note == "peer fin") ++by_peer;
  EXPECT_EQ(by_peer, 2u) << dump();
}

TEST_F(EnvoyProxyTest, ZeroTimeoutClosesRightAfterTheFlush) {
  auto& envoy =
      proxies.emplace_back(std::make_unique<EnvoyProxy>(io, old_envoy(server->endpoint(), 0ms)));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  EXPECT_LE(downstream_close_lag(*envoy), 5.0) << dump();
  auto out = client->outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_TRUE(out->was_clean);
}

TEST_F(EnvoyProxyTest, NoDelayCloseForUpgradesIgnoresTheTimeout) {
  auto cfg = old_envoy(server->endpoint(), 1000ms);
  cfg.no_delay_close_for_upgrades = true;
  auto& envoy = proxies.emplace_back(std::make_unique<EnvoyProxy>(io, cfg));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  EXPECT_LE(downstream_close_lag(*envoy), 5.0) << dump();
  EXPECT_NE(find(envoy->log(), K::close_started, "downstream", "flush-write"), nullptr);
  EXPECT_TRUE(EnvoyConfig{}.no_delay_close_for_upgrades);  // Envoy >= 1.23's default
}

TEST_F(EnvoyProxyTest, BytesSentDuringTheDelayTurnItsCloseIntoRst) {
  // §5, third mechanism: a ping in the delay stays unread, the plain close() becomes an RST, and
  // current Chrome reports 4321, not clean.
  auto& envoy =
      proxies.emplace_back(std::make_unique<EnvoyProxy>(io, old_envoy(server->endpoint())));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  envoy->log().subscribe([&](const Observation& o) {
    if (o.kind == K::close_started && o.side == "downstream" && client->peer())
      client->peer()->send_ping("late");
  });
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  auto* err = client->log().first(K::read_error);
  ASSERT_NE(err, nullptr) << dump();
  EXPECT_EQ(err->error, ECONNRESET);
  auto out = client->outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_FALSE(out->was_clean) << out->why;
  EXPECT_NE(find(envoy->log(), K::closed, "downstream", "after the delay"), nullptr) << dump();
}

TEST_F(EnvoyProxyTest, DownstreamFinClosesTheUpstream) {
  ServerConfig quiet;
  quiet.on_open = {};
  server = std::make_unique<Server>(io, quiet);
  auto& envoy =
      proxies.emplace_back(std::make_unique<EnvoyProxy>(io, old_envoy(server->endpoint())));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->upgraded() && server->connections() == 1; }, 1000ms));
  client->peer()->close_plain("test closes the client");
  ASSERT_TRUE(run_until(
      io, [&] { return server->log().first(K::closed) != nullptr; }, 1000ms))
      << dump();
  EXPECT_NE(server->log().first(K::eof), nullptr) << dump();
  EXPECT_NE(find(envoy->log(), K::closed, "upstream"), nullptr);
}

TEST_F(EnvoyProxyTest, AddedLatencyDelaysEachDirection) {
  auto cfg = old_envoy(server->endpoint(), 0ms);
  cfg.added_latency = 15ms;
  auto& envoy = proxies.emplace_back(std::make_unique<EnvoyProxy>(io, cfg));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  auto* sent = find_close_frame(server->log(), K::frame_sent);
  auto* got = find_close_frame(client->log(), K::frame_received);
  auto* reply_sent = find_close_frame(client->log(), K::frame_sent);
  auto* reply_got = find_close_frame(server->log(), K::frame_received);
  ASSERT_TRUE(sent && got && reply_sent && reply_got) << dump();
  EXPECT_GE(ms_between(sent->at, got->at), 14.0);
  EXPECT_GE(ms_between(reply_sent->at, reply_got->at), 14.0);
  EXPECT_LE(ms_between(sent->at, got->at), 40.0);
}

}  // namespace
}  // namespace closewire::endpoints
