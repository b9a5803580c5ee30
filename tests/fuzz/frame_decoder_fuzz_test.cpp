// The WebSocket frame decoder (harness/wire/frame_decoder.h) on any bytes: fed whole, split at a
// position the input picks, and byte by byte, it must give the same frames and the same pending
// state; the frames must tile the stream.
//
// Input: byte 0 bit 0 = expect_masked (a client's direction), bytes 1-2 = where to split (modulo
// the stream's length + 1), then the stream.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/wire/frame_decoder.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using closewire::fuzz::finding;
using closewire::wire::Frame;
using closewire::wire::FrameDecoder;

struct Decoded {
  std::vector<Frame> frames;
  bool mid_frame = false;
  std::uint64_t consumed = 0;
  bool pending = false;
  Frame pending_frame;
};

// Feeds the stream in pieces of `piece` bytes, the first cut at `first` (whole: one piece). Not
// instrumented: the feeding loop is the harness's, and its per-byte comparisons cost a third of a run.
CLOSEWIRE_FUZZ_ORACLE void decode(bool masked, std::span<const std::uint8_t> stream, std::size_t first, std::size_t piece,
            Decoded& d) {
  FrameDecoder decoder(masked);
  d.frames.clear();  // keeps its capacity from run to run: fewer allocations under ASan
  decoder.feed(stream.first(first), d.frames);
  for (std::size_t i = first; i < stream.size(); i += piece)
    decoder.feed(stream.subspan(i, std::min(piece, stream.size() - i)), d.frames);
  d.mid_frame = decoder.mid_frame();
  d.consumed = decoder.bytes_consumed();
  d.pending = decoder.pending_frame() != nullptr;
  if (d.pending) d.pending_frame = *decoder.pending_frame();
}

CLOSEWIRE_FUZZ_ORACLE std::string describe(const Frame& f) {
  return fmt::format(
      "fin={} rsv={} opcode={} masked={} length={} offset={} header={} payload={} "
      "problems=[{}]",
      f.fin, f.rsv, f.opcode, f.masked, f.payload_length, f.stream_offset, f.header_length,
      f.payload.size(), fmt::join(f.problems, "; "));
}

CLOSEWIRE_FUZZ_ORACLE bool same(const Frame& a, const Frame& b) {
  return a.fin == b.fin && a.rsv == b.rsv && a.opcode == b.opcode && a.masked == b.masked &&
         a.payload_length == b.payload_length && a.payload == b.payload &&
         a.stream_offset == b.stream_offset && a.header_length == b.header_length &&
         a.problems == b.problems;
}

CLOSEWIRE_FUZZ_ORACLE void compare(const Decoded& whole, const Decoded& other, const char* how) {
  if (whole.frames.size() != other.frames.size()) {
    finding(fmt::format("{} frames whole, {} {}", whole.frames.size(), other.frames.size(), how));
  }
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    if (!same(whole.frames[i], other.frames[i])) {
      finding(fmt::format("frame {} whole: {}; {}: {}", i, describe(whole.frames[i]), how,
                          describe(other.frames[i])));
    }
  }
  if (whole.mid_frame != other.mid_frame || whole.consumed != other.consumed ||
      whole.pending != other.pending ||
      (whole.pending && !same(whole.pending_frame, other.pending_frame))) {
    finding(
        fmt::format("state whole: mid={} consumed={} pending={}; {}: mid={} consumed={} "
                    "pending={}",
                    whole.mid_frame, whole.consumed, whole.pending, how, other.mid_frame,
                    other.consumed, other.pending));
  }
}

// Complete frames follow each other from offset 0, and keep what they promise of their payload.
CLOSEWIRE_FUZZ_ORACLE void check_tiling(const Decoded& d, std::size_t stream_size) {
  std::uint64_t offset = 0;
  for (const Frame& f : d.frames) {
    if (f.stream_offset != offset) {
      finding(
          fmt::format("a frame at {} where the previous one ended at {}", f.stream_offset, offset));
    }
    const std::uint64_t retained =
        std::min<std::uint64_t>(f.payload_length, closewire::wire::kRetainedPayload);
    if (f.payload.size() != retained) {
      finding(fmt::format("payload of {} bytes kept for a frame of {}", f.payload.size(),
                          f.payload_length));
    }
    offset += f.wire_size();
  }
  if (offset > stream_size || d.consumed != stream_size) {
    finding(
        fmt::format("frames end at {}, consumed {}, stream {}", offset, d.consumed, stream_size));
  }
  if (d.mid_frame != (offset != stream_size)) {
    finding(fmt::format("mid_frame={} with frames ending at {} of {}", d.mid_frame, offset,
                        stream_size));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const bool masked = (data[0] & 1) != 0;
  const std::span<const std::uint8_t> stream(data + 3, size - 3);
  const std::size_t at = (std::size_t{data[1]} | std::size_t{data[2]} << 8) % (stream.size() + 1);

  static Decoded whole, split, bytes;
  decode(masked, stream, stream.size(), 1, whole);
  check_tiling(whole, stream.size());
  decode(masked, stream, at, stream.size(), split);
  compare(whole, split, "split");
  decode(masked, stream, 0, 1, bytes);
  compare(whole, bytes, "byte by byte");
  return 0;
}
