#include "harness/wire/http_head.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/wire/frame_decoder.h"
#include "harness/wire/frame_encoder.h"

namespace closewire::wire {
namespace {

using namespace std::string_view_literals;
using Kind = HttpHeadParser::Kind;
using State = HttpHeadParser::State;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

constexpr std::string_view kRequest =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

constexpr std::string_view kResponse101 =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

HttpHeadParser parse_whole(Kind kind, std::string_view text) {
  HttpHeadParser p(kind);
  EXPECT_EQ(p.feed(as_bytes(text)), text.size());
  return p;
}

std::string request_with(std::string_view method, std::string_view extra_headers) {
  return std::string(method) + " /ws HTTP/1.1\r\nHost: h\r\n" + std::string(extra_headers) + "\r\n";
}

TEST(HttpHeadParser, ParsesUpgradeRequest) {
  HttpHeadParser p = parse_whole(Kind::request, kRequest);
  ASSERT_EQ(p.state(), State::done) << p.error();
  EXPECT_TRUE(p.is_websocket_upgrade_request());
  EXPECT_EQ(p.first_line(), "GET /chat HTTP/1.1");
  EXPECT_EQ(p.status(), 0u);
}

TEST(HttpHeadParser, KeepsTheFieldsThatLinkLegsAndNameProxies) {
  HttpHeadParser req(Kind::request);
  for (std::size_t i = 0; i < kRequest.size(); ++i) req.feed(as_bytes(kRequest.substr(i, 1)));
  ASSERT_EQ(req.state(), State::done) << req.error();
  EXPECT_EQ(req.fields().target, "/chat");
  EXPECT_EQ(req.fields().key, "dGhlIHNhbXBsZSBub25jZQ==");
  const std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
      "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nserver: istio-envoy\r\n"
      "X-Envoy-Upstream-Service-Time: 2\r\n\r\n";
  const HttpHeadParser res = parse_whole(Kind::response, response);
  ASSERT_EQ(res.state(), State::done) << res.error();
  EXPECT_EQ(res.fields().accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(res.fields().server, "istio-envoy");
  EXPECT_TRUE(res.fields().envoy_fields);
  EXPECT_FALSE(parse_whole(Kind::response, kResponse101).fields().envoy_fields);
}

TEST(HttpHeadParser, RequestSplitByteByByte) {
  HttpHeadParser p(Kind::request);
  std::size_t total = 0;
  for (std::size_t i = 0; i < kRequest.size(); ++i) {
    ASSERT_EQ(p.state(), State::need_more) << "at byte " << i;
    total += p.feed(as_bytes(kRequest.substr(i, 1)));
  }
  ASSERT_EQ(p.state(), State::done) << p.error();
  EXPECT_EQ(total, kRequest.size());
  EXPECT_TRUE(p.is_websocket_upgrade_request());
  EXPECT_EQ(p.first_line(), "GET /chat HTTP/1.1");
}

TEST(HttpHeadParser, UpgradeTokensAreCaseInsensitiveAndListed) {
  HttpHeadParser p =
      parse_whole(Kind::request,
                  request_with("GET", "upgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"));
  ASSERT_EQ(p.state(), State::done) << p.error();
  EXPECT_TRUE(p.is_websocket_upgrade_request());
}

TEST(HttpHeadParser, UpgradeTokenInSecondConnectionHeader) {
  HttpHeadParser p = parse_whole(
      Kind::request,
      request_with("GET",
                   "Upgrade: websocket\r\nConnection: keep-alive\r\nConnection: UPGRADE\r\n"));
  ASSERT_EQ(p.state(), State::done) << p.error();
  EXPECT_TRUE(p.is_websocket_upgrade_request());
}

TEST(HttpHeadParser, NotAnUpgradeWithoutBothHeadersOrWithWrongMethod) {
  const std::vector<std::string> heads = {
      request_with("GET", "Connection: Upgrade\r\n"),
      request_with("GET", "Upgrade: websocket\r\n"),
      request_with("GET", "Upgrade: h2c\r\nConnection: Upgrade\r\n"),
      request_with("GET", "Upgrade: websocket\r\nConnection: upgraded\r\n"),
      request_with("POST", "Upgrade: websocket\r\nConnection: Upgrade\r\n"),
  };
  for (const auto& head : heads) {
    SCOPED_TRACE(head);
    HttpHeadParser p = parse_whole(Kind::request, head);
    ASSERT_EQ(p.state(), State::done) << p.error();
    EXPECT_FALSE(p.is_websocket_upgrade_request());
  }
}

TEST(HttpHeadParser, Response101) {
  HttpHeadParser p = parse_whole(Kind::response, kResponse101);
  ASSERT_EQ(p.state(), State::done) << p.error();
  EXPECT_EQ(p.status(), 101u);
  EXPECT_EQ(p.first_line(), "HTTP/1.1 101 Switching Protocols");
  EXPECT_FALSE(p.is_websocket_upgrade_request());
}

TEST(HttpHeadParser, Response200StopsAtHeadDespiteBody) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const std::string all = head + "hello";
  HttpHeadParser p(Kind::response);
  EXPECT_EQ(p.feed(as_bytes(all)), head.size());
  ASSERT_EQ(p.state(), State::done) << p.error();
  EXPECT_EQ(p.status(), 200u);
  EXPECT_EQ(p.first_line(), "HTTP/1.1 200 OK");
}

TEST(HttpHeadParser, HugeContentLengthIsNoError) {
  HttpHeadParser p =
      parse_whole(Kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n");
  EXPECT_EQ(p.state(), State::done) << p.error();
}

TEST(HttpHeadParser, BytesAfterHeadAreNotConsumed) {
  const std::string frame = encode_frame(Opcode::text, "hi");
  const std::string segment = std::string(kResponse101) + frame;
  HttpHeadParser p(Kind::response);
  const std::size_t used = p.feed(as_bytes(segment));
  ASSERT_EQ(p.state(), State::done) << p.error();
  ASSERT_EQ(used, kResponse101.size());

  // What is left of the segment decodes as a frame.
  FrameDecoder d(false);
  std::vector<Frame> frames;
  d.feed(as_bytes(segment).subspan(used), frames);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "hi");

  // Later bytes belong to the frames too.
  EXPECT_EQ(p.feed(as_bytes(frame)), 0u);
}

TEST(HttpHeadParser, HeadEndingInSecondSegmentCountsOnlyItsTail) {
  const std::string frame = encode_frame(Opcode::text, "hi", true, {{1, 2, 3, 4}});
  const std::string stream = std::string(kRequest) + frame;
  for (std::size_t cut = 1; cut < kRequest.size(); ++cut) {
    SCOPED_TRACE(cut);
    HttpHeadParser p(Kind::request);
    ASSERT_EQ(p.feed(as_bytes(stream).first(cut)), cut);
    ASSERT_EQ(p.state(), State::need_more);
    ASSERT_EQ(p.feed(as_bytes(stream).subspan(cut)), kRequest.size() - cut) << p.error();
    ASSERT_EQ(p.state(), State::done) << p.error();
    EXPECT_EQ(p.first_line(), "GET /chat HTTP/1.1");
    EXPECT_TRUE(p.is_websocket_upgrade_request());
  }
}

TEST(HttpHeadParser, GarbageIsAnError) {
  HttpHeadParser p(Kind::request);
  p.feed(as_bytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello, not HTTP\r\n\r\n"sv));
  EXPECT_EQ(p.state(), State::error);
  EXPECT_FALSE(p.error().empty());
  EXPECT_FALSE(p.is_websocket_upgrade_request());
  EXPECT_EQ(p.feed(as_bytes("GET / HTTP/1.1\r\n\r\n")), 0u);
  EXPECT_EQ(p.state(), State::error);
}

TEST(HttpHeadParser, ResponseParserRejectsARequest) {
  HttpHeadParser p(Kind::response);
  p.feed(as_bytes(kRequest));
  EXPECT_EQ(p.state(), State::error);
}

TEST(HttpHeadParser, OverlongHeadIsAnError) {
  HttpHeadParser p(Kind::request);
  p.feed(as_bytes("GET / HTTP/1.1\r\n"));
  const std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
  for (int i = 0; i < 40 && p.state() == State::need_more; ++i) p.feed(as_bytes(line));
  EXPECT_EQ(p.state(), State::error);
  EXPECT_FALSE(p.error().empty());
}

TEST(HttpHeadParser, MovedParserKeepsItsState) {
  HttpHeadParser a(Kind::request);
  a.feed(as_bytes(kRequest.substr(0, 10)));
  HttpHeadParser b = std::move(a);
  b.feed(as_bytes(kRequest.substr(10)));
  ASSERT_EQ(b.state(), State::done) << b.error();
  EXPECT_TRUE(b.is_websocket_upgrade_request());
}

}  // namespace
}  // namespace closewire::wire
