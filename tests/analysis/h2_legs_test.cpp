// WebSockets over HTTP/2 (RFC 8441) in the analyzer: each extended-CONNECT stream of an h2
// connection is a leg of its own, with h2.* events, its DATA decoded as WebSocket frames, and the
// verdicts of docs/close-semantics.md §6; bad h2 input is one event, never a crash.
#include "harness/analysis/h2_legs.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "harness/analysis/leg_builder.h"
#include "harness/analysis/verdict.h"
#include "harness/wire/h2_frame_reader.h"
#include "tests/support/capture_builder.h"
#include "tests/support/h2_frames.h"
#include "tests/support/leg_driver.h"

namespace closewire {
namespace {

using test::client_frame;
using test::close_payload;
using test::h2_frame;
using test::h2_u32;
using test::server_frame;

constexpr std::uint8_t kData = 0x0;
constexpr std::uint8_t kHeaders = 0x1;
constexpr std::uint8_t kRstStream = 0x3;
constexpr std::uint8_t kGoaway = 0x7;
constexpr std::uint8_t kEndStream = 0x1;
constexpr std::uint8_t kEndHeaders = 0x4;
constexpr std::uint32_t kCancel = 0x8;
constexpr std::uint8_t kClose = 0x8;
constexpr std::uint8_t kText = 0x1;

// Both sides of one h2 connection, as bytes; each call is what one packet carries.
class H2Wire {
 public:
  // The browser's preface + SETTINGS and its extended CONNECT on `stream`.
  std::string connect(std::uint32_t stream, const std::string& path = "/chat") {
    return h2_frame(kHeaders, kEndHeaders, stream, client_.block(test::websocket_connect(path)));
  }
  std::string preface() const { return std::string(wire::kH2Preface) + h2_frame(0x4, 0, 0, ""); }
  std::string server_settings() const { return test::h2_settings_enable_connect(); }
  std::string get(std::uint32_t stream, const std::string& path) {
    return h2_frame(kHeaders, kEndHeaders | kEndStream, stream,
                    client_.block({{":method", "GET"},
                                   {":scheme", "https"},
                                   {":path", path},
                                   {":authority", "localhost"}}));
  }
  std::string status(std::uint32_t stream, const std::string& code, std::uint8_t flags = 0) {
    return h2_frame(kHeaders, kEndHeaders | flags, stream,
                    server_.block({{":status", code}, {"server", "haproxy"}}));
  }
  static std::string data(std::uint32_t stream, const std::string& payload,
                          std::uint8_t flags = 0) {
    return h2_frame(kData, flags, stream, payload);
  }
  static std::string rst(std::uint32_t stream, std::uint32_t code = kCancel) {
    return h2_frame(kRstStream, 0, stream, h2_u32(code));
  }

 private:
  test::HpackEncoder client_;
  test::HpackEncoder server_;
};

// A LegDriver on the h2 connection of leg 4 (127.0.0.1:50000 → :8443).
class Leg : public test::LegDriver {
 public:
  Leg() : LegDriver(identity()) {}

 private:
  static Connection identity() {
    Connection c;
    c.index = 4;
    c.client = {"127.0.0.1", 50000};
    c.server = {"127.0.0.1", 8443};
    return c;
  }
};

std::vector<std::string> lines(const Connection& c) {
  return test::event_lines(c.events);
}

// The browser opened stream 1 and got its 200: packets 1 (client) and 2 (server).
void open_stream(Leg& leg, H2Wire& w) {
  leg.data(Side::client, w.preface() + w.connect(1));
  leg.data(Side::server, w.server_settings() + w.status(1, "200"));
}

TEST(H2Legs, TheStreamIsTheLegAndHaproxysResetIsItsEnd) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  // HAProxy behind a Close-then-FIN backend: Close, an empty END_STREAM, RST_STREAM(CANCEL), in
  // one record.
  leg.data(Side::server, w.data(1, server_frame(kClose, close_payload(4321, "test"))) +
                             w.data(1, "", kEndStream) + w.rst(1));
  const std::vector<Connection> legs = leg.finish_with_streams();
  ASSERT_EQ(legs.size(), 2u);
  EXPECT_TRUE(legs[0].h2_connection);
  EXPECT_FALSE(legs[0].websocket);
  EXPECT_EQ(legs[0].h2_stream, 0u);
  const Connection& s = legs[1];
  EXPECT_TRUE(s.websocket);
  EXPECT_EQ(s.h2_stream, 1u);
  EXPECT_EQ(s.index, 4u);
  EXPECT_EQ(s.client.port, 50000);
  EXPECT_EQ(s.handshake.target, "/chat");
  EXPECT_EQ(s.handshake.server, "haproxy");
  EXPECT_EQ(leg_label(s), "leg 5 stream 1");
  const std::vector<std::string> want = {
      "client http.upgrade CONNECT /chat HTTP/2 (:protocol websocket, stream 1) #1",
      "server http.upgrade HTTP/2 200 #2",
      "server ws.close 4321 test #3",
      "server h2.end_stream #3",
      "server h2.rst_stream CANCEL #3",
  };
  EXPECT_EQ(lines(s), want);

  const Verdict chrome = judge(s, Profile::chrome);
  EXPECT_EQ(chrome.code, 1006);
  EXPECT_FALSE(chrome.was_clean);
  EXPECT_EQ(chrome.error_event, false);
  EXPECT_EQ(chrome.why, "RST_STREAM from the server side before its Close reply: stream gone");
  const Verdict firefox = judge(s, Profile::firefox);
  EXPECT_EQ(firefox.code, 1006);
  EXPECT_EQ(firefox.error_event, true);
  const Verdict rfc = judge(s, Profile::rfc);
  EXPECT_EQ(rfc.code, 4321);
  EXPECT_FALSE(rfc.was_clean);
}

TEST(H2Legs, TheBrowsersReplyAheadOfTheResetIsClean) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, w.data(1, server_frame(kClose, close_payload(4321, "test"))));
  // Chromium puts END_STREAM on its Close; HAProxy then ends and resets the stream.
  leg.data(Side::client, w.data(1, client_frame(kClose, close_payload(4321, "test")), kEndStream));
  leg.data(Side::server, w.data(1, "", kEndStream) + w.rst(1));
  const Connection s = leg.finish_with_streams().at(1);
  for (const Profile p : {Profile::chrome, Profile::firefox, Profile::rfc}) {
    const Verdict v = judge(s, p);
    EXPECT_EQ(v.code, 4321) << to_string(p);
    EXPECT_TRUE(v.was_clean) << to_string(p) << ": " << v.why;
    if (p != Profile::rfc) {
      EXPECT_EQ(v.error_event, false) << to_string(p);
    }
  }
}

TEST(H2Legs, CloseWithEndStreamAloneIsCleanAndChromiumsCancelChangesNothing) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, w.data(1, server_frame(kClose, close_payload(4321, "test")), kEndStream));
  leg.data(Side::client, w.rst(1));  // Chromium answers with RST_STREAM(CANCEL), no Close
  const Connection s = leg.finish_with_streams().at(1);
  const Verdict chrome = judge(s, Profile::chrome);
  EXPECT_EQ(chrome.code, 4321);
  EXPECT_TRUE(chrome.was_clean);
  EXPECT_NE(chrome.why.find("server END_STREAM"), std::string::npos) << chrome.why;
}

// HAProxy's Close + END_STREAM came in one record, its RST_STREAM in the next; Chromium had
// read the first as EOF and cancelled the stream in between: the late reset changes nothing.
TEST(H2Legs, AResetBehindTheBrowsersOwnCancelChangesNothing) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, w.data(1, server_frame(kClose, close_payload(4321, "test"))) +
                             w.data(1, "", kEndStream));
  leg.data(Side::client, w.rst(1));
  leg.data(Side::server, w.rst(1));
  const Connection s = leg.finish_with_streams().at(1);
  const Verdict chrome = judge(s, Profile::chrome);
  EXPECT_EQ(chrome.code, 4321) << chrome.why;
  EXPECT_TRUE(chrome.was_clean) << chrome.why;
  // The same reset ahead of the browser's cancel is the 1006 of HAProxy's usual record.
  H2Wire w2;  // a new connection: HPACK tables of its own
  Leg first;
  open_stream(first, w2);
  first.data(Side::server, w2.data(1, server_frame(kClose, close_payload(4321, "test"))) +
                               w2.data(1, "", kEndStream));
  first.data(Side::server, w2.rst(1));
  first.data(Side::client, w2.rst(1));
  EXPECT_EQ(judge(first.finish_with_streams().at(1), Profile::chrome).code, 1006);
}

TEST(H2Legs, AnIdleTimeoutIsEndAndResetWithoutACloseFrame) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, w.data(1, "", kEndStream) + w.rst(1));
  const Connection s = leg.finish_with_streams().at(1);
  for (const Profile p : {Profile::chrome, Profile::firefox}) {
    const Verdict v = judge(s, p);
    EXPECT_EQ(v.code, 1006) << to_string(p);
    EXPECT_EQ(v.error_event, false) << to_string(p);
    EXPECT_EQ(v.why, "stream ended without a Close frame from the server side");
  }
}

TEST(H2Legs, StreamsOfOneConnectionAreLegsInRequestOrderAndPagesAreNot) {
  H2Wire w;
  Leg leg;
  // One encoder per side: its blocks must be made in wire order (not inside one expression).
  std::string client = w.preface() + w.get(1, "/");
  client += w.connect(3, "/a");
  leg.data(Side::client, client);
  std::string server = w.server_settings() + w.status(1, "200", kEndStream);
  server += w.status(3, "200");
  leg.data(Side::server, server);
  leg.data(Side::client, w.connect(5, "/b"));
  leg.data(Side::server, w.status(5, "200") +
                             w.data(5, server_frame(kClose, close_payload(4005, "b"))) +
                             w.data(3, server_frame(kText, "hi")));
  leg.data(Side::server, w.data(3, server_frame(kClose, close_payload(4003, "a")), kEndStream));
  const std::vector<Connection> legs = leg.finish_with_streams();
  ASSERT_EQ(legs.size(), 3u);
  EXPECT_EQ(legs[1].h2_stream, 3u);
  EXPECT_EQ(legs[1].handshake.target, "/a");
  EXPECT_EQ(legs[2].h2_stream, 5u);
  EXPECT_EQ(legs[2].handshake.target, "/b");
  EXPECT_EQ(judge(legs[1], Profile::chrome).code, 4003);
  EXPECT_EQ(judge(legs[2], Profile::rfc).code, 4005);
  EXPECT_EQ(lines(legs[1]).at(2), "server ws.text hi #4");
}

TEST(H2Legs, ARefusedConnectIsNoWebSocket) {
  H2Wire w;
  Leg leg;
  leg.data(Side::client, w.preface() + w.connect(1));
  leg.data(Side::server, w.status(1, "403", kEndStream));
  const Connection s = leg.finish_with_streams().at(1);
  EXPECT_FALSE(s.websocket);
  EXPECT_EQ(lines(s).at(1), "server http.response HTTP/2 403 #2");
}

// The preface split at every byte, the server's SETTINGS ahead of it (TLS 1.3 lets a server
// write first), and every frame cut at every byte: the same events every time.
TEST(H2Legs, BytesSplitAnywhereGiveTheSameLeg) {
  H2Wire reference_wire;
  const std::string client = reference_wire.preface() + reference_wire.connect(1) +
                             H2Wire::data(1, client_frame(kText, "hello"));
  const std::string server = reference_wire.server_settings() + reference_wire.status(1, "200") +
                             H2Wire::data(1, server_frame(kClose, close_payload(4321, "x"))) +
                             H2Wire::rst(1);
  std::vector<std::string> kinds_whole;
  for (std::size_t cut = 0; cut <= std::max(client.size(), server.size()); ++cut) {
    Leg leg;
    const std::size_t cc = std::min(cut, client.size());
    const std::size_t sc = std::min(cut, server.size());
    // The server's first bytes (up to 15: within its SETTINGS) go ahead of the client's.
    const std::size_t early = std::min<std::size_t>(sc, 15);
    const std::size_t mid = std::max(early, sc);
    leg.data(Side::server, server.substr(0, early));
    leg.data(Side::client, client.substr(0, cc));
    leg.data(Side::client, client.substr(cc));
    leg.data(Side::server, server.substr(early, mid - early));
    leg.data(Side::server, server.substr(mid));
    const std::vector<Connection> legs = leg.finish_with_streams();
    ASSERT_EQ(legs.size(), 2u) << "cut " << cut;
    std::vector<std::string> kinds;
    for (const Event& e : legs[1].events)
      kinds.push_back(std::string(to_string(e.from)) + " " + e.kind);
    if (kinds_whole.empty()) kinds_whole = kinds;
    ASSERT_EQ(kinds, kinds_whole) << "cut " << cut;
  }
  // The client's frame was held until the 200 and is on the timeline at its own packet.
  const std::vector<std::string> want = {"client http.upgrade", "client ws.text",
                                         "server http.upgrade", "server ws.close",
                                         "server h2.rst_stream"};
  EXPECT_EQ(kinds_whole, want);
}

TEST(H2Legs, AFrameCutByTheResetIsReportedAsCutOff) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  const std::string close = server_frame(kClose, close_payload(4321, "test"));
  leg.data(Side::server, w.data(1, close.substr(0, 3)) + w.rst(1));
  const Connection s = leg.finish_with_streams().at(1);
  const std::vector<std::string> got = lines(s);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2], "server h2.rst_stream CANCEL #3");
  EXPECT_EQ(s.events[3].kind, kind::protocol_error);
  EXPECT_EQ(s.events[3].note, "frame cut off by RST_STREAM");
}

TEST(H2Legs, FramesOnAClosedStreamAndAReusedIdAreReportedInOneLine) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, w.rst(1) + w.data(1, server_frame(kText, "late")));
  leg.data(Side::client, w.connect(1));  // the WebSocket's stream id again
  leg.data(Side::client, w.get(3, "/") + w.data(3, "body"));
  leg.data(Side::client, w.get(3, "/again"));  // a page's stream id again
  const std::vector<Connection> legs = leg.finish_with_streams();
  ASSERT_EQ(legs.size(), 2u);
  const std::size_t n = legs[1].events.size();
  ASSERT_GE(n, 2u);
  EXPECT_EQ(legs[1].events[n - 2].note, "DATA on stream 1 after its RST_STREAM");
  EXPECT_EQ(legs[1].events[n - 1].note, "HEADERS on stream 1 after its RST_STREAM");
  EXPECT_EQ(legs[1].events[n - 1].kind, kind::h2_protocol_error);
  const Event& reused = legs[0].events.back();
  EXPECT_EQ(reused.kind, kind::h2_protocol_error);
  EXPECT_NE(reused.note.find("HEADERS of stream 3 at byte"), std::string::npos) << reused.note;
  EXPECT_NE(reused.note.find("reuses a closed stream (stream 3 came before it)"), std::string::npos)
      << reused.note;
}

// Chromium cancels a stream HAProxy has just ended and reset (both in one record): resets that
// cross are both on the timeline; a second reset from the same side is a protocol error.
TEST(H2Legs, ResetsThatCrossAreBothShownAndASecondFromOneSideIsAnError) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, w.data(1, "", kEndStream) + w.rst(1));
  leg.data(Side::client, w.rst(1));
  leg.data(Side::client, w.rst(1));
  const Connection s = leg.finish_with_streams().at(1);
  const std::vector<std::string> got = lines(s);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[3], "server h2.rst_stream CANCEL #3");
  EXPECT_EQ(got[4], "client h2.rst_stream CANCEL #4");
  EXPECT_EQ(s.events[4].note, "the server had reset the stream already");
  EXPECT_EQ(s.events[5].kind, kind::h2_protocol_error);
  EXPECT_EQ(s.events[5].note, "RST_STREAM on stream 1 after its RST_STREAM");
  // The verdict still reads the server's reset: no Close, so 1006.
  EXPECT_EQ(judge(s, Profile::chrome).code, 1006);
}

TEST(H2Legs, AnUnreadableFrameStopsTheConnectionAndTellsItsOpenStreams) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, h2_frame(kHeaders, kEndHeaders, 1, "\xff\xff\xff\xff"));
  leg.data(Side::server, w.data(1, server_frame(kClose, close_payload(4321, "x"))));
  const std::vector<Connection> legs = leg.finish_with_streams();
  ASSERT_EQ(legs.size(), 2u);
  ASSERT_FALSE(legs[0].events.empty());
  EXPECT_EQ(legs[0].events.back().kind, kind::h2_protocol_error);
  EXPECT_NE(legs[0].events.back().note.find("HPACK error"), std::string::npos);
  EXPECT_EQ(legs[1].events.back().kind, kind::h2_protocol_error);
  for (const Event& e : legs[1].events) EXPECT_NE(e.kind, kind::close) << "read after the error";
}

TEST(H2Legs, TheConnectionsEndsReachItsOpenStreamsAndGoawayIsShown) {
  H2Wire w;
  Leg leg;
  open_stream(leg, w);
  leg.data(Side::server, h2_frame(kGoaway, 0, 0, h2_u32(1) + h2_u32(0)));
  leg.tcp(Side::server, kind::rst);
  const std::vector<Connection> legs = leg.finish_with_streams();
  const std::vector<std::string> all = lines(legs[1]);
  ASSERT_GE(all.size(), 2u);
  const std::vector<std::string> tail(all.end() - 2, all.end());
  const std::vector<std::string> want = {"server h2.goaway NO_ERROR #3", "server tcp.rst #4"};
  EXPECT_EQ(tail, want);
  EXPECT_EQ(judge(legs[1], Profile::chrome).code, 1006);
}

TEST(H2Legs, AnHttp1LegThatStartsLikeThePrefaceIsStillHttp1) {
  Leg leg;
  leg.data(Side::client, "P");
  leg.data(Side::client, "RI-ish nonsense / HTTP/1.1\r\n\r\n");
  const std::vector<Connection> legs = leg.finish_with_streams();
  ASSERT_EQ(legs.size(), 1u);
  EXPECT_FALSE(legs[0].h2_connection);
  Leg upgrade;
  upgrade.data(Side::client, test::upgrade_request());
  upgrade.data(Side::server, test::upgrade_response());
  const std::vector<Connection> h1 = upgrade.finish_with_streams();
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_TRUE(h1[0].websocket);
}

}  // namespace
}  // namespace closewire
