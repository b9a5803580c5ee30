// Seed server and profile clients, directly connected over loopback.
#include "harness/endpoints/client.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <set>

#include "harness/endpoints/server.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/frame.h"
#include "tests/endpoints/h2_server.h"
#include "tests/endpoints/loop.h"
#include "tests/endpoints/tls_fixture.h"
#include "tests/support/timing.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::ms_between;
using testing::run_until;
constexpr auto kClose = static_cast<std::uint8_t>(wire::Opcode::close);

const Observation* first_frame(const ObservationLog& log, K kind, std::uint8_t opcode) {
  for (const auto& o : log.entries())
    if (o.kind == kind && o.opcode == opcode) return &o;
  return nullptr;
}

class DirectTest : public ::testing::TestWithParam<Profile> {
 protected:
  std::string dump(Server& s, Client& c) {
    return "server:\n" + s.log().dump(origin) + "client:\n" + c.log().dump(origin);
  }
  asio::io_context io;
  Clock::time_point origin = Clock::now();
};

TEST_P(DirectTest, SeedServerGives4321Clean) {
  Server server(io, {});
  ClientConfig cc;
  cc.profile = GetParam();
  cc.port = server.port();
  Client client(io, cc);
  client.start();
  ASSERT_TRUE(run_until(
      io, [&] { return client.finished(); }, 3000ms, "client finished"))
      << dump(server, client);
  auto out = client.outcome();
  ASSERT_TRUE(out) << dump(server, client);
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_EQ(out->reason, "test");
  EXPECT_TRUE(out->was_clean) << out->why;

  // ws 8: the FIN comes only after the client's reply arrived, and the client closes on it.
  const auto* reply = first_frame(server.log(), K::frame_received, kClose);
  const auto* fin = server.log().first(K::half_closed);
  ASSERT_TRUE(reply && fin) << dump(server, client);
  EXPECT_EQ(reply->code, 4321);
  EXPECT_LE(reply->at, fin->at);
  EXPECT_NE(client.log().first(K::eof), nullptr) << dump(server, client);
  EXPECT_EQ(client.log().count(K::timeout), 0u);
  ASSERT_TRUE(run_until(
      io, [&] { return server.log().first(K::closed) != nullptr; }, 1000ms));
  EXPECT_EQ(server.log().count(K::read_error), 0u) << dump(server, client);
}

INSTANTIATE_TEST_SUITE_P(Profiles, DirectTest,
                         ::testing::Values(Profile::chrome, Profile::chrome_legacy,
                                           Profile::firefox, Profile::safari, Profile::rfc),
                         [](const auto& info) {
                           std::string n(to_string(info.param));
                           std::erase(n, '-');
                           return n;
                         });

class ClientServerTest : public ::testing::Test {
 protected:
  std::optional<ClientOutcome> run(ServerConfig sc, Profile profile,
                                   std::string host = "127.0.0.1") {
    sc.host = host;
    server = std::make_unique<Server>(io, sc);
    ClientConfig cc;
    cc.profile = profile;
    cc.host = host;
    cc.port = server->port();
    client = std::make_unique<Client>(io, cc);
    client->start();
    EXPECT_TRUE(run_until(
        io, [&] { return client->finished(); }, 3000ms, "client finished"))
        << dump();
    return client->outcome();
  }
  std::string dump() {
    return "server:\n" + server->log().dump(origin) + "client:\n" + client->log().dump(origin);
  }
  asio::io_context io;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server;
  std::unique_ptr<Client> client;
};

TEST_F(ClientServerTest, CloseWithoutCodeReports1005) {
  ServerConfig sc;
  sc.on_open = {Action::close()};
  auto out = run(sc, Profile::chrome);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 1005);
  EXPECT_TRUE(out->was_clean);
  // The client echoes an empty Close, which the server reads as 1005 too.
  const auto* reply = first_frame(server->log(), K::frame_received, kClose);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 1005);
}

TEST_F(ClientServerTest, ClientInitiatedCloseIsEchoedThenEnded) {
  ServerConfig sc;
  sc.on_open = {};
  server = std::make_unique<Server>(io, sc);
  ClientConfig cc;
  cc.port = server->port();
  client = std::make_unique<Client>(io, cc);
  client->start();
  ASSERT_TRUE(run_until(
      io, [&] { return client->upgraded(); }, 1000ms));
  client->peer()->send_close(1000, "bye");
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 3000ms))
      << dump();
  auto out = client->outcome();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 1000);
  EXPECT_EQ(out->reason, "bye");
  EXPECT_TRUE(out->was_clean) << out->why;
  EXPECT_NE(server->log().first(K::half_closed), nullptr) << dump();
}

TEST_F(ClientServerTest, PingIsAnsweredWithPong) {
  ServerConfig sc;
  sc.on_open = {Action::ping("hi"), Action::close(4321, "test")};
  auto out = run(sc, Profile::chrome);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_NE(
      first_frame(server->log(), K::frame_received, static_cast<std::uint8_t>(wire::Opcode::pong)),
      nullptr)
      << dump();
}

TEST_F(ClientServerTest, FinRightBehindTheCloseFrame) {
  // "closefin": Close frame and FIN back to back. Chrome: clean; Firefox: not clean, because the
  // FIN was there before its reply went out.
  ServerConfig sc;
  sc.on_open = {Action::close(4321, "test"), Action::close_socket(CloseMode::fin)};
  auto chrome = run(sc, Profile::chrome);
  ASSERT_TRUE(chrome);
  EXPECT_EQ(chrome->code, 4321);
  EXPECT_TRUE(chrome->was_clean) << chrome->why << "\n" << dump();

  client.reset();
  server.reset();
  auto firefox = run(sc, Profile::firefox);
  ASSERT_TRUE(firefox);
  EXPECT_EQ(firefox->code, 4321);
  EXPECT_NE(client->log().first(K::peer_gone_before_reply), nullptr) << dump();
  EXPECT_FALSE(firefox->was_clean) << firefox->why << "\n" << dump();
}

TEST_F(ClientServerTest, AClientHoldingItsReplyKeepsTheSocketUntilItSendsIt) {
  // auto_reply off: the server's Close and FIN arrive, the client neither answers nor closes; the
  // reply it sends later goes out, then it closes (the FIN had come first).
  ServerConfig sc;
  sc.on_open = {Action::close(4321, "test"), Action::close_socket(CloseMode::half_close)};
  server = std::make_unique<Server>(io, sc);
  ClientConfig cc;
  cc.port = server->port();
  cc.auto_reply = false;
  client = std::make_unique<Client>(io, cc);
  client->start();
  ASSERT_TRUE(run_until(
      io, [&] { return client->log().first(K::eof) != nullptr; }, 2000ms, "the server's FIN"))
      << dump();
  EXPECT_EQ(first_frame(client->log(), K::frame_sent, kClose), nullptr) << dump();
  EXPECT_FALSE(client->finished());
  EXPECT_TRUE(client->peer()->is_open());
  client->peer()->send_close(4321, "test");
  ASSERT_TRUE(run_until(
      io, [&] { return client->finished(); }, 2000ms, "client finished"))
      << dump();
  EXPECT_NE(first_frame(client->log(), K::frame_sent, kClose), nullptr) << dump();
}

TEST_F(ClientServerTest, ServerDestroysTheSocketAfterItsCloseTimeout) {
  // A client that never replies: the ws close timer ends it with a plain close.
  ServerConfig sc;
  sc.close_timeout = 100ms;
  sc.on_open = {};
  server = std::make_unique<Server>(io, sc);
  ClientConfig cc;
  cc.profile = Profile::rfc;
  cc.port = server->port();
  client = std::make_unique<Client>(io, cc);
  client->start();
  ASSERT_TRUE(run_until(
      io, [&] { return server->connections() == 1 && client->upgraded(); }, 1000ms));
  client->peer()->stop_reading();  // never sees the Close, never replies
  server->run_steps(0, {Action::close(4321, "test")});
  ASSERT_TRUE(run_until(
      io, [&] { return server->log().first(K::closed) != nullptr; }, 1000ms))
      << dump();
  ASSERT_NE(server->log().first(K::timeout), nullptr);
  double waited = ms_between(first_frame(server->log(), K::frame_sent, kClose)->at,
                             server->log().first(K::closed)->at);
  EXPECT_GE(waited, 95.0);
  EXPECT_LE(waited, 200.0 + closewire::testing::late(100));
}

TEST_F(ClientServerTest, WorksOverIpv6Loopback) {
  try {
    asio::io_context probe;
    tcp::acceptor a(probe, tcp::endpoint(asio::ip::make_address("::1"), 0));
  } catch (const std::exception& e) {
    // scenarios/envoy/ipv6.yaml needs ::1 too: with CI=true its absence is a failure.
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") FAIL() << "CI=true and no ::1 here: " << e.what();
    GTEST_SKIP() << "no ::1 here";
  }
  auto out = run({}, Profile::chrome, "::1");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->code, 4321);
  EXPECT_TRUE(server->endpoint().address().is_v6());
}

// wss: the client model and the seed server over TLS on loopback.
class WssTest : public ::testing::Test {
 protected:
  void run(ServerConfig sc, TlsVersion version = TlsVersion::tls1_3) {
    sc.tls = tls.server(version);
    server = std::make_unique<Server>(io, sc);
    ClientConfig cc;
    cc.profile = Profile::chrome;
    cc.port = server->port();
    cc.tls = tls.client();
    client = std::make_unique<Client>(io, cc);
    client->start();
    ASSERT_TRUE(run_until(
        io, [&] { return client->finished(); }, 3000ms, "client finished"))
        << dump();
  }
  std::string dump() {
    return "server:\n" + server->log().dump(origin) + "client:\n" + client->log().dump(origin);
  }
  testing::TlsFixture tls;
  asio::io_context io;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server;
  std::unique_ptr<Client> client;
};

TEST_F(WssTest, SeedCloseOverTlsEndsWithCloseNotifyBeforeTheFin) {
  run({});
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump();
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_TRUE(out->was_clean) << out->why;
  const ObservationLog& c = client->log();
  ASSERT_NE(c.first(K::tls_handshake), nullptr) << dump();
  EXPECT_TRUE(c.first(K::tls_handshake)->note.starts_with("TLSv1.3 "));
  ASSERT_NE(first_frame(c, K::frame_received, kClose), nullptr) << dump();
  // ws 8 ends the socket after the closing handshake: close_notify, then its FIN.
  ASSERT_NE(c.first(K::close_notify_received), nullptr) << dump();
  ASSERT_NE(c.first(K::eof), nullptr) << dump();
  EXPECT_EQ(c.first(K::eof)->note, "after close_notify");
  EXPECT_LE(first_frame(c, K::frame_received, kClose)->at, c.first(K::close_notify_received)->at);
  EXPECT_NE(server->log().first(K::close_notify_sent), nullptr) << dump();
}

TEST_F(WssTest, ServerFinWithoutCloseNotifyIsSeenAsABareFin) {
  ServerConfig sc;
  Action fin = Action::close_socket(CloseMode::fin);
  fin.close_notify = false;
  sc.on_open = {Action::close(4321, "test"), fin};
  run(sc);
  const ObservationLog& c = client->log();
  ASSERT_NE(c.first(K::eof), nullptr) << dump();
  EXPECT_EQ(c.first(K::eof)->note, "without close_notify") << dump();
  EXPECT_EQ(c.first(K::close_notify_received), nullptr) << dump();
  EXPECT_EQ(server->log().first(K::close_notify_sent), nullptr) << dump();
}

// Chromium disconnects without close_notify; the other profiles send one.
TEST_F(WssTest, ChromeClosesWithoutCloseNotifyFirefoxWithOne) {
  for (Profile profile : {Profile::chrome, Profile::firefox}) {
    ServerConfig sc;
    sc.tls = tls.server();
    Server s(io, sc);
    ClientConfig cc;
    cc.profile = profile;
    cc.port = s.port();
    cc.tls = tls.client();
    Client c(io, cc);
    c.start();
    ASSERT_TRUE(run_until(
        io, [&] { return c.finished() && s.log().first(K::eof); }, 3000ms, "both ends closed"))
        << s.log().dump(origin) << c.log().dump(origin);
    const bool sent = profile != Profile::chrome;
    EXPECT_EQ(c.log().first(K::close_notify_sent) != nullptr, sent) << to_string(profile);
    EXPECT_EQ(s.log().first(K::eof)->note, sent ? "after close_notify" : "without close_notify")
        << to_string(profile) << "\n" << s.log().dump(origin);
  }
}

TEST_F(WssTest, Tls12AndAKeyLogLineForTheSession) {
  run({}, TlsVersion::tls1_2);
  ASSERT_NE(client->log().first(K::tls_handshake), nullptr) << dump();
  EXPECT_TRUE(client->log().first(K::tls_handshake)->note.starts_with("TLSv1.2 ")) << dump();
  ASSERT_TRUE(client->peer());
  const std::string random = client->peer()->stream().tls_session()->client_random_hex();
  EXPECT_NE(tls.keys().find("CLIENT_RANDOM " + random + " "), std::string::npos) << tls.keys();
}

TEST_F(WssTest, EverySessionLeavesItsSecretsInTheKeyLog) {
  ServerConfig sc;
  sc.tls = tls.server();
  server = std::make_unique<Server>(io, sc);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    ClientConfig cc;
    cc.port = server->port();
    cc.tls = tls.client();
    clients.push_back(std::make_unique<Client>(io, cc));
    clients.back()->start();
  }
  ASSERT_TRUE(run_until(
      io,
      [&] {
        for (auto& c : clients)
          if (!c->finished()) return false;
        return true;
      },
      3000ms, "every client finished"))
      << server->log().dump(origin);
  const std::string keys = tls.keys();
  std::set<std::string> randoms;
  for (auto& c : clients) {
    ASSERT_TRUE(c->peer());
    const std::string random = c->peer()->stream().tls_session()->client_random_hex();
    randoms.insert(random);
    EXPECT_NE(keys.find("CLIENT_TRAFFIC_SECRET_0 " + random + " "), std::string::npos) << keys;
    EXPECT_NE(keys.find("SERVER_TRAFFIC_SECRET_0 " + random + " "), std::string::npos) << keys;
  }
  EXPECT_EQ(randoms.size(), 3u);
}

// ---- over h2 (RFC 8441, close-semantics.md §7) ----------------------------------------------

class H2ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> open(Profile profile, testing::H2Server& server) {
    ClientConfig cc;
    cc.profile = profile;
    cc.port = server.port();
    cc.tls = tls.client();
    cc.h2 = true;
    auto client = std::make_unique<Client>(io, cc);
    client->start();
    return client;
  }
  ::testing::AssertionResult upgraded(Client& c) {
    return run_until(
        io, [&] { return c.upgraded(); }, 3000ms, "upgraded over h2");
  }
  ::testing::AssertionResult finished(Client& c) {
    return run_until(
        io, [&] { return c.finished(); }, 3000ms, "stream closed");
  }
  static std::string close_frame() {
    return testing::H2Server::frame(wire::Opcode::close, wire::encode_close_payload(4321, "test"));
  }
  std::string dump(Client& c) { return c.log().dump(origin); }

  asio::io_context io;
  testing::TlsFixture tls;
  Clock::time_point origin = Clock::now();
};

const wire::Frame* close_in(const std::vector<wire::Frame>& frames) {
  for (const auto& f : frames)
    if (f.opcode == kClose) return &f;
  return nullptr;
}

TEST_F(H2ClientTest, ExtendedConnectThenMaskedFramesInData) {
  testing::H2Server server(io, tls.server());
  auto client = open(Profile::chrome, server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  EXPECT_EQ(server.request[":method"], "CONNECT");
  EXPECT_EQ(server.request[":protocol"], "websocket");
  EXPECT_EQ(server.request[":scheme"], "https");
  EXPECT_EQ(server.request[":path"], "/");
  EXPECT_EQ(server.request[":authority"], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(server.request["sec-websocket-version"], "13");
  EXPECT_EQ(server.request.count("sec-websocket-key"), 0u);  // RFC 8441: no key, no accept
  ASSERT_FALSE(server.header_order.empty());
  EXPECT_EQ(server.header_order.front(), ":method");

  client->peer()->send_text("hello");
  ASSERT_TRUE(run_until(
      io, [&] { return !server.frames.empty(); }, 3000ms, "text frame"));
  EXPECT_EQ(server.frames[0].opcode, static_cast<std::uint8_t>(wire::Opcode::text));
  EXPECT_TRUE(server.frames[0].masked);
  EXPECT_TRUE(server.frames[0].problems.empty());
  EXPECT_EQ(server.frames[0].payload, "hello");
  ASSERT_EQ(server.data_frames.size(), 1u);
  EXPECT_FALSE(server.data_frames[0].end_stream);

  // And the server's frames reach the peer from DATA.
  server.send(testing::H2Server::frame(wire::Opcode::text, "hi"));
  ASSERT_TRUE(run_until(
      io, [&] { return first_frame(client->log(), K::frame_received, 1) != nullptr; }, 3000ms,
      "text received"))
      << dump(*client);
}

TEST_F(H2ClientTest, ChromeRepliesWithEndStreamOnItsClose) {
  testing::H2Server server(io, tls.server());
  auto client = open(Profile::chrome, server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send(close_frame());
  ASSERT_TRUE(run_until(
      io, [&] { return close_in(server.frames) != nullptr; }, 3000ms, "the client's Close"))
      << dump(*client);
  EXPECT_EQ(close_in(server.frames)->payload, wire::encode_close_payload(4321, "test"));
  // The Close and END_STREAM in one DATA frame.
  ASSERT_FALSE(server.data_frames.empty());
  EXPECT_TRUE(server.data_frames.back().end_stream);
  EXPECT_EQ(server.data_frames.back().bytes.size(), close_in(server.frames)->wire_size());

  server.send("", /*end_stream=*/true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_TRUE(out->was_clean) << out->why;
  EXPECT_FALSE(server.client_rst);
  // The TCP connection stays, as a browser keeps it.
  EXPECT_TRUE(client->h2_connection_port()) << dump(*client);
}

TEST_F(H2ClientTest, FirefoxSendsItsCloseWithoutEndStream) {
  testing::H2Server server(io, tls.server());
  auto client = open(Profile::firefox, server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send(close_frame());
  ASSERT_TRUE(run_until(
      io, [&] { return close_in(server.frames) != nullptr; }, 3000ms, "the client's Close"))
      << dump(*client);
  EXPECT_FALSE(server.data_frames.back().end_stream);
  // HAProxy's end behind the reply: END_STREAM + RST_STREAM(CANCEL). Clean, with the code.
  server.send("", true, true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_TRUE(out->was_clean) << out->why;
}

class H2ResetTest : public H2ClientTest, public ::testing::WithParamInterface<Profile> {};

// HAProxy's close-then-fin: Close + END_STREAM + RST_STREAM(CANCEL) in one record, before any
// reply: the reply cannot be sent; both browsers report 1006.
TEST_P(H2ResetTest, ResetBehindTheCloseIs1006) {
  testing::H2Server server(io, tls.server());
  auto client = open(GetParam(), server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send(close_frame(), true, true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, wire::kAbnormalClosure) << out->why;
  EXPECT_FALSE(out->was_clean) << out->why;
  ASSERT_NE(first_frame(client->log(), K::frame_received, kClose), nullptr) << dump(*client);
  EXPECT_EQ(first_frame(client->log(), K::frame_sent, kClose), nullptr) << dump(*client);
  EXPECT_EQ(close_in(server.frames), nullptr);
}

// An idle timeout (`timeout tunnel`): END_STREAM + RST_STREAM, no Close: 1006.
TEST_P(H2ResetTest, EndAndResetWithoutCloseIs1006) {
  testing::H2Server server(io, tls.server());
  auto client = open(GetParam(), server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send("", true, true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, wire::kAbnormalClosure) << out->why;
  EXPECT_FALSE(out->was_clean);
  EXPECT_TRUE(client->h2_connection_port());
}

// A bare h2 server's Close + END_STREAM (no reset): the code, clean. Chromium answers with
// RST_STREAM(CANCEL) instead of its Close; Firefox still replies.
TEST_P(H2ResetTest, CloseWithEndStreamIsClean) {
  testing::H2Server server(io, tls.server());
  auto client = open(GetParam(), server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send(close_frame(), true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  ASSERT_TRUE(run_until(
      io, [&] { return server.client_rst.has_value(); }, 3000ms, "RST_STREAM"));
  EXPECT_EQ(*server.client_rst, static_cast<std::uint32_t>(NGHTTP2_CANCEL));
  if (GetParam() == Profile::chrome) {
    EXPECT_EQ(close_in(server.frames), nullptr);
  } else {
    // Its reply, then the reset of the stream the server had ended.
    ASSERT_NE(close_in(server.frames), nullptr);
    EXPECT_FALSE(server.data_frames.back().end_stream);
  }
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, 4321) << out->why;
  EXPECT_EQ(out->reason, "test");
  EXPECT_TRUE(out->was_clean) << out->why << "\n" << dump(*client);
}

// HAProxy's close-then-fin split over two records: Close + END_STREAM, then RST_STREAM before it
// could see any answer. Whatever the client did in between (Chromium: RST_STREAM(CANCEL); Firefox:
// its reply), the reset had left first: 1006, as the capture's verdict says.
TEST_P(H2ResetTest, ResetBehindCloseAndEndStreamInTheirOwnRecordIs1006) {
  testing::H2Server server(io, tls.server());
  auto client = open(GetParam(), server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send(close_frame(), true);
  server.send("", false, true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  ASSERT_TRUE(run_until(
      io, [&] { return client->log().first(K::read_error) != nullptr; }, 3000ms,
      "the server's RST_STREAM seen"))
      << dump(*client);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, wire::kAbnormalClosure) << out->why << "\n" << dump(*client);
}

// A reset the server sent only after the client had ended the stream itself (Chromium's
// RST_STREAM(CANCEL), Firefox's reply and reset): it crossed the client's, which left first, so
// the close event stands: the code, clean (the capture shows the client's reset first).
TEST_P(H2ResetTest, ResetLeavingAfterTheClientsOwnCrossesIt) {
  testing::H2Server server(io, tls.server());
  auto client = open(GetParam(), server);
  ASSERT_TRUE(upgraded(*client)) << dump(*client);
  server.send(close_frame(), true);
  ASSERT_TRUE(finished(*client)) << dump(*client);
  server.send("", false, true);
  ASSERT_TRUE(run_until(
      io, [&] { return client->log().first(K::read_error) != nullptr; }, 3000ms,
      "the server's RST_STREAM seen"))
      << dump(*client);
  EXPECT_EQ(client->log().first(K::read_error)->side, "connection") << dump(*client);
  auto out = client->outcome();
  ASSERT_TRUE(out) << dump(*client);
  EXPECT_EQ(out->code, 4321) << out->why << "\n" << dump(*client);
  EXPECT_TRUE(out->was_clean) << out->why;
}

INSTANTIATE_TEST_SUITE_P(Browsers, H2ResetTest,
                         ::testing::Values(Profile::chrome, Profile::firefox),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// No SETTINGS_ENABLE_CONNECT_PROTOCOL (HAProxy's h2-workaround-bogus-websocket-clients): no
// CONNECT on the h2 connection; the client says why in one line and, as a browser does, opens a
// new TLS connection offering only http/1.1 for the WebSocket (this one-connection test server
// never accepts it: the connection attempt is what is checked).
TEST_F(H2ClientTest, NoExtendedConnectSettingFallsBackToANewHttp1Connection) {
  testing::H2Server server(io, tls.server(), {.enable_connect_protocol = false});
  auto client = open(Profile::chrome, server);
  const auto fallback = [&]() -> const Observation* {
    for (const Observation& o : client->log().entries()) {
      if (o.kind == K::http_head && o.note.find("new HTTP/1.1") != std::string::npos) return &o;
    }
    return nullptr;
  };
  ASSERT_TRUE(run_until(
      io, [&] { return fallback() != nullptr && client->log().count(K::connected) >= 2; },
      3000ms, "the fallback's second connection"))
      << dump(*client);
  const Observation* why = fallback();
  EXPECT_EQ(why->side, "connection");
  EXPECT_NE(why->note.find("SETTINGS_ENABLE_CONNECT_PROTOCOL"), std::string::npos) << why->note;
  EXPECT_NE(why->note.find("new HTTP/1.1 connection"), std::string::npos) << why->note;
  EXPECT_EQ(why->note.find('\n'), std::string::npos);
  EXPECT_EQ(server.stream_id, 0);  // no CONNECT went out
  EXPECT_FALSE(client->upgraded());
}

}  // namespace
}  // namespace closewire::endpoints
