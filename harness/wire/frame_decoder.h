// Incremental WebSocket frame decoder over one direction of a TCP stream.
#pragma once

#include <cstddef>
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

  // True while bytes of an incomplete frame are pending (false at a frame boundary).
  bool mid_frame() const;
  std::uint64_t bytes_consumed() const { return consumed_; }

  // The frame whose header is in but whose payload is not complete yet (its payload holds what
  // arrived so far), else nullptr. Lets a caller report a frame cut off by the end of the
  // stream, or header problems of a frame that can never complete (64-bit length, top bit set).
  const Frame* pending_frame() const { return in_payload_ ? &current_ : nullptr; }

 private:
  // Implementation state; see frame_decoder.cpp.
  static constexpr std::size_t kMaxHeader = 14;  // 2 + 8 (64-bit length) + 4 (mask key)

  // Fills current_ from a complete header and applies the per-frame checks.
  void begin_frame(const std::uint8_t* header, std::uint64_t offset);
  // Appends payload bytes (unmasking the retained part) and returns how many were used.
  std::size_t take_payload(const std::uint8_t* p, std::size_t n);
  void finish_frame(std::vector<Frame>& out);

  bool expect_masked_;
  std::uint64_t consumed_ = 0;
  // A header split across feeds is gathered here; a whole one in the input is parsed in place.
  std::uint8_t header_[kMaxHeader] = {};
  std::size_t header_have_ = 0;
  std::size_t header_needed_ = 2;
  std::uint64_t frame_start_ = 0;
  bool in_payload_ = false;
  Frame current_;
  std::uint64_t payload_remaining_ = 0;
  std::uint8_t mask_[4] = {0, 0, 0, 0};
  bool in_fragmented_message_ = false;
};

}  // namespace closewire::wire
