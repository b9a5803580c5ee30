#include "harness/wire/handshake.h"

#include <gtest/gtest.h>

namespace closewire::wire {
namespace {

TEST(Handshake, AcceptMatchesRfc6455Example) {
  // RFC 6455 §1.3.
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(Handshake, KeysAreFreshBase64Of16Bytes) {
  auto a = make_websocket_key();
  auto b = make_websocket_key();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
}

TEST(Handshake, ResponseCarriesTheAccept) {
  auto r = upgrade_response("dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(r.rfind("HTTP/1.1 101 ", 0), 0u);
  EXPECT_NE(r.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 4), "\r\n\r\n");
}

TEST(Handshake, RequestIsAnUpgrade) {
  auto r = upgrade_request("127.0.0.1:80", "/chat", "KEY");
  EXPECT_EQ(r.rfind("GET /chat HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(r.find("Upgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(r.find("Sec-WebSocket-Key: KEY\r\n"), std::string::npos);
}

}  // namespace
}  // namespace closewire::wire
