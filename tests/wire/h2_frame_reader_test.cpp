// HTTP/2 frames read passively from one direction's bytes: an extended CONNECT for a WebSocket
// (RFC 8441), DATA carrying its frames, END_STREAM, RST_STREAM, GOAWAY, SETTINGS, and bad input
// reported in one line (a HEADERS block split over CONTINUATION frames, at every byte boundary).
#include "harness/wire/h2_frame_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/support/h2_frames.h"

namespace closewire::wire {
namespace {

using test::HpackEncoder;
using Headers = test::H2Headers;

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  const std::string& payload) {
  return test::h2_frame(type, flags, stream, payload);
}
std::string u32(std::uint32_t v) {
  return test::h2_u32(v);
}
using Encoder = HpackEncoder;

const Headers kConnect = {{":method", "CONNECT"},      {":protocol", "websocket"},
                          {":scheme", "https"},        {":path", "/chat"},
                          {":authority", "localhost"}, {"sec-websocket-version", "13"}};

std::vector<H2Frame> read(H2FrameReader& r, const std::string& bytes) {
  std::vector<H2Frame> out;
  r.feed({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, out);
  return out;
}

// The browser's side of a WebSocket over h2: preface, SETTINGS, the extended CONNECT on stream 3
// split over HEADERS + CONTINUATION, a DATA frame with a Close in it, then its END_STREAM.
std::string client_bytes(Encoder& enc, std::size_t split) {
  const std::string block = enc.block(kConnect);
  std::string out(kH2Preface);
  out += frame(0x4, 0, 0, std::string("\x00\x08", 2) + u32(1));  // ENABLE_CONNECT_PROTOCOL = 1
  out += frame(0x1, 0, 3, block.substr(0, split));
  out += frame(0x9, h2_flag::end_headers, 3, block.substr(split));
  out += frame(0x0, 0, 3,
               "\x88\x82"
               "abcd"
               "xy");  // a masked Close frame's bytes
  out += frame(0x0, h2_flag::end_stream, 3, "");
  return out;
}

TEST(H2FrameReader, AnExtendedConnectStreamAtEveryByteBoundary) {
  Encoder enc;
  const std::string bytes = client_bytes(enc, 7);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    H2FrameReader r(/*client=*/true);
    std::vector<H2Frame> frames = read(r, bytes.substr(0, cut));
    for (auto& f : read(r, bytes.substr(cut))) frames.push_back(std::move(f));
    ASSERT_EQ(r.problem(), "") << "cut at " << cut;
    ASSERT_EQ(frames.size(), 4u) << "cut at " << cut;
    EXPECT_EQ(frames[0].type, 0x4);
    ASSERT_EQ(frames[0].settings.size(), 1u);
    EXPECT_EQ(frames[0].settings[0], (std::pair<std::uint16_t, std::uint32_t>{8, 1}));
    EXPECT_EQ(frames[1].type, 0x1);  // HEADERS, its CONTINUATION folded in
    EXPECT_EQ(frames[1].stream, 3u);
    EXPECT_EQ(frames[1].headers, kConnect);
    EXPECT_EQ(frames[1].header(":protocol"), "websocket");
    EXPECT_EQ(frames[2].data,
              "\x88\x82"
              "abcd"
              "xy");
    EXPECT_FALSE(frames[2].end_stream());
    EXPECT_TRUE(frames[3].end_stream());
    EXPECT_FALSE(r.mid_frame());
  }
}

TEST(H2FrameReader, ResetsAndGoawayCarryTheirCodes) {
  Encoder enc;
  H2FrameReader r(/*client=*/false);  // the server's side has no preface
  const std::string bytes =
      frame(0x1, h2_flag::end_headers, 3, enc.block({{":status", "200"}})) +
      frame(0x0, h2_flag::end_stream, 3, "\x88\x02\x10\xe1") +  // Close 4321, END_STREAM
      frame(0x3, 0, 3, u32(8)) +                                // RST_STREAM(CANCEL)
      frame(0x7, 0, 0, u32(3) + u32(0)) +                       // GOAWAY last 3, NO_ERROR
      frame(0x8, 0, 0, u32(65535)) + frame(0x6, 0, 0, std::string(8, 'p'));
  const auto frames = read(r, bytes);
  ASSERT_EQ(r.problem(), "");
  ASSERT_EQ(frames.size(), 6u);
  EXPECT_EQ(frames[0].header(":status"), "200");
  EXPECT_TRUE(frames[1].end_stream());
  EXPECT_EQ(frames[2].type, 0x3);
  EXPECT_EQ(h2_error_name(frames[2].error_code), "CANCEL");
  EXPECT_EQ(frames[3].last_stream, 3u);
  EXPECT_EQ(h2_error_name(frames[3].error_code), "NO_ERROR");
  EXPECT_EQ(h2_type_name(frames[4].type), "WINDOW_UPDATE");
  EXPECT_EQ(h2_type_name(frames[5].type), "PING");
}

TEST(H2FrameReader, PaddingIsTakenOff) {
  H2FrameReader r(false);
  const auto frames = read(
      r, frame(0x0, h2_flag::padded, 1, std::string("\x03", 1) + "abc" + std::string(3, '\0')));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "abc");
  H2FrameReader bad(false);
  read(bad, frame(0x0, h2_flag::padded, 1, std::string("\x09", 1) + "abc"));
  EXPECT_EQ(bad.problem(), "DATA of stream 1 at byte 0: bad DATA frame");
}

TEST(H2FrameReader, BadInputIsOneLineAndStopsTheReader) {
  Encoder enc;
  struct Case {
    std::string bytes;
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\n", "no HTTP/2 connection preface"},
      {std::string(kH2Preface) + frame(0x9, h2_flag::end_headers, 1, "x"),
       "CONTINUATION of stream 1 at byte 24: CONTINUATION without HEADERS"},
      {std::string(kH2Preface) + frame(0x1, 0, 1, enc.block(kConnect).substr(0, 3)) +
           frame(0x0, 0, 1, "x"),
       "DATA of stream 1 at byte " + std::to_string(24 + 9 + 3) +
           ": CONTINUATION of stream 1 expected"},
      {std::string(kH2Preface) + frame(0x1, h2_flag::end_headers, 1, "\xff\xff\xff\xff"),
       "HEADERS of stream 1 at byte 24: HPACK error"},
      {std::string(kH2Preface) + frame(0x3, 0, 1, "abc"),
       "RST_STREAM of stream 1 at byte 24: bad RST_STREAM frame"},
      {std::string(kH2Preface) + frame(0x4, 0, 0, "abcde"),
       "SETTINGS of stream 0 at byte 24: bad SETTINGS frame"},
  };
  for (const Case& c : cases) {
    H2FrameReader r(true);
    read(r, c.bytes);
    EXPECT_EQ(r.problem(), c.problem);
    EXPECT_TRUE(read(r, frame(0x6, 0, 0, std::string(8, 'p'))).empty()) << "read after a problem";
  }
}

}  // namespace
}  // namespace closewire::wire
