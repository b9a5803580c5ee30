// The relay's own contract (relay.h), with hand-made RelayConfigs between raw loopback sockets (no
// proxy model, no WebSocket peer): bytes both ways in order, when it connects upstream, how each
// SideClose looks from the far side, per-direction latency, the two reset faults, and what its
// observations say. The models built on it are tested in proxy_model_test.cpp.
#include "harness/endpoints/relay.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "harness/endpoints/listener.h"
#include "harness/endpoints/proxy_listener.h"
#include "harness/endpoints/proxy_model.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"
#include "tests/endpoints/chain.h"
#include "tests/endpoints/raw_end.h"
#include "tests/endpoints/tls_fixture.h"
#include "tests/support/timing.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::find;
using testing::ms_between;
using testing::RawEnd;
using testing::run_until;

const std::string kRequestHead =
    "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const std::string kResponseHead =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

// Frames as a client (masked) or a server (unmasked) puts them on the wire.
std::string from_client(wire::Opcode op, std::string_view payload) {
  return wire::encode_frame(op, payload, true, std::array<std::uint8_t, 4>{7, 1, 9, 3});
}
std::string from_server(wire::Opcode op, std::string_view payload) {
  return wire::encode_frame(op, payload);
}
std::string close_from_server(std::uint16_t code, std::string_view reason) {
  return from_server(wire::Opcode::close, wire::encode_close_payload(code, reason));
}

// The first observation of `kind` on `side` of connection `connection`.
const Observation* find_on(const ObservationLog& log, K kind, std::string_view side,
                           std::size_t connection) {
  for (const auto& o : log.entries())
    if (o.kind == kind && o.side == side && o.connection == connection) return &o;
  return nullptr;
}

class RelayTest : public ::testing::Test {
 protected:
  // A ProxyListener with `cfg` toward the test's upstream acceptor (unless cfg names another).
  void start(RelayConfig cfg) {
    if (cfg.upstream.port() == 0) cfg.upstream = upstream_acceptor.local_endpoint();
    proxy = std::make_unique<ProxyListener>(io, "127.0.0.1", 0, std::move(cfg));
    accept_upstream();
  }
  void accept_upstream() {
    upstream_acceptor.async_accept([this](const error_code& ec, tcp::socket s) {
      if (ec) return;
      servers.push_back(testing::make_raw_end(std::move(s), "server"));
      servers.back()->stream->start_reading();
      accept_upstream();
    });
  }
  RawEnd& connect_client(std::optional<int> rcvbuf = std::nullopt) {
    clients.push_back(testing::connect_raw(io, proxy->endpoint(), rcvbuf));
    return *clients.back();
  }
  ::testing::AssertionResult wait(const std::function<bool()>& done, const std::string& what,
                                  std::chrono::milliseconds limit = 2000ms) {
    return run_until(io, done, limit, what);
  }
  // Client i sends the request head, server i answers 101; both arrive unchanged. Clears both
  // ends' data afterwards.
  ::testing::AssertionResult upgrade(std::size_t i = 0) {
    RawEnd& c = *clients.at(i);
    c.stream->write(kRequestHead);
    auto r =
        wait([&] { return servers.size() > i && servers[i]->data.size() >= kRequestHead.size(); },
             "request head upstream");
    if (!r) return r;
    RawEnd& s = *servers[i];
    s.stream->write(kResponseHead);
    r = wait([&] { return c.data.size() >= kResponseHead.size(); }, "101 downstream");
    if (!r) return r;
    if (s.data != kRequestHead || c.data != kResponseHead)
      return ::testing::AssertionFailure() << "a head changed on the way:\n" << s.data << c.data;
    s.data.clear();
    c.data.clear();
    return ::testing::AssertionSuccess();
  }
  std::string dump() {
    std::string out = proxy ? "proxy:\n" + proxy->log().dump(origin) : "";
    for (std::size_t i = 0; i < clients.size(); ++i)
      out += "client " + std::to_string(i) + ":\n" + clients[i]->log.dump(origin);
    for (std::size_t i = 0; i < servers.size(); ++i)
      out += "server " + std::to_string(i) + ":\n" + servers[i]->log.dump(origin);
    return out;
  }

  asio::io_context io;
  Clock::time_point origin = Clock::now();
  tcp::acceptor upstream_acceptor = listen_on(io, "127.0.0.1", 0);
  std::unique_ptr<ProxyListener> proxy;
  std::vector<std::unique_ptr<RawEnd>> clients;
  std::vector<std::unique_ptr<RawEnd>> servers;
};

// ---- relaying ----------------------------------------------------------------------------------

TEST_F(RelayTest, RelaysBytesBothWaysInOrder) {
  // A little latency each way, so that pieces wait in the relay's queues, not only in sockets.
  RelayConfig cfg;
  cfg.to_upstream.latency = 5ms;
  cfg.to_downstream.latency = 5ms;
  start(cfg);
  RawEnd& client = connect_client();
  ASSERT_TRUE(upgrade());
  RawEnd& server = *servers[0];
  // Many writes each way at the same time, one of them far bigger than a socket buffer.
  std::string up, down;
  for (int i = 0; i < 50; ++i) {
    std::string a = from_client(wire::Opcode::text, "up " + std::to_string(i));
    std::string b = from_server(wire::Opcode::text, "down " + std::to_string(i));
    if (i == 25) {
      a = from_client(wire::Opcode::binary, std::string(3 << 20, static_cast<char>('a' + i % 26)));
      b = from_server(wire::Opcode::binary, std::string(3 << 20, static_cast<char>('A' + i % 26)));
    }
    client.stream->write(a);
    server.stream->write(b);
    up += a;
    down += b;
  }
  ASSERT_TRUE(
      wait([&] { return server.data.size() >= up.size() && client.data.size() >= down.size(); },
           "everything relayed", 5000ms))
      << server.data.size() << "/" << up.size() << " up, " << client.data.size() << "/"
      << down.size() << " down";
  EXPECT_TRUE(server.data == up) << "upstream got other bytes (" << server.data.size() << ")";
  EXPECT_TRUE(client.data == down) << "downstream got other bytes (" << client.data.size() << ")";
  // The relay decoded them as frames on the way: 50 each way, none lost or split in two.
  EXPECT_EQ(proxy->log().count(K::frame_received, "downstream"), 50u);
  EXPECT_EQ(proxy->log().count(K::frame_received, "upstream"), 50u);
}

TEST_F(RelayTest, ConnectsUpstreamAtAcceptByDefault) {
  start({});
  connect_client();  // sends nothing
  ASSERT_TRUE(wait([&] { return servers.size() == 1; }, "upstream connection")) << dump();
  EXPECT_NE(find(proxy->log(), K::connected, "upstream"), nullptr) << dump();
  EXPECT_EQ(find(proxy->log(), K::http_head, "downstream"), nullptr);
}

TEST_F(RelayTest, ConnectAfterRequestHeadWaitsForTheWholeHead) {
  RelayConfig cfg;
  cfg.connect_after_request_head = true;
  start(cfg);
  RawEnd& client = connect_client();
  const std::size_t half = kRequestHead.find("Upgrade:");
  client.stream->write(kRequestHead.substr(0, half));
  ASSERT_TRUE(wait([&] { return find(proxy->log(), K::connected, "downstream"); }, "accepted"));
  // Nothing can announce "did not connect": watch a bounded window in which the default relay
  // connects (the test above) and this one must not.
  testing::run_for(io, 150ms);
  EXPECT_TRUE(servers.empty()) << dump();
  EXPECT_EQ(find(proxy->log(), K::connected, "upstream"), nullptr) << dump();
  EXPECT_EQ(find(proxy->log(), K::http_head, "downstream"), nullptr) << dump();

  // The rest of the head and a frame behind it in one write: both wait for the connection.
  const std::string frame = from_client(wire::Opcode::text, "behind the head");
  const auto rest_sent = Clock::now();
  client.stream->write(kRequestHead.substr(half) + frame);
  ASSERT_TRUE(wait(
      [&] {
        return !servers.empty() && servers[0]->data.size() >= kRequestHead.size() + frame.size();
      },
      "head and frame upstream"))
      << dump();
  EXPECT_EQ(servers[0]->data, kRequestHead + frame);
  auto* head = find(proxy->log(), K::http_head, "downstream");
  auto* connected = find(proxy->log(), K::connected, "upstream");
  ASSERT_TRUE(head && connected) << dump();
  EXPECT_EQ(head->note, "GET /chat HTTP/1.1");
  EXPECT_GE(head->at, rest_sent);
  EXPECT_GE(connected->at, head->at);
}

TEST_F(RelayTest, UnreachableUpstreamGets503AndAClose) {
  tcp::endpoint nobody;
  {
    auto a = listen_on(io, "127.0.0.1", 0);
    nobody = a.local_endpoint();
  }  // closed: a connect there is refused
  RelayConfig cfg;
  cfg.upstream = nobody;
  cfg.connect_after_request_head = true;
  start(cfg);
  RawEnd& client = connect_client();
  client.stream->write(kRequestHead);
  ASSERT_TRUE(wait([&] { return client.ended(); }, "client sees the end")) << dump();
  EXPECT_EQ(client.data.rfind("HTTP/1.1 503 ", 0), 0u) << client.data;
  EXPECT_NE(client.log.first(K::eof), nullptr) << dump();
  auto* failed = find(proxy->log(), K::closed, "upstream", "connect failed");
  ASSERT_NE(failed, nullptr) << dump();
  EXPECT_EQ(failed->error, ECONNREFUSED);
}

TEST_F(RelayTest, UpstreamGoneBeforeItsHeadGets503) {
  start({});
  RawEnd& client = connect_client();
  client.stream->write(kRequestHead);
  ASSERT_TRUE(
      wait([&] { return !servers.empty() && servers[0]->data == kRequestHead; }, "head up"));
  servers[0]->stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return client.ended(); }, "client sees the end")) << dump();
  EXPECT_EQ(client.data.rfind("HTTP/1.1 503 ", 0), 0u) << client.data;
  EXPECT_NE(client.log.first(K::eof), nullptr) << dump();
}

// ---- how a side closes once the other is gone ---------------------------------------------------

struct CloseCase {
  std::string name;
  SideClose how;
  bool far_sees_reset;  // ECONNRESET, else EOF
  std::string started;  // the relay's close_started note ("" when it logs none)
  std::string closed;   // the relay's closed note on that side
};

struct SideCloseParam {
  CloseCase c;
  bool upstream_closes;  // true: downstream_on_upstream_close; false: upstream_on_downstream_close
};

std::vector<SideCloseParam> side_close_params() {
  const std::vector<CloseCase> cases = {
      {"Fin", SideClose::with_mode(CloseMode::fin), false, "fin", "fin"},
      {"Rst", SideClose::with_mode(CloseMode::rst), true, "rst", "rst (SO_LINGER 0)"},
      {"HalfClose", SideClose::with_mode(CloseMode::half_close), false, "half-close",
       "plain close after the peer's FIN"},
      {"FlushWrite", SideClose::flush_write(0ms), false, "flush-write",
       "plain close after FlushWrite flushed"},
      {"Plain", SideClose::plain(), false, "", "plain close (no flush)"},
  };
  std::vector<SideCloseParam> out;
  for (bool up : {true, false})
    for (const auto& c : cases) out.push_back({c, up});
  return out;
}

class RelaySideCloseTest : public RelayTest,
                           public ::testing::WithParamInterface<SideCloseParam> {};

TEST_P(RelaySideCloseTest, FarSideSeesEofOrReset) {
  const auto& [c, upstream_closes] = GetParam();
  RelayConfig cfg;
  (upstream_closes ? cfg.downstream_on_upstream_close : cfg.upstream_on_downstream_close) = c.how;
  // The other direction stays at its default (fin), so the case alone decides what is seen.
  start(cfg);
  connect_client();
  ASSERT_TRUE(upgrade());
  RawEnd& closer = upstream_closes ? *servers[0] : *clients[0];
  RawEnd& far = upstream_closes ? *clients[0] : *servers[0];
  const std::string far_side = upstream_closes ? "downstream" : "upstream";
  const std::string closer_side = upstream_closes ? "upstream" : "downstream";

  closer.stream->write("last words");
  closer.stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return far.ended(); }, "the far end sees the close")) << dump();
  EXPECT_EQ(far.data, "last words") << dump();  // relayed ahead of the close
  if (c.far_sees_reset) {
    auto* err = far.log.first(K::read_error);
    ASSERT_NE(err, nullptr) << dump();
    EXPECT_EQ(err->error, ECONNRESET);
  } else {
    EXPECT_NE(far.log.first(K::eof), nullptr) << dump();
    EXPECT_EQ(far.log.first(K::read_error), nullptr) << dump();
  }
  // The relay read the closer's FIN and closed that socket.
  EXPECT_NE(find(proxy->log(), K::eof, closer_side), nullptr) << dump();
  EXPECT_NE(find(proxy->log(), K::closed, closer_side, "peer's FIN"), nullptr) << dump();

  if (far.stream->is_open()) far.stream->close(CloseMode::fin);
  ASSERT_TRUE(
      wait([&] { return find(proxy->log(), K::closed, far_side); }, "relay closed far side"))
      << dump();
  auto* started = find(proxy->log(), K::close_started, far_side);
  if (c.started.empty()) {
    EXPECT_EQ(started, nullptr) << dump();
  } else {
    ASSERT_NE(started, nullptr) << dump();
    EXPECT_EQ(started->note, c.started);
  }
  auto* closed = find(proxy->log(), K::closed, far_side);
  EXPECT_EQ(closed->note, c.closed) << dump();
  if (c.how.mode == CloseMode::half_close && c.how.how == SideClose::How::mode) {
    // Half-closed, the relay kept reading until the far end's own FIN.
    auto* half = find(proxy->log(), K::half_closed, far_side);
    ASSERT_NE(half, nullptr) << dump();
    EXPECT_NE(find(proxy->log(), K::eof, far_side), nullptr) << dump();
    EXPECT_GE(closed->at, far.log.first(K::closed)->at) << dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Relay, RelaySideCloseTest, ::testing::ValuesIn(side_close_params()),
                         [](const ::testing::TestParamInfo<SideCloseParam>& p) {
                           return p.param.c.name +
                                  (p.param.upstream_closes ? "TowardDownstream" : "TowardUpstream");
                         });

// The server sends far more than the socket buffers hold while the client does not read, then
// closes: the relay's downstream queue is full when it closes that side.
class RelayQueuedCloseTest : public RelayTest {
 protected:
  static constexpr std::size_t kBig = 8u << 20;  // > relay SO_SNDBUF (4 MB max) + client 64 KB
  void run(SideClose how, K wait_for) {
    RelayConfig cfg;
    cfg.downstream_on_upstream_close = how;
    start(cfg);
    RawEnd& client = connect_client(64 * 1024);
    ASSERT_TRUE(upgrade());
    client.stream->stop_reading();
    servers[0]->stream->write(std::string(kBig, 'q'));
    servers[0]->stream->close(CloseMode::fin);
    ASSERT_TRUE(wait([&] { return find(proxy->log(), wait_for, "downstream"); },
                     std::string(to_string(wait_for)) + " downstream", 5000ms))
        << dump();
    client.stream->start_reading();
    ASSERT_TRUE(wait([&] { return client.ended(); }, "client sees the end", 5000ms)) << dump();
  }
};

TEST_F(RelayQueuedCloseTest, PlainDropsWhatIsStillQueued) {
  run(SideClose::plain(), K::closed);
  if (HasFatalFailure()) return;
  EXPECT_LT(clients[0]->data.size(), kBig);
  EXPECT_GT(clients[0]->data.size(), 0u);
  EXPECT_NE(clients[0]->log.first(K::eof), nullptr) << dump();  // nothing unread: still a FIN
}

TEST_F(RelayQueuedCloseTest, FlushWriteDeliversEverythingFirst) {
  run(SideClose::flush_write(0ms), K::close_started);
  if (HasFatalFailure()) return;
  EXPECT_EQ(clients[0]->data.size(), kBig);
  EXPECT_NE(clients[0]->log.first(K::eof), nullptr) << dump();
  EXPECT_NE(find(proxy->log(), K::closed, "downstream", "FlushWrite flushed"), nullptr) << dump();
}

// ---- latency
// -------------------------------------------------------------------------------------

// From the relay reading a frame (its frame_received observation) to the far end reading it.
struct Lags {
  double up = -1, down = -1;
};

class RelayLatencyTest : public RelayTest {
 protected:
  Lags measure() {
    RawEnd& client = *clients[0];
    RawEnd& server = *servers[0];
    const std::string up = from_client(wire::Opcode::text, "up");
    const std::string down = from_server(wire::Opcode::text, "down");
    const auto up_to = server.total + up.size();
    const auto down_to = client.total + down.size();
    client.stream->write(up);
    server.stream->write(down);
    EXPECT_TRUE(wait([&] { return server.total >= up_to && client.total >= down_to; }, "frames"))
        << dump();
    auto* in_up = find(proxy->log(), K::frame_received, "downstream");
    auto* in_down = find(proxy->log(), K::frame_received, "upstream");
    Lags l;
    if (!in_up || !in_down || !server.reached(up_to) || !client.reached(down_to)) {
      ADD_FAILURE() << dump();
      return l;
    }
    l.up = ms_between(in_up->at, *server.reached(up_to));
    l.down = ms_between(in_down->at, *client.reached(down_to));
    return l;
  }
};

// Generous upper bounds: a timer on a loaded 2-core machine can fire late, never early.
constexpr double kLatency = 50;
constexpr double kLateBy = 50;
constexpr double kNoLatencyMax = 25;

TEST_F(RelayLatencyTest, ToUpstreamDelaysOnlyThatDirection) {
  RelayConfig cfg;
  cfg.to_upstream.latency = std::chrono::milliseconds(static_cast<int>(kLatency));
  start(cfg);
  connect_client();
  ASSERT_TRUE(upgrade());
  Lags l = measure();
  EXPECT_GE(l.up, kLatency);
  EXPECT_LE(l.up, kLatency + closewire::testing::late(kLateBy));
  EXPECT_GE(l.down, 0.0);
  EXPECT_LE(l.down, closewire::testing::late(kNoLatencyMax));
}

TEST_F(RelayLatencyTest, ToDownstreamDelaysThatDirectionAndTheCloseBehindIt) {
  RelayConfig cfg;
  cfg.to_downstream.latency = std::chrono::milliseconds(static_cast<int>(kLatency));
  start(cfg);
  connect_client();
  ASSERT_TRUE(upgrade());
  Lags l = measure();
  EXPECT_GE(l.down, kLatency);
  EXPECT_LE(l.down, kLatency + closewire::testing::late(kLateBy));
  EXPECT_GE(l.up, 0.0);
  EXPECT_LE(l.up, closewire::testing::late(kNoLatencyMax));

  // The upstream's FIN waits behind the bytes: the downstream close comes a latency later.
  servers[0]->stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return clients[0]->ended(); }, "client sees the close")) << dump();
  auto* eof = find(proxy->log(), K::eof, "upstream");
  auto* closed = find(proxy->log(), K::closed, "downstream");
  ASSERT_TRUE(eof && closed) << dump();
  EXPECT_GE(ms_between(eof->at, closed->at), kLatency) << dump();
  EXPECT_LE(ms_between(eof->at, closed->at), kLatency + kLateBy) << dump();
}

// ---- faults
// ----------------------------------------------------------------------------------------

TEST_F(RelayTest, ResetAfterBytesCutsDownstreamAfterExactlyN) {
  RelayConfig cfg;
  const std::uint64_t n = kResponseHead.size() + 7;  // the head counts
  cfg.to_downstream.reset_after_bytes = n;
  start(cfg);
  RawEnd& client = connect_client();
  ASSERT_TRUE(upgrade());
  servers[0]->stream->write("0123456789abcdef");  // the limit falls inside this write
  ASSERT_TRUE(wait([&] { return client.ended(); }, "client sees the end")) << dump();
  EXPECT_EQ(client.data, "0123456");
  auto* err = client.log.first(K::read_error);
  ASSERT_NE(err, nullptr) << dump();
  EXPECT_EQ(err->error, ECONNRESET);
  auto* fault = find(proxy->log(), K::fault, "downstream");
  ASSERT_NE(fault, nullptr) << dump();
  EXPECT_EQ(fault->note, "rst after " + std::to_string(n) + " bytes");
}

TEST_F(RelayTest, ResetAfterBytesCountsTheRequestHead) {
  RelayConfig cfg;
  cfg.to_upstream.reset_after_bytes = 10;
  start(cfg);
  RawEnd& client = connect_client();
  ASSERT_TRUE(wait([&] { return servers.size() == 1; }, "upstream connection"));
  client.stream->write(kRequestHead);
  RawEnd& server = *servers[0];
  ASSERT_TRUE(wait([&] { return server.ended(); }, "server sees the end")) << dump();
  EXPECT_EQ(server.data, "GET /chat ");
  auto* err = server.log.first(K::read_error);
  ASSERT_NE(err, nullptr) << dump();
  EXPECT_EQ(err->error, ECONNRESET);
  EXPECT_NE(find(proxy->log(), K::fault, "upstream", "rst after 10 bytes"), nullptr) << dump();
}

TEST_F(RelayTest, ResetBehindCloseCutsRightAfterTheCloseFrame) {
  RelayConfig cfg;
  cfg.to_downstream.reset_behind_close = true;
  start(cfg);
  RawEnd& client = connect_client();
  client.stream->write(kRequestHead);
  ASSERT_TRUE(
      wait([&] { return !servers.empty() && servers[0]->data == kRequestHead; }, "head up"));
  // Head, a frame, the Close and a frame behind it in one write: the cut falls inside the read.
  const std::string before = from_server(wire::Opcode::text, "before");
  const std::string close = close_from_server(4321, "test");
  servers[0]->stream->write(kResponseHead + before + close +
                            from_server(wire::Opcode::text, "after"));
  ASSERT_TRUE(wait([&] { return client.ended(); }, "client sees the end")) << dump();
  EXPECT_EQ(client.data, kResponseHead + before + close);
  auto* err = client.log.first(K::read_error);
  ASSERT_NE(err, nullptr) << dump();
  EXPECT_EQ(err->error, ECONNRESET);
  EXPECT_NE(find(proxy->log(), K::fault, "downstream", "rst behind the Close frame"), nullptr)
      << dump();
  auto* seen = testing::find_close_frame(proxy->log(), K::frame_received, "upstream");
  ASSERT_NE(seen, nullptr) << dump();
  EXPECT_EQ(seen->code, 4321);
  EXPECT_EQ(seen->reason, "test");
}

TEST_F(RelayTest, ResetBehindCloseFindsACloseFrameSplitAcrossReads) {
  RelayConfig cfg;
  cfg.to_downstream.reset_behind_close = true;
  start(cfg);
  RawEnd& client = connect_client();
  ASSERT_TRUE(upgrade());
  const std::string text = from_server(wire::Opcode::text, "x");
  const std::string close = close_from_server(1000, "bye");
  servers[0]->stream->write(text + close.substr(0, 3));
  ASSERT_TRUE(wait([&] { return client.data.size() == text.size() + 3; }, "first part")) << dump();
  EXPECT_FALSE(client.ended());
  servers[0]->stream->write(close.substr(3) + from_server(wire::Opcode::text, "after"));
  ASSERT_TRUE(wait([&] { return client.ended(); }, "client sees the end")) << dump();
  EXPECT_EQ(client.data, text + close);
  ASSERT_NE(client.log.first(K::read_error), nullptr) << dump();
  EXPECT_EQ(client.log.first(K::read_error)->error, ECONNRESET);
}

TEST_F(RelayTest, ResetBehindCloseTowardUpstream) {
  RelayConfig cfg;
  cfg.to_upstream.reset_behind_close = true;
  start(cfg);
  RawEnd& client = connect_client();
  ASSERT_TRUE(upgrade());
  const std::string close =
      from_client(wire::Opcode::close, wire::encode_close_payload(4000, "client"));
  client.stream->write(close + from_client(wire::Opcode::ping, "late"));
  RawEnd& server = *servers[0];
  ASSERT_TRUE(wait([&] { return server.ended(); }, "server sees the end")) << dump();
  EXPECT_EQ(server.data, close);
  ASSERT_NE(server.log.first(K::read_error), nullptr) << dump();
  EXPECT_EQ(server.log.first(K::read_error)->error, ECONNRESET);
  EXPECT_NE(find(proxy->log(), K::fault, "upstream", "rst behind the Close frame"), nullptr)
      << dump();
}

// ---- observations
// -----------------------------------------------------------------------------------

TEST_F(RelayTest, ObservationsNameTheSideAndTheConnection) {
  start({});
  connect_client();
  ASSERT_TRUE(upgrade(0));
  connect_client();
  ASSERT_TRUE(upgrade(1));
  clients[1]->stream->write(from_client(wire::Opcode::text, "from client 1"));
  servers[0]->stream->write(from_server(wire::Opcode::text, "from server 0"));
  ASSERT_TRUE(wait(
      [&] {
        return servers[1]->total > kRequestHead.size() && clients[0]->total > kResponseHead.size();
      },
      "frames"))
      << dump();
  clients[1]->stream->close(CloseMode::fin);
  ASSERT_TRUE(
      wait([&] { return find_on(proxy->log(), K::closed, "upstream", 1); }, "connection 1 closed"))
      << dump();

  const auto& log = proxy->log();
  EXPECT_EQ(proxy->connections(), 2u);
  for (std::size_t i : {0u, 1u}) {
    SCOPED_TRACE("connection " + std::to_string(i));
    EXPECT_NE(find_on(log, K::connected, "downstream", i), nullptr);
    EXPECT_NE(find_on(log, K::connected, "upstream", i), nullptr);
    auto* head = find_on(log, K::http_head, "downstream", i);
    ASSERT_NE(head, nullptr) << dump();
    EXPECT_EQ(head->note, "GET /chat HTTP/1.1");
    auto* up = find_on(log, K::upgraded, "upstream", i);
    ASSERT_NE(up, nullptr) << dump();
    EXPECT_EQ(up->note, "HTTP/1.1 101 Switching Protocols");
  }
  // Each observation is where it happened: the side that sent the frame, the FIN, ...
  EXPECT_NE(find_on(log, K::frame_received, "downstream", 1), nullptr) << dump();
  EXPECT_EQ(find_on(log, K::frame_received, "downstream", 0), nullptr) << dump();
  EXPECT_NE(find_on(log, K::frame_received, "upstream", 0), nullptr) << dump();
  EXPECT_EQ(find_on(log, K::frame_received, "upstream", 1), nullptr) << dump();
  EXPECT_NE(find_on(log, K::eof, "downstream", 1), nullptr) << dump();
  EXPECT_EQ(find_on(log, K::eof, "downstream", 0), nullptr) << dump();
  EXPECT_EQ(find_on(log, K::closed, "upstream", 0), nullptr) << dump();
  for (const auto& o : log.entries()) {
    EXPECT_TRUE(o.side == "downstream" || o.side == "upstream") << describe(o, origin);
    EXPECT_LE(o.connection, 1u) << describe(o, origin);
  }
}

// A relay that terminates TLS on its listening side and, or, originates it upstream, between the
// seed server and a chrome client.
class TlsRelayTest : public ::testing::Test {
 protected:
  void run(bool tls_upstream, EnvoyModel model = {}) {
    ServerConfig sc;
    if (tls_upstream) sc.tls = tls.server();
    server = std::make_unique<Server>(io, sc);
    RelayConfig rc = relay_config(model, server->endpoint());
    rc.downstream_tls = tls.server();
    if (tls_upstream) rc.upstream_tls = tls.client();
    proxy = std::make_unique<ProxyListener>(io, "127.0.0.1", 0, rc);
    ClientConfig cc;
    cc.port = proxy->port();
    cc.tls = tls.client();
    client = std::make_unique<Client>(io, cc);
    client->start();
    ASSERT_TRUE(run_until(
        io,
        [&] {
          return client->finished() && proxy->log().count(K::closed, "downstream") == 1 &&
                 proxy->log().count(K::closed, "upstream") == 1;
        },
        3000ms, "client and proxy finished"))
        << dump();
  }
  std::string dump() {
    return "client:\n" + client->log().dump(origin) + "proxy:\n" + proxy->log().dump(origin) +
           "server:\n" + server->log().dump(origin);
  }
  testing::TlsFixture tls;
  asio::io_context io;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server;
  std::unique_ptr<ProxyListener> proxy;
  std::unique_ptr<Client> client;
};

TEST_F(TlsRelayTest, TerminatesTlsAndRelaysPlainUpstream) {
  run(/*tls_upstream=*/false);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_TRUE(out->was_clean) << out->why;
  EXPECT_NE(find(proxy->log(), K::tls_handshake, "downstream"), nullptr) << dump();
  EXPECT_EQ(find(proxy->log(), K::tls_handshake, "upstream"), nullptr) << dump();
  EXPECT_EQ(server->log().first(K::tls_handshake), nullptr);
  // The Close frames were read in plaintext on both sides of the proxy.
  EXPECT_NE(testing::find_close_frame(proxy->log(), K::frame_received, "upstream"), nullptr);
  EXPECT_NE(testing::find_close_frame(proxy->log(), K::frame_received, "downstream"), nullptr);
  // Envoy's FlushWrite close: close_notify, then the FIN (SslSocket::closeSocket).
  EXPECT_NE(find(proxy->log(), K::close_notify_sent, "downstream"), nullptr) << dump();
  ASSERT_NE(client->log().first(K::eof), nullptr) << dump();
  EXPECT_EQ(client->log().first(K::eof)->note, "after close_notify");
}

TEST_F(TlsRelayTest, KeepsTlsEndToEnd) {
  run(/*tls_upstream=*/true);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_NE(find(proxy->log(), K::tls_handshake, "upstream"), nullptr) << dump();
  EXPECT_NE(server->log().first(K::tls_handshake), nullptr) << dump();
  EXPECT_NE(find(proxy->log(), K::close_notify_received, "upstream"), nullptr) << dump();
}

TEST_F(TlsRelayTest, TcpModelClosingWithoutCloseNotify) {
  ServerConfig sc;
  server = std::make_unique<Server>(io, sc);
  TcpModel m;
  m.close_notify = false;
  RelayConfig rc = relay_config(m, server->endpoint());
  rc.downstream_tls = tls.server();
  proxy = std::make_unique<ProxyListener>(io, "127.0.0.1", 0, rc);
  ClientConfig cc;
  cc.port = proxy->port();
  cc.tls = tls.client();
  client = std::make_unique<Client>(io, cc);
  client->start();
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms, "client finished"))
      << dump();
  EXPECT_EQ(find(proxy->log(), K::close_notify_sent, "downstream"), nullptr) << dump();
  ASSERT_NE(client->log().first(K::eof), nullptr) << dump();
  EXPECT_EQ(client->log().first(K::eof)->note, "without close_notify") << dump();
}

}  // namespace
}  // namespace closewire::endpoints
