// RFC 6455 frame as seen in a byte stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/container/static_vector.hpp>

namespace closewire::wire {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline bool is_control(std::uint8_t opcode) {
  return (opcode & 0x8) != 0;
}
std::string_view opcode_name(std::uint8_t opcode);  // "text", "close", ..., "reserved-0x3"

// Data-frame payloads are kept up to this many bytes (the length field says the whole size), so
// memory stays bounded by what is useful to show, not by what the stream carried.
inline constexpr std::size_t kRetainedPayload = 256;

struct Frame {
  bool fin = true;
  std::uint8_t rsv = 0;     // RSV1..3 as bits 2..0
  std::uint8_t opcode = 0;  // raw 4-bit opcode; compare with Opcode values
  bool masked = false;
  std::uint64_t payload_length = 0;
  std::string
      payload;  // unmasked; whole for control frames, first kRetainedPayload bytes otherwise
  std::uint64_t stream_offset = 0;  // offset of the frame's first byte in the decoded stream
  std::uint8_t header_length = 0;   // as sent: 2, plus 2 or 8 of extended length, plus 4 of mask
  // Bytes from the frame's first byte to its last, as on the wire.
  std::uint64_t wire_size() const { return header_length + payload_length; }
  // RFC 6455 violations found in this frame, one short phrase each ("control frame longer than
  // 125 bytes", "fragmented control frame", "reserved opcode 0x3", "RSV bits set without
  // extension"): the decoder's own literals, so a frame of junk costs no string allocations. Kept in
  // place (no allocation at all): a frame breaks at most six rules at once (length, RSV, opcode,
  // mask, and two of control frames).
  boost::container::static_vector<std::string_view, 6> problems;
};

}  // namespace closewire::wire
