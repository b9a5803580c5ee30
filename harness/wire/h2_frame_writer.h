// HTTP/2 frames as bytes (RFC 9113 §4.1) and HPACK header blocks from nghttp2's deflater: what
// the capture generator (tools/gen_capture) and the tests write, the other half of
// h2_frame_reader. The endpoints do not use it: their h2 is nghttp2's session API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct nghttp2_hd_deflater;

namespace closewire::wire {

using H2Headers = std::vector<std::pair<std::string, std::string>>;

// One frame: its 9-byte header, then `payload`.
std::string h2_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                     std::string_view payload);
// A 32-bit value in network order (RST_STREAM and GOAWAY codes, SETTINGS values).
std::string h2_u32(std::uint32_t v);

// One direction's HPACK encoder: its dynamic table follows the blocks in the order they are made.
class HpackEncoder {
 public:
  HpackEncoder();
  ~HpackEncoder();
  HpackEncoder(const HpackEncoder&) = delete;
  HpackEncoder& operator=(const HpackEncoder&) = delete;
  // Throws std::runtime_error when nghttp2 refuses the headers.
  std::string block(const H2Headers& headers);

 private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

}  // namespace closewire::wire
