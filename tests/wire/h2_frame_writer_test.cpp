// HTTP/2 frames and HPACK blocks written for captures and tests: the bytes RFC 9113 §4.1 lays
// out, and blocks the reader's nghttp2 inflater decodes back, the dynamic table followed.
#include "harness/wire/h2_frame_writer.h"

#include <gtest/gtest.h>

#include <vector>

#include "harness/wire/h2_frame_reader.h"

namespace closewire::wire {
namespace {

TEST(H2FrameWriter, HeaderBytesAreLengthTypeFlagsAndStream) {
  const std::string f = h2_frame(0x3, 0x0, 0x80000007, h2_u32(8));  // the reserved bit is cleared
  EXPECT_EQ(f, std::string("\x00\x00\x04\x03\x00\x00\x00\x00\x07\x00\x00\x00\x08", 13));
}

TEST(H2FrameWriter, BlocksOfOneEncoderDecodeInOrder) {
  HpackEncoder enc;
  const H2Headers first = {{":status", "200"}, {"server", "haproxy"}};
  const H2Headers second = {{":status", "200"}, {"server", "haproxy"}, {"x", "y"}};
  const std::string a = enc.block(first);
  const std::string b = enc.block(second);
  EXPECT_LT(b.size(), a.size() + 4) << "the second block should reuse the dynamic table";
  H2FrameReader reader(/*client=*/false);
  std::vector<H2Frame> frames;
  const std::string bytes =
      h2_frame(0x1, h2_flag::end_headers, 1, a) + h2_frame(0x1, h2_flag::end_headers, 3, b);
  reader.feed({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, frames);
  ASSERT_EQ(reader.problem(), "");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].headers, first);
  EXPECT_EQ(frames[1].headers, second);
}

}  // namespace
}  // namespace closewire::wire
