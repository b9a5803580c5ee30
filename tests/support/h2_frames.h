// HTTP/2 frames as bytes for tests: frame headers, HPACK blocks from nghttp2's own encoder (one per
// direction, so its dynamic table follows the blocks as a real peer's does), and the two sides of
// an RFC 8441 WebSocket stream.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace closewire::test {

using H2Headers = std::vector<std::pair<std::string, std::string>>;

// One frame: the 9-byte header and `payload`.
std::string h2_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                     const std::string& payload);
std::string h2_u32(std::uint32_t v);

class HpackEncoder {
 public:
  HpackEncoder();
  ~HpackEncoder();
  HpackEncoder(const HpackEncoder&) = delete;
  HpackEncoder& operator=(const HpackEncoder&) = delete;
  std::string block(const H2Headers& headers);

 private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

// A browser's extended CONNECT for a WebSocket at `path`.
H2Headers websocket_connect(const std::string& path = "/chat");
// SETTINGS with ENABLE_CONNECT_PROTOCOL = 1 (a server that allows RFC 8441).
std::string h2_settings_enable_connect();

}  // namespace closewire::test
