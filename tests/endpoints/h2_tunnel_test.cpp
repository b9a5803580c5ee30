// The proxy models' h2 listening side (h2_server_connection.h, h2_tunnel.h): the model client
// over HTTP/2 (RFC 8441) through a model proxy to the server model over HTTP/1.1, and how the
// stream ends as HAProxy ends it (docs/close-semantics.md §7).
#include "harness/endpoints/h2_tunnel.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "harness/endpoints/proxy_model.h"
#include "tests/endpoints/chain.h"
#include "tests/endpoints/tls_fixture.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::find;
using testing::find_close_frame;
using testing::run_until;

std::size_t count_with(const ObservationLog& log, K kind, std::string_view side,
                       std::string_view note) {
  std::size_t n = 0;
  for (const auto& o : log.entries())
    if (o.kind == kind && (side.empty() || o.side == side) &&
        o.note.find(note) != std::string::npos)
      ++n;
  return n;
}

class H2TunnelTest : public ::testing::TestWithParam<ProxyModel> {
 protected:
  // The server runs `on_open`; the proxy (the test's model) listens with TLS and offers h2.
  void start(std::vector<Action> on_open, bool reset_after_end_stream = true) {
    start_proxy(std::move(on_open), reset_after_end_stream);
    ClientConfig cc;
    cc.profile = Profile::chrome;
    cc.port = proxy->port();
    cc.tls = tls.client();
    cc.h2 = true;
    cc.auto_reply = false;
    client = std::make_unique<Client>(io, cc);
    client->start();
  }
  void start_proxy(std::vector<Action> on_open, bool reset_after_end_stream = true) {
    ServerConfig sc;
    sc.on_open = std::move(on_open);
    server = std::make_unique<Server>(io, sc);
    RelayConfig rc = relay_config(GetParam(), server->endpoint());
    rc.downstream_tls = tls.server();
    rc.downstream_tls->set_alpn({"h2", "http/1.1"});
    rc.downstream_h2 = true;
    rc.h2_reset_after_end_stream = reset_after_end_stream;
    proxy = std::make_unique<ProxyListener>(io, "127.0.0.1", 0, std::move(rc));
  }
  // The stream and the server's connection both ended, at the client and at the proxy.
  ::testing::AssertionResult over() {
    return run_until(
        io,
        [&] {
          return client->finished() && proxy->log().count(K::closed, "downstream") >= 1 &&
                 proxy->log().count(K::closed, "upstream") >= 1;
        },
        3000ms, "stream and upstream closed");
  }
  std::string dump_proxy(const ObservationLog& client_log) {
    return "client:\n" + client_log.dump(origin) + "proxy:\n" + proxy->log().dump(origin);
  }
  std::string dump() {
    return "client:\n" + client->log().dump(origin) + "proxy:\n" + proxy->log().dump(origin) +
           "server:\n" + server->log().dump(origin);
  }

  asio::io_context io;
  testing::TlsFixture tls;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server;
  std::unique_ptr<ProxyListener> proxy;
  std::unique_ptr<Client> client;
};

const std::vector<Action> kCloseThenFin = {Action::close(4321, "test"),
                                           Action::close_socket(CloseMode::half_close)};

// HAProxy's end: the server's Close, then END_STREAM with RST_STREAM(CANCEL) right behind it,
// before the client replied; the h2 connection stays.
TEST_P(H2TunnelTest, CloseThenFinGivesEndStreamAndReset) {
  start(kCloseThenFin);
  ASSERT_TRUE(over()) << dump();
  const auto* close = find_close_frame(client->log(), K::frame_received);
  const auto* end = find(client->log(), K::eof, {}, "END_STREAM");
  const auto* rst = find(client->log(), K::read_error, {}, "RST_STREAM(CANCEL)");
  ASSERT_TRUE(close && end && rst) << dump();
  EXPECT_LE(close->at, end->at);
  EXPECT_LE(end->at, rst->at);
  EXPECT_TRUE(find(proxy->log(), K::upgraded, "upstream", "101")) << dump();
  EXPECT_TRUE(client->h2_connection_port()) << dump();
  const auto out = client->outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 1006) << out->why;
  EXPECT_FALSE(out->was_clean) << out->why;
}

// A TLS client that negotiates h2 and then speaks HTTP/1.1: nghttp2 refuses the preface. The
// proxy says so in one line and closes the connection plainly; nothing goes upstream.
TEST_P(H2TunnelTest, ABadPrefaceIsOneLineAndAPlainClose) {
  start_proxy({});
  auto alpn_h2 = tls.client();
  alpn_h2->set_alpn({"h2"});
  tcp::socket socket(io);
  socket.connect(proxy->endpoint());
  ObservationLog log;
  auto raw = TcpStream::create(
      std::move(socket), [&log](Observation o) { log.add(std::move(o)); }, "client", alpn_h2);
  raw->start_reading();
  raw->write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(run_until(
      io, [&] { return log.first(K::eof) || log.first(K::read_error); }, 3000ms,
      "the proxy ended the connection"))
      << dump_proxy(log);
  EXPECT_EQ(count_with(proxy->log(), K::read_error, "connection", "h2 protocol error"), 1u)
      << dump_proxy(log);
  EXPECT_TRUE(find(proxy->log(), K::closed, "connection", "after an h2 protocol error"))
      << dump_proxy(log);
  EXPECT_EQ(server->connections(), 0u) << dump_proxy(log);
  raw->detach();
  raw->close_plain("test end");
}

// h2_reset_after_end_stream: false: END_STREAM only, read as the server's FIN: 4321, clean.
TEST_P(H2TunnelTest, WithoutTheResetEndStreamOnly) {
  start(kCloseThenFin, /*reset_after_end_stream=*/false);
  ASSERT_TRUE(run_until(
      io, [&] { return find(client->log(), K::eof, {}, "END_STREAM") != nullptr; }, 3000ms,
      "END_STREAM"))
      << dump();
  // The held reply, as a scenario's step sends it; the stream is still open for it.
  client->peer()->send_close(4321, "test");
  ASSERT_TRUE(over()) << dump();
  EXPECT_EQ(count_with(client->log(), K::read_error, {}, "RST_STREAM"), 0u) << dump();
  const auto out = client->outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_TRUE(out->was_clean) << out->why;
}

// The client's Close with END_STREAM (chrome's): the proxy relays the Close and shuts its
// upstream side (SHUT_WR), so the server reads the Close, then a FIN.
TEST_P(H2TunnelTest, ClientEndStreamIsShutWrUpstream) {
  start({});
  ASSERT_TRUE(run_until(
      io, [&] { return client->upgraded() && server->connections() == 1; }, 3000ms, "upgraded"))
      << dump();
  client->peer()->send_close(4321, "test");
  ASSERT_TRUE(over()) << dump();
  const auto* half = find(proxy->log(), K::half_closed, "upstream");
  const auto* server_close = find_close_frame(server->log(), K::frame_received);
  const auto* server_eof = find(server->log(), K::eof);
  ASSERT_TRUE(half && server_close && server_eof) << dump();
  EXPECT_LE(server_close->at, server_eof->at);
  // The server's answer and FIN come back as Close + END_STREAM, with no reset: the client had
  // ended its side.
  EXPECT_EQ(count_with(client->log(), K::read_error, {}, "RST_STREAM"), 0u) << dump();
  const auto out = client->outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_TRUE(out->was_clean) << out->why;
}

// The server's RST: RST_STREAM(CANCEL) on the stream, no END_STREAM.
TEST_P(H2TunnelTest, UpstreamResetIsResetStream) {
  start({Action::close(4321, "test"), Action::close_socket(CloseMode::rst)});
  ASSERT_TRUE(over()) << dump();
  EXPECT_TRUE(find(client->log(), K::read_error, {}, "RST_STREAM(CANCEL)")) << dump();
  EXPECT_FALSE(find(client->log(), K::eof, {}, "END_STREAM")) << dump();
}

// The client's RST_STREAM: the proxy resets the server's connection.
TEST_P(H2TunnelTest, ClientResetIsRstUpstream) {
  start({});
  ASSERT_TRUE(run_until(
      io, [&] { return client->upgraded() && server->connections() == 1; }, 3000ms, "upgraded"))
      << dump();
  client->peer()->close_plain("test: the page goes away");
  ASSERT_TRUE(over()) << dump();
  ASSERT_TRUE(run_until(
      io, [&] { return find(server->log(), K::read_error) != nullptr; }, 3000ms,
      "the server reads the RST"))
      << dump();
  EXPECT_EQ(find(server->log(), K::read_error)->error, ECONNRESET) << dump();
  EXPECT_TRUE(find(proxy->log(), K::read_error, "downstream", "RST_STREAM(CANCEL)")) << dump();
}

INSTANTIATE_TEST_SUITE_P(Models, H2TunnelTest,
                         ::testing::Values(ProxyModel{EnvoyModel{}}, ProxyModel{TcpModel{}}),
                         [](const auto& info) { return std::string(model_name(info.param)); });

}  // namespace
}  // namespace closewire::endpoints
