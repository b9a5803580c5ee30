// The proxy models between a profile client and the seed server: Envoy's delayed close
// (docs/close-semantics.md §2, §5), the plain TCP relay's close modes and faults.
#include "harness/endpoints/proxy_model.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "tests/endpoints/chain.h"
#include "tests/support/timing.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::find;
using testing::find_close_frame;
using testing::ms_between;
using testing::run_until;
using testing::start_client;

EnvoyModel old_envoy(std::chrono::milliseconds timeout = 1000ms) {
  EnvoyModel c;
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
  double downstream_close_lag(ProxyListener& p) {
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
  std::vector<std::unique_ptr<ProxyListener>> proxies;
  std::vector<std::unique_ptr<Client>> clients;
};

TEST_F(EnvoyProxyTest, OldEnvoyDelaysTheDownstreamCloseByItsTimeout) {
  auto& envoy = proxies.emplace_back(start_proxy(io, old_envoy(), server->endpoint()));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();

  EXPECT_NE(find(envoy->log(), K::upgraded, "upstream"), nullptr) << dump();
  double lag = downstream_close_lag(*envoy);
  EXPECT_GE(lag, 950.0) << dump();
  EXPECT_LE(lag, 1000.0 + closewire::testing::late(100)) << dump();
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
  auto& envoy = proxies.emplace_back(start_proxy(io, old_envoy(), server->endpoint()));
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
  EXPECT_LE(ms_between(client_closed->at, proxy_closed->at), closewire::testing::late(20))
      << dump();
  EXPECT_LE(downstream_close_lag(*envoy), closewire::testing::late(500));
  EXPECT_NE(client->log().first(K::timeout), nullptr);
}

TEST_F(EnvoyProxyTest, IstioChainOutlastsChromesCloseTimeout) {
  // client -> gateway -> sidecar -> server, 1 s each and 20 ms per hop: the gateway would close
  // at about reply + 2.08 s, so the browser's own 2 s timeout fires first (§5).
  auto sidecar_cfg = old_envoy();
  sidecar_cfg.latency = 20ms;
  auto& sidecar = proxies.emplace_back(start_proxy(io, sidecar_cfg, server->endpoint()));
  auto gateway_cfg = old_envoy();
  gateway_cfg.latency = 20ms;
  auto& gateway = proxies.emplace_back(start_proxy(io, gateway_cfg, sidecar->endpoint()));
  clients.push_back(start_client(io, gateway->port(), Profile::chrome));
  clients.push_back(start_client(io, gateway->port(), Profile::chrome_legacy));
  clients.push_back(start_client(io, gateway->port(), Profile::firefox));
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
    EXPECT_LE(waited, 2000.0 + closewire::testing::late(50));
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
  auto& envoy = proxies.emplace_back(start_proxy(io, old_envoy(0ms), server->endpoint()));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  EXPECT_LE(downstream_close_lag(*envoy), closewire::testing::late(5)) << dump();
  auto out = client->outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_TRUE(out->was_clean);
}

TEST_F(EnvoyProxyTest, NoDelayCloseForUpgradesIgnoresTheTimeout) {
  auto cfg = old_envoy(1000ms);
  cfg.no_delay_close_for_upgrades = true;
  auto& envoy = proxies.emplace_back(start_proxy(io, cfg, server->endpoint()));
  auto& client = clients.emplace_back(start_client(io, envoy->port()));
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  EXPECT_LE(downstream_close_lag(*envoy), closewire::testing::late(5)) << dump();
  EXPECT_NE(find(envoy->log(), K::close_started, "downstream", "flush-write"), nullptr);
  EXPECT_TRUE(EnvoyModel{}.no_delay_close_for_upgrades);  // Envoy >= 1.23's default
}

TEST_F(EnvoyProxyTest, BytesSentDuringTheDelayTurnItsCloseIntoRst) {
  // §5, third mechanism: a ping in the delay stays unread, the plain close() becomes an RST, and
  // current Chrome reports 4321, not clean.
  auto& envoy = proxies.emplace_back(start_proxy(io, old_envoy(), server->endpoint()));
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
  auto& envoy = proxies.emplace_back(start_proxy(io, old_envoy(), server->endpoint()));
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

// PR #28817's guard: a server that resets right behind its Close. With the guard Envoy resets the
// client too (every Chrome: 1006); without it, FlushWrite ends with a FIN (Chrome: the code).
TEST_F(EnvoyProxyTest, UpstreamResetResetsTheClientOnlyWithTheGuard) {
  ServerConfig resetting;
  resetting.on_open = {Action::close(4321, "test"), Action::close_socket(CloseMode::rst)};
  server = std::make_unique<Server>(io, resetting);
  for (const bool guard : {true, false}) {
    SCOPED_TRACE(guard);
    EnvoyModel cfg;
    cfg.reset_on_upstream_reset = guard;
    auto& envoy = proxies.emplace_back(start_proxy(io, cfg, server->endpoint()));
    auto& client = clients.emplace_back(start_client(io, envoy->port()));
    ASSERT_TRUE(run_until(
        io, [&] { return client->finished(); }, 3000ms))
        << dump();
    const Observation* fault = find(envoy->log(), K::fault, "downstream", "upstream reset");
    EXPECT_EQ(fault != nullptr, guard) << dump();
    auto out = client->outcome();
    ASSERT_TRUE(out);
    EXPECT_EQ(out->code, guard ? 1006 : 4321) << out->why << "\n" << dump();
    EXPECT_NE(find_close_frame(client->log(), K::frame_received), nullptr) << dump();
  }
}

TEST_F(EnvoyProxyTest, AddedLatencyDelaysEachDirection) {
  auto cfg = old_envoy(0ms);
  cfg.latency = 15ms;
  auto& envoy = proxies.emplace_back(start_proxy(io, cfg, server->endpoint()));
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
  EXPECT_LE(ms_between(sent->at, got->at), 15.0 + closewire::testing::late(25));
}

class TcpProxyTest : public ::testing::Test {
 protected:
  ProxyListener& make_proxy(const TcpModel& model) {
    proxy = start_proxy(io, model, server->endpoint());
    return *proxy;
  }
  Client& run_client(Profile profile = Profile::chrome) {
    auto& c = clients.emplace_back(start_client(io, proxy->port(), profile));
    EXPECT_TRUE(run_until(
        io, [&] { return c->finished(); }, 3000ms, "client finished"))
        << dump();
    return *c;
  }
  std::string dump() {
    std::string out = "server:\n" + server->log().dump(origin);
    if (proxy) out += "proxy:\n" + proxy->log().dump(origin);
    for (auto& c : clients) out += "client:\n" + c->log().dump(origin);
    return out;
  }

  asio::io_context io;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server = std::make_unique<Server>(io, ServerConfig{});
  std::unique_ptr<ProxyListener> proxy;
  std::vector<std::unique_ptr<Client>> clients;
};

TEST_F(TcpProxyTest, FinRelayIsClean) {
  make_proxy({});
  auto& c = run_client();
  auto out = c.outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_TRUE(out->was_clean);
}

TEST_F(TcpProxyTest, RstStraightBehindTheCloseFrameIs1006ForChrome) {
  // The RST follows the forwarded Close frame before the client could answer: the reply's write
  // fails, so it never reaches the wire (docs/close-semantics.md §4).
  TcpModel cfg;
  cfg.to_client.reset_behind_close = true;
  make_proxy(cfg);
  auto& c = run_client(Profile::chrome);
  auto out = c.outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 1006) << out->why << "\n" << dump();
  EXPECT_FALSE(out->was_clean);
  auto* failed = c.log().first(K::write_failed);
  ASSERT_NE(failed, nullptr) << dump();
  EXPECT_EQ(failed->error, ECONNRESET) << dump();  // the first write after the RST
  EXPECT_EQ(find_close_frame(c.log(), K::frame_sent), nullptr);
  EXPECT_NE(find_close_frame(c.log(), K::frame_received), nullptr);  // read despite the RST
  EXPECT_NE(find(proxy->log(), K::fault, "downstream", "behind the Close frame"), nullptr);
}

TEST_F(TcpProxyTest, RstBehindTheCloseFrameUnderEachProfile) {
  TcpModel cfg;
  cfg.to_client.reset_behind_close = true;
  make_proxy(cfg);
  struct Row {
    Profile profile;
    std::uint16_t code;
    bool clean;
  };
  for (Row row : {Row{Profile::chrome_legacy, 1006, false}, Row{Profile::firefox, 4321, false},
                  Row{Profile::safari, 4321, true}, Row{Profile::rfc, 4321, false}}) {
    auto& c = run_client(row.profile);
    auto out = c.outcome();
    ASSERT_TRUE(out) << to_string(row.profile);
    EXPECT_EQ(out->code, row.code) << to_string(row.profile) << ": " << out->why;
    EXPECT_EQ(out->was_clean, row.clean) << to_string(row.profile) << ": " << out->why;
  }
}

TEST_F(TcpProxyTest, RstAfterTheReplyIsNotCleanButKeepsTheCode) {
  // The seed server's FIN comes after the reply, so an RST then reaches a client that has
  // replied: current Chrome reads ECONNRESET -> 4321, not clean.
  TcpModel cfg;
  cfg.on_upstream_close = CloseMode::rst;
  make_proxy(cfg);
  auto& c = run_client();
  auto* err = c.log().first(K::read_error);
  ASSERT_NE(err, nullptr) << dump();
  EXPECT_EQ(err->error, ECONNRESET);
  auto out = c.outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_FALSE(out->was_clean) << out->why;
}

TEST_F(TcpProxyTest, CloseUnreadResetsTheClient) {
  TcpModel cfg;
  cfg.on_upstream_close = CloseMode::close_unread;
  make_proxy(cfg);
  auto& c = clients.emplace_back(start_client(io, proxy->port()));
  // The client sends once the proxy stopped reading: those bytes stay unread.
  proxy->log().subscribe([&](const Observation& o) {
    if (o.kind == K::close_started && o.side == "downstream" && c->peer()) c->peer()->send_ping();
  });
  ASSERT_TRUE(run_until(
      io, [&] { return c->finished(); }, 3000ms))
      << dump();
  auto* err = c->log().first(K::read_error);
  ASSERT_NE(err, nullptr) << dump();
  EXPECT_EQ(err->error, ECONNRESET);
  EXPECT_NE(find(proxy->log(), K::closed, "downstream", "bytes unread"), nullptr) << dump();
  auto out = c->outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_FALSE(out->was_clean);
}

TEST_F(TcpProxyTest, HalfCloseAtOnceThenFullCloseAtTheClientsFin) {
  TcpModel cfg;
  cfg.on_upstream_close = CloseMode::half_close;
  make_proxy(cfg);
  auto& c = run_client();
  auto out = c.outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_TRUE(out->was_clean);
  ASSERT_TRUE(run_until(
      io, [&] { return find(proxy->log(), K::closed, "downstream"); }, 1000ms));
  auto* half = find(proxy->log(), K::half_closed, "downstream");
  auto* closed = find(proxy->log(), K::closed, "downstream");
  ASSERT_TRUE(half && closed) << dump();
  EXPECT_LE(half->at, c.log().first(K::closed)->at);
  EXPECT_NE(closed->note.find("peer's FIN"), std::string::npos) << dump();
}

TEST_F(TcpProxyTest, DelayedModeWaitsItsDuration) {
  TcpModel cfg;
  cfg.on_upstream_close = CloseMode::delayed;
  cfg.close_delay = 300ms;
  make_proxy(cfg);
  auto& c = run_client();
  auto* eof = find(proxy->log(), K::eof, "upstream");
  auto* closed = find(proxy->log(), K::closed, "downstream");
  ASSERT_TRUE(eof && closed) << dump();
  double lag = ms_between(eof->at, closed->at);
  EXPECT_GE(lag, 295.0);
  EXPECT_LE(lag, 300.0 + closewire::testing::late(100));
  EXPECT_TRUE(c.outcome()->was_clean);
}

TEST_F(TcpProxyTest, ResetAfterBytesCutsTheUpgrade) {
  TcpModel cfg;
  cfg.to_client.reset_after_bytes = 12;  // "HTTP/1.1 101" and no more
  make_proxy(cfg);
  auto& c = run_client();
  EXPECT_FALSE(c.upgraded());
  auto out = c.outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 1006);
  EXPECT_NE(find(proxy->log(), K::fault, "downstream", "rst after 12 bytes"), nullptr) << dump();
}

// A load balancer's idle timeout: silence for idle_timeout closes both sides, with no Close frame.
TEST_F(TcpProxyTest, IdleTimeoutClosesBothSidesWithoutACloseFrame) {
  ServerConfig quiet;
  quiet.on_open = {Action::text("hi")};
  server = std::make_unique<Server>(io, quiet);
  TcpModel cfg;
  cfg.idle_timeout = 200ms;
  make_proxy(cfg);
  auto& c = run_client(Profile::chrome);
  auto out = c.outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 1006) << out->why;
  EXPECT_FALSE(out->was_clean);
  EXPECT_EQ(find_close_frame(c.log(), K::frame_received), nullptr) << dump();
  const Observation* down = find(proxy->log(), K::fault, "downstream", "idle timeout");
  const Observation* up = find(proxy->log(), K::fault, "upstream", "idle timeout");
  ASSERT_TRUE(down && up) << dump();
  const Observation* hi = c.log().first(K::frame_received);
  ASSERT_NE(hi, nullptr);
  EXPECT_NEAR(ms_between(hi->at, down->at), 200.0, closewire::testing::late(30)) << dump();
  ASSERT_TRUE(run_until(
      io, [&] { return server->log().first(K::eof) != nullptr; }, 1000ms))
      << dump();
}

TEST_F(TcpProxyTest, LatencyIsPerDirection) {
  TcpModel cfg;
  cfg.to_client.latency = 25ms;
  make_proxy(cfg);
  auto& c = run_client();
  auto* sent = find_close_frame(server->log(), K::frame_sent);
  auto* got = find_close_frame(c.log(), K::frame_received);
  auto* reply_sent = find_close_frame(c.log(), K::frame_sent);
  auto* reply_got = find_close_frame(server->log(), K::frame_received);
  ASSERT_TRUE(sent && got && reply_sent && reply_got) << dump();
  EXPECT_GE(ms_between(sent->at, got->at), 24.0);
  EXPECT_LE(ms_between(reply_sent->at, reply_got->at), closewire::testing::late(10));
}

}  // namespace
}  // namespace closewire::endpoints
