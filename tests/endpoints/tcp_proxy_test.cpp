// The plain TCP relay's close modes and faults, between a profile client and the seed server.
#include "harness/endpoints/tcp_proxy.h"

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

class TcpProxyTest : public ::testing::Test {
 protected:
  TcpProxy& make_proxy(TcpProxyConfig cfg) {
    cfg.upstream = server->endpoint();
    proxy = std::make_unique<TcpProxy>(io, cfg);
    return *proxy;
  }
  Client& run_client(ClientProfile profile = ClientProfile::chrome) {
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
  std::unique_ptr<TcpProxy> proxy;
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
  // fails, so it never reaches the wire (close-semantics.md §4).
  TcpProxyConfig cfg;
  cfg.to_downstream.reset_behind_close = true;
  make_proxy(cfg);
  auto& c = run_client(ClientProfile::chrome);
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
  TcpProxyConfig cfg;
  cfg.to_downstream.reset_behind_close = true;
  make_proxy(cfg);
  struct Row {
    ClientProfile profile;
    std::uint16_t code;
    bool clean;
  };
  for (Row row :
       {Row{ClientProfile::chrome_legacy, 1006, false}, Row{ClientProfile::firefox, 4321, false},
        Row{ClientProfile::safari, 4321, true}, Row{ClientProfile::rfc, 4321, false}}) {
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
  TcpProxyConfig cfg;
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
  TcpProxyConfig cfg;
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
  TcpProxyConfig cfg;
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
  TcpProxyConfig cfg;
  cfg.on_upstream_close = CloseMode::delayed;
  cfg.close_delay = 300ms;
  make_proxy(cfg);
  auto& c = run_client();
  auto* eof = find(proxy->log(), K::eof, "upstream");
  auto* closed = find(proxy->log(), K::closed, "downstream");
  ASSERT_TRUE(eof && closed) << dump();
  double lag = ms_between(eof->at, closed->at);
  EXPECT_GE(lag, 295.0);
  EXPECT_LE(lag, 400.0);
  EXPECT_TRUE(c.outcome()->was_clean);
}

TEST_F(TcpProxyTest, ResetAfterBytesCutsTheUpgrade) {
  TcpProxyConfig cfg;
  cfg.to_downstream.reset_after_bytes = 12;  // "HTTP/1.1 101" and no more
  make_proxy(cfg);
  auto& c = run_client();
  EXPECT_FALSE(c.upgraded());
  auto out = c.outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 1006);
  EXPECT_NE(find(proxy->log(), K::fault, "downstream", "rst after 12 bytes"), nullptr) << dump();
}

TEST_F(TcpProxyTest, LatencyIsPerDirection) {
  TcpProxyConfig cfg;
  cfg.to_downstream.latency = 25ms;
  make_proxy(cfg);
  auto& c = run_client();
  auto* sent = find_close_frame(server->log(), K::frame_sent);
  auto* got = find_close_frame(c.log(), K::frame_received);
  auto* reply_sent = find_close_frame(c.log(), K::frame_sent);
  auto* reply_got = find_close_frame(server->log(), K::frame_received);
  ASSERT_TRUE(sent && got && reply_sent && reply_got) << dump();
  EXPECT_GE(ms_between(sent->at, got->at), 24.0);
  EXPECT_LE(ms_between(reply_sent->at, reply_got->at), 10.0);
}

}  // namespace
}  // namespace closewire::endpoints
