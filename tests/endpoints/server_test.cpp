// The Server (server.h) seen from a raw TCP client that writes its own bytes and checks the exact
// bytes it gets: the upgrade answer, on_open sequences and run_steps, answering a client's Close,
// after_closing_handshake, the close timeout, stop().
#include "harness/endpoints/server.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"
#include "harness/wire/handshake.h"
#include "tests/endpoints/chain.h"
#include "tests/endpoints/raw_end.h"
#include "tests/support/timing.h"

namespace closewire::endpoints {
namespace {

using namespace std::chrono_literals;
using K = ObservationKind;
using testing::find;
using testing::ms_between;
using testing::RawEnd;
using testing::run_until;

// RFC 6455 §1.3's example key and the accept value the RFC gives for it.
constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const std::string kRequestHead =
    "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: " +
    std::string(kKey) + "\r\nSec-WebSocket-Version: 13\r\n\r\n";

std::string from_client(wire::Opcode op, std::string_view payload) {
  return wire::encode_frame(op, payload, true, std::array<std::uint8_t, 4>{5, 6, 7, 8});
}
std::string from_server(wire::Opcode op, std::string_view payload) {
  return wire::encode_frame(op, payload);
}
std::string close_payload(std::optional<std::uint16_t> code, std::string_view reason = {}) {
  return wire::encode_close_payload(code, reason);
}

std::vector<const Observation*> all(const ObservationLog& log, K kind) {
  std::vector<const Observation*> out;
  for (const auto& o : log.entries())
    if (o.kind == kind) out.push_back(&o);
  return out;
}

ServerConfig quiet() {
  ServerConfig c;
  c.on_open = {};
  return c;
}

class ServerTest : public ::testing::Test {
 protected:
  Server& make(ServerConfig cfg) {
    server = std::make_unique<Server>(io, std::move(cfg));
    return *server;
  }
  RawEnd& raw() {
    raws.push_back(testing::connect_raw(io, server->endpoint()));
    return *raws.back();
  }
  ::testing::AssertionResult wait(const std::function<bool()>& done, const std::string& what,
                                  std::chrono::milliseconds limit = 2000ms) {
    return run_until(io, done, limit, what);
  }
  // Sends the request head; waits for the whole 101 answer, checks it and removes it from data.
  ::testing::AssertionResult upgrade(RawEnd& c) {
    const std::string expected = wire::upgrade_response(kKey);
    c.stream->write(kRequestHead);
    auto r = wait([&] { return c.data.size() >= expected.size(); }, "101 answer");
    if (!r) return r;
    if (c.data.substr(0, expected.size()) != expected)
      return ::testing::AssertionFailure() << "unexpected answer:\n" << c.data;
    c.data.erase(0, expected.size());
    return ::testing::AssertionSuccess();
  }
  // The upgrade, the server's Close, the client's reply and the server's FIN behind it: the
  // closing handshake is over, the socket still open on the client's side.
  ::testing::AssertionResult closing_handshake_done(RawEnd& c) {
    if (auto r = upgrade(c); !r) return r;
    if (auto r = wait([&] { return !c.data.empty(); }, "server's Close"); !r) return r;
    c.stream->write(from_client(wire::Opcode::close, close_payload(4321, "test")));
    return wait([&] { return c.log.first(K::eof) != nullptr; }, "server's FIN");
  }
  std::string dump() {
    std::string out = server ? "server:\n" + server->log().dump(origin) : "";
    for (std::size_t i = 0; i < raws.size(); ++i)
      out += "raw " + std::to_string(i) + ":\n" + raws[i]->log.dump(origin);
    return out;
  }

  asio::io_context io;
  Clock::time_point origin = Clock::now();
  std::unique_ptr<Server> server;
  std::vector<std::unique_ptr<RawEnd>> raws;
};

// ---- the upgrade
// ---------------------------------------------------------------------------------

TEST_F(ServerTest, UpgradeAnswers101WithTheAcceptKey) {
  make(quiet());
  RawEnd& c = raw();
  c.stream->write(kRequestHead);
  ASSERT_TRUE(wait([&] { return c.data.find("\r\n\r\n") != std::string::npos; }, "answer"))
      << dump();
  EXPECT_EQ(c.data.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << c.data;
  EXPECT_NE(c.data.find("\r\nSec-WebSocket-Accept: " + std::string(kAccept) + "\r\n"),
            std::string::npos)
      << c.data;
  EXPECT_NE(c.data.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << c.data;
  EXPECT_EQ(c.data.find("\r\n\r\n") + 4, c.data.size()) << "on_open is empty: nothing follows";
  auto* up = server->log().first(K::upgraded);
  ASSERT_NE(up, nullptr) << dump();
  EXPECT_EQ(up->note, "101");
  EXPECT_EQ(up->connection, 0u);
  EXPECT_EQ(server->connections(), 1u);
  EXPECT_NE(server->peer(0), nullptr);
  EXPECT_EQ(server->peer(1), nullptr);
}

TEST_F(ServerTest, FramesInTheSameSegmentAsTheHeadAreRead) {
  make(quiet());
  RawEnd& c = raw();
  c.stream->write(kRequestHead + from_client(wire::Opcode::close, close_payload(4002, "early")));
  ASSERT_TRUE(wait([&] { return testing::find_close_frame(server->log(), K::frame_sent); },
                   "server's reply"))
      << dump();
  auto* got = testing::find_close_frame(server->log(), K::frame_received);
  ASSERT_NE(got, nullptr) << dump();
  EXPECT_EQ(got->code, 4002);
  EXPECT_EQ(got->reason, "early");
}

TEST_F(ServerTest, ARequestThatIsNotAnUpgradeGets400AndAClose) {
  make({});  // would close with 4321 on open: it must not get that far
  RawEnd& c = raw();
  c.stream->write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(wait([&] { return c.ended(); }, "end of the answer")) << dump();
  EXPECT_EQ(c.data,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n"
            "Connection: close\r\n\r\nnot a WebSocket upgrade\n");
  EXPECT_NE(c.log.first(K::eof), nullptr) << dump();
  EXPECT_NE(find(server->log(), K::closed, "", "not a WebSocket upgrade"), nullptr) << dump();
  EXPECT_EQ(server->log().first(K::upgraded), nullptr);
  EXPECT_EQ(server->connections(), 0u);
}

TEST_F(ServerTest, AConnectionThatSendsNoRequestIsLoggedAsSuch) {
  make({});
  RawEnd& c = raw();
  c.stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return server->log().first(K::closed); }, "server closed")) << dump();
  EXPECT_EQ(server->log().first(K::closed)->note.rfind("no upgrade request: ", 0), 0u) << dump();
  EXPECT_NE(server->log().first(K::connected), nullptr);
  EXPECT_EQ(server->connections(), 0u);
}

// ---- on_open and run_steps
// ---------------------------------------------------------------------------

TEST_F(ServerTest, OnOpenWaitsBetweenActions) {
  ServerConfig cfg;
  cfg.on_open = {Action::text("one"), Action::wait(80ms), Action::text("two"),
                 Action::close(4000, "done")};
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  const std::string expected = from_server(wire::Opcode::text, "one") +
                               from_server(wire::Opcode::text, "two") +
                               from_server(wire::Opcode::close, close_payload(4000, "done"));
  ASSERT_TRUE(wait([&] { return c.data.size() >= expected.size(); }, "frames")) << dump();
  EXPECT_EQ(c.data, expected);
  auto sent = all(server->log(), K::frame_sent);
  ASSERT_EQ(sent.size(), 3u) << dump();
  const double gap = ms_between(sent[0]->at, sent[1]->at);
  EXPECT_GE(gap, 80.0) << dump();
  EXPECT_LE(gap, 80.0 + closewire::testing::late(50)) << dump();
  EXPECT_LE(ms_between(sent[1]->at, sent[2]->at), 20.0) << dump();  // no wait between those
  EXPECT_EQ(sent[2]->code, 4000);
}

TEST_F(ServerTest, RunStepsAppendAfterWhatRuns) {
  ServerConfig cfg;
  cfg.on_open = {Action::text("a"), Action::wait(60ms), Action::text("b")};
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  ASSERT_EQ(server->connections(), 1u);
  // on_open is in its wait now: "c" goes after "b", not before.
  server->run_steps(0, {Action::text("c")});
  server->run_steps(5, {Action::text("no such connection")});  // ignored
  const std::string abc = from_server(wire::Opcode::text, "a") +
                          from_server(wire::Opcode::text, "b") +
                          from_server(wire::Opcode::text, "c");
  ASSERT_TRUE(wait([&] { return c.data.size() >= abc.size(); }, "a, b, c")) << dump();
  EXPECT_EQ(c.data, abc);
  auto sent = all(server->log(), K::frame_sent);
  ASSERT_EQ(sent.size(), 3u) << dump();
  EXPECT_GE(ms_between(sent[0]->at, sent[2]->at), 60.0) << dump();

  // Nothing runs now: the next steps run at once.
  c.data.clear();
  const auto asked = Clock::now();
  server->run_steps(0, {Action::text("d"), Action::wait(30ms), Action::text("e")});
  const std::string de =
      from_server(wire::Opcode::text, "d") + from_server(wire::Opcode::text, "e");
  ASSERT_TRUE(wait([&] { return c.data.size() >= de.size(); }, "d, e")) << dump();
  EXPECT_EQ(c.data, de);
  sent = all(server->log(), K::frame_sent);
  ASSERT_EQ(sent.size(), 5u) << dump();
  EXPECT_LE(ms_between(asked, sent[3]->at), 20.0) << dump();
  EXPECT_GE(ms_between(sent[3]->at, sent[4]->at), 30.0) << dump();
  EXPECT_LE(ms_between(sent[3]->at, sent[4]->at), 30.0 + 50.0) << dump();
}

// ---- the closing handshake
// ---------------------------------------------------------------------------

TEST_F(ServerTest, AnswersAClientCloseWithTheSameCode) {
  make(quiet());
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  c.stream->write(from_client(wire::Opcode::close, close_payload(4001, "bye")));
  const std::string reply = from_server(wire::Opcode::close, close_payload(4001, "bye"));
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the server ends TCP")) << dump();
  EXPECT_EQ(c.data, reply);
  // Then it ends TCP as after_closing_handshake says (half-close): it reads until our FIN.
  EXPECT_NE(c.log.first(K::eof), nullptr) << dump();
  auto* got = testing::find_close_frame(server->log(), K::frame_received);
  auto* sent = testing::find_close_frame(server->log(), K::frame_sent);
  auto* half = server->log().first(K::half_closed);
  ASSERT_TRUE(got && sent && half) << dump();
  EXPECT_LE(got->at, sent->at);
  EXPECT_LE(sent->at, half->at);
  EXPECT_EQ(server->log().first(K::closed), nullptr) << dump();
  c.stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return server->log().first(K::closed); }, "server closed")) << dump();
  EXPECT_EQ(server->log().first(K::closed)->note, "plain close after the peer's FIN");
}

TEST_F(ServerTest, AnswersACloseWithoutCodeWithoutCode) {
  make(quiet());
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  c.stream->write(from_client(wire::Opcode::close, ""));
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the server ends TCP")) << dump();
  EXPECT_EQ(c.data, std::string("\x88\x00", 2));  // an empty payload, not 1005 on the wire
}

struct AfterHandshakeCase {
  CloseMode mode;
  bool client_sees_reset;
  std::string closed;  // the server's closed note
};

class ServerAfterHandshakeTest : public ServerTest,
                                 public ::testing::WithParamInterface<AfterHandshakeCase> {};

TEST_P(ServerAfterHandshakeTest, EndsTcpAsConfigured) {
  const auto& p = GetParam();
  ServerConfig cfg;  // the seed's on_open: close 4321 "test"
  cfg.after_closing_handshake = p.mode;
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  const std::string close = from_server(wire::Opcode::close, close_payload(4321, "test"));
  ASSERT_TRUE(wait([&] { return c.data.size() >= close.size(); }, "server's Close")) << dump();
  EXPECT_EQ(c.data, close);
  EXPECT_EQ(server->log().first(K::close_started), nullptr) << "not before the reply";
  c.stream->write(from_client(wire::Opcode::close, close_payload(4321, "test")));
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the server ends TCP")) << dump();
  if (p.client_sees_reset) {
    ASSERT_NE(c.log.first(K::read_error), nullptr) << dump();
    EXPECT_EQ(c.log.first(K::read_error)->error, ECONNRESET);
  } else {
    EXPECT_NE(c.log.first(K::eof), nullptr) << dump();
  }
  auto* reply = testing::find_close_frame(server->log(), K::frame_received);
  auto* started = server->log().first(K::close_started);
  ASSERT_TRUE(reply && started) << dump();
  EXPECT_EQ(started->note, to_string(p.mode));
  EXPECT_GE(started->at, reply->at);
  if (c.stream->is_open()) c.stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return server->log().first(K::closed); }, "server closed")) << dump();
  EXPECT_EQ(server->log().first(K::closed)->note, p.closed);
}

INSTANTIATE_TEST_SUITE_P(Server, ServerAfterHandshakeTest,
                         ::testing::Values(AfterHandshakeCase{CloseMode::half_close, false,
                                                              "plain close after the peer's FIN"},
                                           AfterHandshakeCase{CloseMode::fin, false, "fin"},
                                           AfterHandshakeCase{CloseMode::rst, true,
                                                              "rst (SO_LINGER 0)"}),
                         [](const ::testing::TestParamInfo<AfterHandshakeCase>& p) {
                           std::string n(to_string(p.param.mode));
                           std::erase(n, '-');
                           return n;
                         });

// after_closing_handshake: none (gorilla/websocket#539): the handshake completes and the server
// keeps TCP open; only a later action (or its close timeout) ends it.
TEST_F(ServerTest, NoneKeepsTcpOpenAfterTheClosingHandshake) {
  ServerConfig cfg;  // the seed's on_open: close 4321 "test"
  cfg.after_closing_handshake.reset();
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  ASSERT_TRUE(wait([&] { return !c.data.empty(); }, "server's Close")) << dump();
  c.stream->write(from_client(wire::Opcode::close, close_payload(4321, "test")));
  ASSERT_TRUE(wait([&] { return testing::find_close_frame(server->log(), K::frame_received); },
                   "server reads the reply"))
      << dump();
  // A sentinel behind the reply's handling: had the server closed TCP there, its FIN would come
  // first and the text would never be written.
  c.data.clear();
  server->run_steps(0, {Action::text("still here")});
  const std::string sentinel = from_server(wire::Opcode::text, "still here");
  ASSERT_TRUE(wait([&] { return c.data.size() >= sentinel.size(); }, "the sentinel")) << dump();
  EXPECT_EQ(c.data, sentinel);
  EXPECT_FALSE(c.ended()) << dump();
  EXPECT_EQ(server->log().first(K::close_started), nullptr) << dump();
  server->run_steps(0, {Action::close_socket(CloseMode::fin)});
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the step ends TCP")) << dump();
  EXPECT_NE(c.log.first(K::eof), nullptr) << dump();
}

// close: {again: true} (slact/nchan#314): a second Close frame goes out; without `again` the
// server sends one Close, however often it is told to.
TEST_F(ServerTest, AgainSendsASecondCloseFrame) {
  for (const bool again : {false, true}) {
    SCOPED_TRACE(again);
    Action second = Action::close(1008, "no");
    second.again = again;
    ServerConfig cfg;
    // A text frame as the sentinel: once it is in, so is whatever the two closes wrote.
    cfg.on_open = {Action::close(1008, "no"), second, Action::text("end")};
    cfg.after_closing_handshake.reset();
    make(cfg);
    RawEnd& c = raw();
    ASSERT_TRUE(upgrade(c)) << dump();
    const std::string one = from_server(wire::Opcode::close, close_payload(1008, "no"));
    const std::string expected = (again ? one + one : one) + from_server(wire::Opcode::text, "end");
    ASSERT_TRUE(wait([&] { return c.data.size() >= expected.size(); }, "the sentinel")) << dump();
    EXPECT_EQ(c.data, expected) << dump();
    raws.clear();
  }
}

// answer_close: false (cesanta/mongoose#1502): a client's Close gets no Close back, only the end
// of TCP.
TEST_F(ServerTest, NoAnswerEndsTcpWithoutAClose) {
  ServerConfig cfg = quiet();
  cfg.answer_close = false;
  cfg.after_closing_handshake = CloseMode::fin;
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  c.stream->write(from_client(wire::Opcode::close, close_payload(1000, "bye")));
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the server ends TCP")) << dump();
  EXPECT_EQ(c.data, "") << dump();
  EXPECT_NE(c.log.first(K::eof), nullptr) << dump();
  EXPECT_EQ(testing::find_close_frame(server->log(), K::frame_sent), nullptr) << dump();
}

// raw (miguelgrinberg/simple-websocket#42): bytes go out as they are, not framed.
TEST_F(ServerTest, RawBytesGoOutUnframed) {
  ServerConfig cfg;
  cfg.on_open = {Action::close(3000, "x"), Action::frame(Action::Kind::raw, "HTTP/1.1 200 OK\r\n")};
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(upgrade(c)) << dump();
  const std::string expected =
      from_server(wire::Opcode::close, close_payload(3000, "x")) + "HTTP/1.1 200 OK\r\n";
  ASSERT_TRUE(wait([&] { return c.data.size() >= expected.size(); }, "Close and raw bytes"))
      << dump();
  EXPECT_EQ(c.data, expected);
}

// ---- the close timeout
// ---------------------------------------------------------------------------

constexpr auto kShortCloseTimeout = 100ms;

TEST_F(ServerTest, CloseTimeoutClosesPlainlyWhenNoReplyComes) {
  ServerConfig cfg;
  cfg.close_timeout = kShortCloseTimeout;
  make(cfg);
  RawEnd& c = raw();  // reads everything, never sends a Close
  ASSERT_TRUE(upgrade(c)) << dump();
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the server ends TCP")) << dump();
  EXPECT_NE(c.log.first(K::eof), nullptr) << dump();  // nothing unread at the server: a FIN
  auto* sent = testing::find_close_frame(server->log(), K::frame_sent);
  auto* timeout = server->log().first(K::timeout);
  auto* closed = server->log().first(K::closed);
  ASSERT_TRUE(sent && timeout && closed) << dump();
  EXPECT_EQ(timeout->note, "ws close timeout");
  const double waited = ms_between(sent->at, timeout->at);
  EXPECT_GE(waited, 100.0) << dump();
  EXPECT_LE(waited, 100.0 + closewire::testing::late(50)) << dump();
  EXPECT_EQ(closed->note, "plain close: socket.destroy() after the close timeout");
  EXPECT_EQ(server->log().first(K::close_started), nullptr) << "no close mode, a plain close";
}

TEST_F(ServerTest, CloseTimeoutRunsUntilTheSocketIsClosed) {
  // ws 8: the handshake ended (reply received, FIN sent), but the client never sends its FIN.
  ServerConfig cfg;
  cfg.close_timeout = kShortCloseTimeout;
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(closing_handshake_done(c)) << dump();
  ASSERT_TRUE(wait([&] { return server->log().first(K::closed); }, "server closed", 1000ms))
      << dump();
  ASSERT_NE(server->log().first(K::timeout), nullptr) << dump();
  EXPECT_EQ(server->log().first(K::closed)->note,
            "plain close: socket.destroy() after the close timeout");
  auto* sent = testing::find_close_frame(server->log(), K::frame_sent);
  EXPECT_GE(ms_between(sent->at, server->log().first(K::timeout)->at), 100.0);
}

TEST_F(ServerTest, NoCloseTimeoutOnceTheSocketIsClosed) {
  ServerConfig cfg;
  cfg.close_timeout = kShortCloseTimeout;
  make(cfg);
  RawEnd& c = raw();
  ASSERT_TRUE(closing_handshake_done(c)) << dump();
  c.stream->close(CloseMode::fin);
  ASSERT_TRUE(wait([&] { return server->log().first(K::closed); }, "server closed")) << dump();
  // Past the timeout's deadline: the timer was cancelled with the socket.
  testing::run_for(io, 2 * kShortCloseTimeout);
  EXPECT_EQ(server->log().first(K::timeout), nullptr) << dump();
}

// ---- stop()
// ------------------------------------------------------------------------------------------

TEST_F(ServerTest, StopClosesEveryConnectionAndStopsAccepting) {
  make(quiet());
  RawEnd& a = raw();
  RawEnd& b = raw();
  ASSERT_TRUE(upgrade(a)) << dump();
  ASSERT_TRUE(upgrade(b)) << dump();
  const tcp::endpoint where = server->endpoint();
  server->stop();
  ASSERT_TRUE(wait([&] { return a.ended() && b.ended(); }, "both connections end")) << dump();
  EXPECT_NE(a.log.first(K::eof), nullptr) << dump();  // plain close, nothing unread: FIN
  EXPECT_NE(b.log.first(K::eof), nullptr) << dump();
  tcp::socket late(io);
  error_code ec;
  late.connect(where, ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
  server->stop();  // twice is fine
}

TEST_F(ServerTest, StopAlsoClosesAConnectionStillInItsHandshake) {
  make(quiet());
  RawEnd& c = raw();  // connected, request not sent yet
  ASSERT_TRUE(wait([&] { return server->log().first(K::connected); }, "accepted")) << dump();
  server->stop();
  ASSERT_TRUE(wait([&] { return c.ended(); }, "the connection ends", 1000ms)) << dump();
  EXPECT_NE(c.log.first(K::eof), nullptr) << dump();
}

}  // namespace
}  // namespace closewire::endpoints
