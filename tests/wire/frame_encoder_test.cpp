#include "harness/wire/frame_encoder.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/wire/frame_decoder.h"

namespace closewire::wire {
namespace {

constexpr std::array<std::uint8_t, 4> kKey = {0x37, 0xfa, 0x21, 0x3d};

std::vector<Frame> decode(const std::string& s, bool expect_masked) {
  FrameDecoder d(expect_masked);
  std::vector<Frame> out;
  d.feed(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()), out);
  EXPECT_FALSE(d.mid_frame());
  return out;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 31 + 7);
  return s;
}

TEST(FrameEncoder, MatchesRfcExamples) {
  // RFC 6455 5.7: unmasked and masked "Hello".
  EXPECT_EQ(encode_frame(Opcode::text, "Hello"), std::string("\x81\x05Hello", 7));
  EXPECT_EQ(encode_frame(Opcode::text, "Hello", true, kKey),
            std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
  // First fragment of a message: FIN clear.
  EXPECT_EQ(encode_frame(Opcode::text, "Hel", false), std::string("\x01\x03Hel", 5));
}

TEST(FrameEncoder, UsesShortestLengthForm) {
  EXPECT_EQ(encode_frame(Opcode::binary, pattern(125)).size(), 2u + 125);
  const std::string s126 = encode_frame(Opcode::binary, pattern(126));
  ASSERT_EQ(s126.size(), 4u + 126);
  EXPECT_EQ(static_cast<std::uint8_t>(s126[1]), 126);
  EXPECT_EQ(static_cast<std::uint8_t>(s126[2]), 0);
  EXPECT_EQ(static_cast<std::uint8_t>(s126[3]), 126);
  const std::string s64k = encode_frame(Opcode::binary, pattern(65535));
  EXPECT_EQ(static_cast<std::uint8_t>(s64k[1]), 126);
  const std::string big = encode_frame(Opcode::binary, pattern(65536), true, kKey);
  ASSERT_EQ(big.size(), 14u + 65536);
  EXPECT_EQ(static_cast<std::uint8_t>(big[1]), 0x80 | 127);
  EXPECT_EQ(big.substr(2, 8), std::string("\0\0\0\0\0\1\0\0", 8));
}

class FrameEncoderRoundTrip : public ::testing::TestWithParam<std::size_t> {};

TEST_P(FrameEncoderRoundTrip, UnmaskedAndMaskedDecodeToTheSamePayload) {
  const std::size_t n = GetParam();
  const std::string payload = pattern(n);
  for (bool masked : {false, true}) {
    SCOPED_TRACE(masked);
    const std::string wire = masked ? encode_frame(Opcode::binary, payload, true, kKey)
                                    : encode_frame(Opcode::binary, payload);
    const auto frames = decode(wire, masked);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, static_cast<std::uint8_t>(Opcode::binary));
    EXPECT_EQ(frames[0].masked, masked);
    EXPECT_EQ(frames[0].payload_length, n);
    EXPECT_EQ(frames[0].payload, payload.substr(0, kRetainedPayload));
    EXPECT_TRUE(frames[0].problems.empty());
  }
}

// 7-bit, both 16-bit edges, 64-bit.
INSTANTIATE_TEST_SUITE_P(AllLengthForms, FrameEncoderRoundTrip,
                         ::testing::Values(0, 1, 125, 126, 300, 65535, 65536, 200000));

TEST(FrameEncoder, RoundTripsControlFramesAndFin) {
  const std::string wire = encode_frame(Opcode::text, "ab", false, kKey) +
                           encode_frame(Opcode::ping, "ping!", true, kKey) +
                           encode_frame(Opcode::continuation, "cd", true, kKey) +
                           encode_frame(Opcode::close, "\x03\xe8", true, kKey);
  const auto frames = decode(wire, true);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_FALSE(frames[0].fin);
  EXPECT_EQ(frames[1].payload, "ping!");
  EXPECT_EQ(frames[2].opcode, static_cast<std::uint8_t>(Opcode::continuation));
  EXPECT_EQ(frames[3].payload, std::string("\x03\xe8", 2));
  for (const auto& f : frames) EXPECT_TRUE(f.problems.empty());
}

TEST(FrameEncoder, RawFirstByteIsVerbatim) {
  const std::string wire = encode_frame_raw(0xF3, "z");
  EXPECT_EQ(static_cast<std::uint8_t>(wire[0]), 0xF3);
  const auto frames = decode(wire, false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].rsv, 0x7);
  EXPECT_EQ(frames[0].opcode, 0x3);
}

}  // namespace
}  // namespace closewire::wire
