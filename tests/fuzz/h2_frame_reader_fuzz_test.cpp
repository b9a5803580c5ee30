// The HTTP/2 frame reader (harness/wire/h2_frame_reader.h) on any bytes: fed whole, split at a
// position the input picks, and byte by byte, it must give the same frames and the same problem;
// the frames must follow each other in the stream.
//
// Input: byte 0 bit 0 = the client's direction (starts with the preface), bytes 1-2 = where to
// split (modulo the stream's length + 1), then the stream.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness/wire/h2_frame_reader.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using closewire::fuzz::finding;
using closewire::wire::H2Frame;
using closewire::wire::H2FrameReader;

struct Read {
  std::vector<H2Frame> frames;
  std::string problem;
};

CLOSEWIRE_FUZZ_ORACLE void read(bool client, std::span<const std::uint8_t> stream,
                                std::size_t first, std::size_t piece, Read& r) {
  H2FrameReader reader(client);
  r.frames.clear();
  reader.feed(stream.first(first), r.frames);
  for (std::size_t i = first; i < stream.size(); i += piece)
    reader.feed(stream.subspan(i, std::min(piece, stream.size() - i)), r.frames);
  r.problem = reader.problem();
}

CLOSEWIRE_FUZZ_ORACLE bool same(const H2Frame& a, const H2Frame& b) {
  return a.type == b.type && a.flags == b.flags && a.stream == b.stream && a.offset == b.offset &&
         a.data == b.data && a.headers == b.headers && a.error_code == b.error_code &&
         a.last_stream == b.last_stream && a.settings == b.settings;
}

CLOSEWIRE_FUZZ_ORACLE void compare(const Read& whole, const Read& other, const char* how) {
  if (whole.problem != other.problem)
    finding(fmt::format("problem whole: '{}'; {}: '{}'", whole.problem, how, other.problem));
  if (whole.frames.size() != other.frames.size())
    finding(fmt::format("{} frames whole, {} {}", whole.frames.size(), other.frames.size(), how));
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    if (!same(whole.frames[i], other.frames[i]))
      finding(fmt::format("frame {} differs {} (offset {} / {})", i, how, whole.frames[i].offset,
                          other.frames[i].offset));
  }
}

CLOSEWIRE_FUZZ_ORACLE void check_order(const Read& r, std::size_t size) {
  std::uint64_t last = 0;
  for (const H2Frame& f : r.frames) {
    if (f.offset < last || f.offset + 9 > size)
      finding(fmt::format("a frame at {} after {} in a stream of {}", f.offset, last, size));
    last = f.offset;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const bool client = (data[0] & 1) != 0;
  const std::span<const std::uint8_t> stream(data + 3, size - 3);
  const std::size_t at = (std::size_t{data[1]} | std::size_t{data[2]} << 8) % (stream.size() + 1);
  static Read whole, split, bytes;
  read(client, stream, stream.size(), 1, whole);
  check_order(whole, stream.size());
  read(client, stream, at, stream.size(), split);
  compare(whole, split, "split");
  read(client, stream, 0, 1, bytes);
  compare(whole, bytes, "byte by byte");
  return 0;
}
