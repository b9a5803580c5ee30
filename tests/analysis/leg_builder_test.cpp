#include "harness/analysis/leg_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/support/capture_builder.h"
#include "tests/support/leg_driver.h"

namespace closewire {
namespace {

using test::client_frame;
using test::close_payload;
using test::server_frame;

constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kBinary = 0x2;
constexpr std::uint8_t kClose = 0x8;
constexpr std::uint8_t kPing = 0x9;

using Leg = test::LegDriver;

TEST(LegBuilder, UpgradeThenCloseHandshake) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kClose, close_payload(4321, "test")));
  leg.data(Side::client, client_frame(kClose, close_payload(4321, "test")));
  const std::vector<std::string> want = {
      "client http.upgrade GET /chat HTTP/1.1 #1",
      "server http.upgrade HTTP/1.1 101 Switching Protocols #2",
      "server ws.close 4321 test #3",
      "client ws.close 4321 test #4",
  };
  EXPECT_EQ(leg.lines(), want);
  const Connection c = leg.finish();
  EXPECT_TRUE(c.websocket);
  EXPECT_EQ(c.observed_until, 4000);
}

TEST(LegBuilder, HeadAndFramesInTheSameSegment) {
  Leg leg;
  leg.data(Side::client, test::upgrade_request());
  leg.data(Side::server,
           test::upgrade_response() + server_frame(kText, "hello") + server_frame(kPing, "p"));
  const std::vector<std::string> want = {
      "client http.upgrade GET /chat HTTP/1.1 #1",
      "server http.upgrade HTTP/1.1 101 Switching Protocols #2",
      "server ws.text hello #2",
      "server ws.ping #2",
  };
  EXPECT_EQ(leg.lines(), want);
}

TEST(LegBuilder, FrameSplitAcrossSegmentsTakesTheCompletingPacket) {
  Leg leg;
  leg.upgrade();
  const std::string frame = server_frame(kBinary, std::string(300, 'x'));
  leg.data(Side::server, frame.substr(0, 3));    // #3: inside the header
  leg.data(Side::server, frame.substr(3, 100));  // #4
  EXPECT_EQ(leg.events().size(), 2u);
  leg.data(Side::server, frame.substr(103));  // #5 completes it
  ASSERT_EQ(leg.events().size(), 3u);
  EXPECT_EQ(leg.last().kind, kind::binary);
  EXPECT_EQ(leg.last().packet, 5u);
  EXPECT_EQ(leg.last().t, 5000);
  EXPECT_EQ(leg.last().bytes, 300u);
}

TEST(LegBuilder, FramesBeforeTheFinOfTheSamePacket) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kClose, close_payload(1000, "")));
  leg.tcp_same_packet(Side::server, kind::fin);
  const std::vector<std::string> lines = leg.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2], "server ws.close 1000 #3");
  EXPECT_EQ(lines[3], "server tcp.fin #3");
}

TEST(LegBuilder, NonWebSocketBytesAfterTheHeadAreNotFrames) {
  Leg leg;
  leg.data(Side::client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  leg.data(Side::server, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n" + server_frame(kText, "x"));
  const std::vector<std::string> want = {"server http.response HTTP/1.1 200 OK #2"};
  EXPECT_EQ(leg.lines(), want);
  EXPECT_FALSE(leg.finish().websocket);
}

TEST(LegBuilder, RefusedUpgradeDropsTheClientsEarlyFrames) {
  Leg leg;
  leg.data(Side::client, test::upgrade_request() + client_frame(kText, "too early"));
  leg.data(Side::server, test::upgrade_response(403));
  const std::vector<std::string> want = {"client http.upgrade GET /chat HTTP/1.1 #1",
                                         "server http.response HTTP/1.1 403 Forbidden #2"};
  EXPECT_EQ(leg.lines(), want);
}

TEST(LegBuilder, ClientFramesBeforeThe101AreDecodedAtTheirOwnTime) {
  Leg leg;
  leg.data(Side::client, test::upgrade_request());
  leg.data(Side::client, client_frame(kText, "eager"));  // #2
  leg.data(Side::server, test::upgrade_response());      // #3
  const Connection c = leg.finish();
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[1].kind, kind::text);  // time order: before the 101
  EXPECT_EQ(c.events[1].packet, 2u);
  EXPECT_EQ(c.events[2].kind, kind::upgrade);
}

TEST(LegBuilder, ClosePayloadProblemsAreNoted) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kClose, ""));
  EXPECT_EQ(leg.last().code, 1005);
  EXPECT_EQ(leg.last().note, "no status code");
  Leg one_byte;
  one_byte.upgrade();
  one_byte.data(Side::server, server_frame(kClose, "x"));
  EXPECT_FALSE(one_byte.last().code.has_value());
  EXPECT_EQ(one_byte.last().note, "malformed close payload");
  Leg bad_code;
  bad_code.upgrade();
  bad_code.data(Side::server, server_frame(kClose, close_payload(999, "")));
  EXPECT_EQ(bad_code.last().code, 999);
  EXPECT_EQ(bad_code.last().note, "invalid close code");
  Leg bad_utf8;
  bad_utf8.upgrade();
  bad_utf8.data(Side::server, server_frame(kClose, close_payload(1000, "\xff")));
  EXPECT_EQ(bad_utf8.last().note, "invalid UTF-8 in reason");
}

TEST(LegBuilder, FrameProblemsAreProtocolErrors) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::client, server_frame(kText, "unmasked"));  // clients must mask
  ASSERT_EQ(leg.events().size(), 4u);
  EXPECT_EQ(leg.events()[2].kind, kind::text);
  EXPECT_EQ(leg.events()[3].kind, kind::protocol_error);
  EXPECT_EQ(leg.events()[3].note, "unmasked client frame");
  leg.data(Side::server, server_frame(0x3, "r"));  // reserved opcode: only the error
  EXPECT_EQ(leg.last().kind, kind::protocol_error);
  EXPECT_EQ(leg.last().note, "reserved opcode 0x3");
  EXPECT_EQ(leg.events().size(), 5u);
}

TEST(LegBuilder, FrameAfterACloseIsAProtocolError) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kClose, close_payload(1000, "")));
  leg.data(Side::server, server_frame(kText, "late"));
  EXPECT_EQ(leg.last().kind, kind::protocol_error);
  EXPECT_EQ(leg.last().note, "frame after a Close frame");
}

// Bytes that are no frame (an HTTP response behind the Close, simple-websocket#42): the broken
// header is reported by the packet that carried it, as a browser's parser fails then, not when a
// payload length read from garbage is reached or the FIN cuts it; nothing after it is decoded.
TEST(LegBuilder, ABrokenHeaderIsReportedWhenItArrives) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kClose, close_payload(3000, "x")));
  leg.data(Side::server, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnull\n");
  const std::size_t before_fin = leg.events().size();
  ASSERT_GT(before_fin, 4u);
  for (std::size_t i = 4; i < before_fin; ++i) {
    EXPECT_EQ(leg.events()[i].kind, kind::protocol_error);
    EXPECT_EQ(leg.events()[i].packet, 4u);
  }
  EXPECT_EQ(leg.events()[4].note, "fragmented control frame");  // 'H': opcode 8 without FIN
  leg.tcp(Side::server, kind::fin);
  ASSERT_EQ(leg.events().size(), before_fin + 1);  // the FIN only: no "cut off" after the loss
  EXPECT_EQ(leg.last().kind, kind::fin);
}

TEST(LegBuilder, FrameCutOffByTheFin) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kText, "hello").substr(0, 4));
  leg.tcp_same_packet(Side::server, kind::fin);
  EXPECT_EQ(leg.last().kind, kind::protocol_error);
  EXPECT_EQ(leg.last().note, "frame cut off by the FIN");
  EXPECT_EQ(leg.last().packet, 3u);
}

TEST(LegBuilder, GapStopsDecodingThatDirection) {
  Leg leg;
  leg.upgrade();
  leg.tcp(Side::server, kind::gap);
  leg.data(Side::server, server_frame(kText, "after the gap"));
  leg.data(Side::client, client_frame(kText, "client still decoded"));
  EXPECT_EQ(leg.events()[2].kind, kind::gap);
  EXPECT_NE(leg.events()[2].note.find("not decoded"), std::string::npos);
  ASSERT_EQ(leg.events().size(), 4u);
  EXPECT_EQ(leg.last().from, Side::client);
}

TEST(LegBuilder, FragmentedTextIsNoted) {
  Leg leg;
  leg.upgrade();
  leg.data(Side::server, server_frame(kText, "hel", false) + server_frame(0x0, "lo"));
  ASSERT_EQ(leg.events().size(), 4u);
  EXPECT_EQ(leg.events()[2].note, "more fragments follow");
  EXPECT_EQ(leg.events()[3].kind, kind::continuation);
}

TEST(LegBuilder, NotHttpIsIgnored) {
  Leg leg;
  leg.data(Side::client, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
  leg.data(Side::server, std::string("\x16\x03\x03\x00\x7a\x02\x00\x00", 8));
  EXPECT_TRUE(leg.events().empty());
}

}  // namespace
}  // namespace closewire
