// Incremental WebSocket frame decoder over one direction of a TCP stream.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "harness/wire/frame.h"

namespace closewire::wire {

// Feed bytes in whatever pieces they arrive (a frame split across segments, several frames in one
// segment); complete frames are appended to `out` as soon as their last byte arrives. Memory is
// bounded: at most one header plus kRetainedPayload bytes are buffered.
class FrameDecoder {
 public:
  // `expect_masked`: frames from a client must be masked, from a server must not (RFC 6455 5.1);
  // a frame that breaks this carries a problem.
  explicit FrameDecoder(bool expect_masked) : expect_masked_(expect_masked) {}

  void feed(std::span<const std::uint8_t> bytes, std::vector<Frame>& out);

  // Bytes of an incomplete frame still pending (0 at a frame boundary).
  bool mid_frame() const;
  std::uint64_t bytes_consumed() const { return consumed_; }

 private:
  // Implementation state; see frame_decoder.cpp.
  bool expect_masked_;
  std::uint64_t consumed_ = 0;
  std::vector<std::uint8_t> header_;  // header bytes gathered so far (2..14)
  std::size_t header_needed_ = 2;
  bool in_payload_ = false;
  Frame current_;
  std::uint64_t payload_remaining_ = 0;
  std::uint64_t payload_seen_ = 0;
  std::uint8_t mask_[4] = {0, 0, 0, 0};
  bool in_fragmented_message_ = false;
};

}  // namespace closewire::wire
