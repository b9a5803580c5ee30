#include "harness/wire/frame_decoder.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"

namespace closewire::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::array<std::uint8_t, 4> kKey = {0x37, 0xfa, 0x21, 0x3d};

Bytes to_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

std::vector<Frame> decode(const Bytes& bytes, bool expect_masked) {
  FrameDecoder d(expect_masked);
  std::vector<Frame> out;
  d.feed(bytes, out);
  return out;
}

bool has_problem(const Frame& f, std::string_view needle) {
  for (const auto& p : f.problems) {
    if (p.find(needle) != std::string::npos) return true;
  }
  return false;
}

// A stream with masked client frames of all three length forms and a fragmented message.
Bytes sample_client_stream() {
  std::string s;
  s += encode_frame(Opcode::text, "Hello", true, kKey);
  s += encode_frame(Opcode::binary, std::string(300, 'b'), true, kKey);
  s += encode_frame(Opcode::text, "frag-", false, kKey);
  s += encode_frame(Opcode::ping, "p", true, kKey);
  s += encode_frame(Opcode::continuation, std::string(70000, 'c'), true, kKey);
  s += encode_frame(Opcode::close, encode_close_payload(1000, "bye"), true, kKey);
  return to_bytes(s);
}

void expect_same_frames(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].fin, b[i].fin);
    EXPECT_EQ(a[i].rsv, b[i].rsv);
    EXPECT_EQ(a[i].opcode, b[i].opcode);
    EXPECT_EQ(a[i].masked, b[i].masked);
    EXPECT_EQ(a[i].payload_length, b[i].payload_length);
    EXPECT_EQ(a[i].payload, b[i].payload);
    EXPECT_EQ(a[i].stream_offset, b[i].stream_offset);
    EXPECT_EQ(a[i].problems, b[i].problems);
  }
}

TEST(FrameDecoder, DecodesUnmaskedServerText) {
  const auto frames = decode({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}, false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].fin);
  EXPECT_EQ(frames[0].opcode, static_cast<std::uint8_t>(Opcode::text));
  EXPECT_FALSE(frames[0].masked);
  EXPECT_EQ(frames[0].payload_length, 5u);
  EXPECT_EQ(frames[0].payload, "Hello");
  EXPECT_EQ(frames[0].stream_offset, 0u);
  EXPECT_TRUE(frames[0].problems.empty());
}

TEST(FrameDecoder, UnmasksClientFrameFromRfcExample) {
  // RFC 6455 5.7: a masked "Hello".
  const auto frames =
      decode({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, true);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].masked);
  EXPECT_EQ(frames[0].payload, "Hello");
  EXPECT_TRUE(frames[0].problems.empty());
}

TEST(FrameDecoder, SeveralFramesInOneFeedGetTheirOffsets) {
  std::string s = encode_frame(Opcode::text, "a") + encode_frame(Opcode::ping, "") +
                  encode_frame(Opcode::binary, std::string(200, 'x'));
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].stream_offset, 0u);
  EXPECT_EQ(frames[1].stream_offset, 3u);
  EXPECT_EQ(frames[1].opcode, static_cast<std::uint8_t>(Opcode::ping));
  EXPECT_EQ(frames[1].payload_length, 0u);
  EXPECT_EQ(frames[2].stream_offset, 5u);
  EXPECT_EQ(frames[2].payload_length, 200u);
  EXPECT_EQ(frames[2].payload, std::string(200, 'x'));
}

TEST(FrameDecoder, SplitAcrossEverySegmentBoundary) {
  const Bytes stream = sample_client_stream();
  const auto whole = decode(stream, true);
  ASSERT_EQ(whole.size(), 6u);
  // Every two-piece split; a stride keeps it quick over the 70 KB payload while still covering
  // every position inside every header.
  for (std::size_t cut = 0; cut <= stream.size();
       cut += (cut < 400 || cut > stream.size() - 400) ? 1 : 97) {
    SCOPED_TRACE(cut);
    FrameDecoder d(true);
    std::vector<Frame> out;
    d.feed(std::span(stream).first(cut), out);
    d.feed(std::span(stream).subspan(cut), out);
    expect_same_frames(whole, out);
    EXPECT_FALSE(d.mid_frame());
    if (HasFatalFailure()) return;
  }
}

TEST(FrameDecoder, ByteByByteMatchesOneFeed) {
  const Bytes stream = sample_client_stream();
  const auto whole = decode(stream, true);
  FrameDecoder d(true);
  std::vector<Frame> out;
  for (std::uint8_t b : stream) d.feed(std::span(&b, 1), out);
  expect_same_frames(whole, out);
  EXPECT_EQ(d.bytes_consumed(), stream.size());
}

TEST(FrameDecoder, MidFrameReportsPendingBytes) {
  FrameDecoder d(false);
  std::vector<Frame> out;
  const Bytes head = {0x81};
  d.feed(head, out);
  EXPECT_TRUE(d.mid_frame());
  const Bytes rest = {0x02, 'h'};
  d.feed(rest, out);
  EXPECT_TRUE(d.mid_frame());
  EXPECT_TRUE(out.empty());
  const Bytes last = {'i'};
  d.feed(last, out);
  EXPECT_FALSE(d.mid_frame());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "hi");
}

TEST(FrameDecoder, SixteenBitLength) {
  const std::string payload(1000, 'q');
  const auto frames = decode(to_bytes(encode_frame(Opcode::binary, payload)), false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload_length, 1000u);
  EXPECT_EQ(frames[0].payload.size(), kRetainedPayload);
  EXPECT_EQ(frames[0].payload, payload.substr(0, kRetainedPayload));
  EXPECT_TRUE(frames[0].problems.empty());
}

TEST(FrameDecoder, LargeSixtyFourBitPayloadFedInPiecesStaysBounded) {
  constexpr std::uint64_t kLen = 5'000'000'000ULL;  // far more than the test could buffer
  Bytes header = {0x82, 0xFF};
  for (int shift = 56; shift >= 0; shift -= 8) {
    header.push_back(static_cast<std::uint8_t>(kLen >> shift));
  }
  header.insert(header.end(), kKey.begin(), kKey.end());

  FrameDecoder d(true);
  std::vector<Frame> out;
  d.feed(header, out);

  // The first 1000 payload bytes, masked, fed 7 at a time so the key phase crosses feeds.
  Bytes prefix(1000);
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    prefix[i] = static_cast<std::uint8_t>('z' ^ kKey[i & 3]);
  }
  for (std::size_t i = 0; i < prefix.size(); i += 7) {
    d.feed(std::span(prefix).subspan(i, std::min<std::size_t>(7, prefix.size() - i)), out);
  }
  // The rest in 1 MiB pieces; only the length matters past the retained prefix.
  const Bytes piece(1 << 20);
  std::uint64_t fed = prefix.size();
  while (fed < kLen) {
    ASSERT_TRUE(out.empty());
    ASSERT_TRUE(d.mid_frame());
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), kLen - fed));
    d.feed(std::span(piece).first(n), out);
    fed += n;
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload_length, kLen);
  EXPECT_EQ(out[0].payload.size(), kRetainedPayload);
  EXPECT_EQ(out[0].payload, std::string(kRetainedPayload, 'z'));
  EXPECT_LE(out[0].payload.capacity(), 2 * kRetainedPayload);
  EXPECT_TRUE(out[0].problems.empty());
  EXPECT_FALSE(d.mid_frame());
  EXPECT_EQ(d.bytes_consumed(), header.size() + kLen);
}

TEST(FrameDecoder, FragmentedTextWithContinuation) {
  const std::string s = encode_frame(Opcode::text, "Hel", false) +
                        encode_frame(Opcode::continuation, "l", false) +
                        encode_frame(Opcode::continuation, "o", true);
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_FALSE(frames[0].fin);
  EXPECT_EQ(frames[0].opcode, static_cast<std::uint8_t>(Opcode::text));
  EXPECT_FALSE(frames[1].fin);
  EXPECT_EQ(frames[1].opcode, static_cast<std::uint8_t>(Opcode::continuation));
  EXPECT_TRUE(frames[2].fin);
  for (const auto& f : frames) EXPECT_TRUE(f.problems.empty()) << f.problems[0];
}

TEST(FrameDecoder, ControlFrameBetweenFragmentsIsAllowed) {
  const std::string s = encode_frame(Opcode::text, "a", false) + encode_frame(Opcode::ping, "x") +
                        encode_frame(Opcode::continuation, "b", true);
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 3u);
  for (const auto& f : frames) EXPECT_TRUE(f.problems.empty());
}

TEST(FrameDecoder, ContinuationWithoutStartedMessageIsAProblem) {
  const auto frames = decode(to_bytes(encode_frame(Opcode::continuation, "x")), false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(has_problem(frames[0], "continuation frame without a started message"));
}

TEST(FrameDecoder, ContinuationAfterFinishedMessageIsAProblem) {
  const std::string s = encode_frame(Opcode::text, "a", false) +
                        encode_frame(Opcode::continuation, "b", true) +
                        encode_frame(Opcode::continuation, "c", true);
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(frames[1].problems.empty());
  EXPECT_TRUE(has_problem(frames[2], "continuation frame without a started message"));
}

TEST(FrameDecoder, NewDataFrameInsideFragmentedMessageIsAProblem) {
  const std::string s =
      encode_frame(Opcode::text, "a", false) + encode_frame(Opcode::binary, "b", true);
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].problems.empty());
  EXPECT_TRUE(has_problem(frames[1], "new data frame while a fragmented message is open"));
}

TEST(FrameDecoder, ControlFrameLongerThan125IsAProblemButDecoded) {
  const std::string payload(126, 'p');
  const std::string s = encode_frame(Opcode::ping, payload) + encode_frame(Opcode::text, "after");
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(has_problem(frames[0], "control frame longer than 125 bytes"));
  EXPECT_EQ(frames[0].payload, payload);
  EXPECT_EQ(frames[1].payload, "after");
  EXPECT_TRUE(frames[1].problems.empty());
}

TEST(FrameDecoder, ControlFrameOf125IsFine) {
  const auto frames = decode(to_bytes(encode_frame(Opcode::pong, std::string(125, 'p'))), false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].problems.empty());
}

TEST(FrameDecoder, FragmentedControlFrameIsAProblem) {
  const auto frames = decode(to_bytes(encode_frame(Opcode::close, "\x03\xe8", false)), false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].fin);
  EXPECT_TRUE(has_problem(frames[0], "fragmented control frame"));
}

TEST(FrameDecoder, ReservedOpcodeIsAProblemAndDecodingContinues) {
  const std::string s =
      encode_frame_raw(0x83, "abc") + encode_frame_raw(0x8B, "") + encode_frame(Opcode::text, "ok");
  const auto frames = decode(to_bytes(s), false);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].opcode, 0x3);
  EXPECT_EQ(frames[0].payload, "abc");
  EXPECT_TRUE(has_problem(frames[0], "reserved opcode 0x3"));
  EXPECT_TRUE(has_problem(frames[1], "reserved opcode 0xb"));
  EXPECT_EQ(frames[2].payload, "ok");
  EXPECT_TRUE(frames[2].problems.empty());
}

TEST(FrameDecoder, RsvBitsAreReportedAndAProblem) {
  const auto frames = decode(to_bytes(encode_frame_raw(0xC1, "x")), false);  // FIN + RSV1, text
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].rsv, 0x4);
  EXPECT_EQ(frames[0].opcode, static_cast<std::uint8_t>(Opcode::text));
  EXPECT_TRUE(has_problem(frames[0], "RSV bits set without extension"));

  const auto rsv3 = decode(to_bytes(encode_frame_raw(0x91, "x")), false);
  ASSERT_EQ(rsv3.size(), 1u);
  EXPECT_EQ(rsv3[0].rsv, 0x1);
}

TEST(FrameDecoder, UnmaskedClientFrameIsAProblem) {
  const auto frames = decode(to_bytes(encode_frame(Opcode::text, "hi")), true);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(has_problem(frames[0], "unmasked client frame"));
  EXPECT_EQ(frames[0].payload, "hi");
}

TEST(FrameDecoder, MaskedServerFrameIsAProblemAndStillUnmasked) {
  const auto frames = decode(to_bytes(encode_frame(Opcode::text, "hi", true, kKey)), false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].masked);
  EXPECT_TRUE(has_problem(frames[0], "masked server frame"));
  EXPECT_EQ(frames[0].payload, "hi");
}

TEST(FrameDecoder, NonMinimalLengthsAreProblems) {
  // 5 bytes announced with the 16-bit form, then 5 bytes with the 64-bit form.
  Bytes b = {0x81, 126, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e'};
  const Bytes b64 = {0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0x05, 'v', 'w', 'x', 'y', 'z'};
  b.insert(b.end(), b64.begin(), b64.end());
  const auto frames = decode(b, false);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, "abcde");
  EXPECT_TRUE(has_problem(frames[0], "non-minimal 16-bit length"));
  EXPECT_EQ(frames[1].payload, "vwxyz");
  EXPECT_EQ(frames[1].stream_offset, 9u);
  EXPECT_TRUE(has_problem(frames[1], "non-minimal 64-bit length"));
  // Sizes as sent, not as the minimal encoding would be: what a relay cuts a stream at.
  EXPECT_EQ(frames[0].wire_size(), 9u);
  EXPECT_EQ(frames[1].wire_size(), 15u);
}

TEST(FrameDecoder, SixtyFourBitLengthWithTopBitSetIsAProblem) {
  const Bytes b = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 'x'};
  FrameDecoder d(false);
  std::vector<Frame> out;
  d.feed(b, out);
  // The frame cannot finish in any real stream; its header problems show on the pending frame.
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(d.mid_frame());
  const Frame* pending = d.pending_frame();
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(pending->payload_length, 0x8000000000000001ULL);
  EXPECT_EQ(pending->payload, "x");
  EXPECT_TRUE(has_problem(*pending, "64-bit length with the top bit set"));
}

TEST(FrameDecoder, ZeroLengthFrameCompletesAtItsHeader) {
  // A zero-length frame is complete at its header's last byte.
  const Bytes b = {0x8A, 0x00};
  const auto frames = decode(b, false);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, static_cast<std::uint8_t>(Opcode::pong));
  EXPECT_EQ(frames[0].payload_length, 0u);
}

TEST(FrameDecoder, PendingFrameIsNullAtBoundaries) {
  FrameDecoder d(false);
  std::vector<Frame> out;
  EXPECT_EQ(d.pending_frame(), nullptr);
  const Bytes b = to_bytes(encode_frame(Opcode::close,
                                        "\x03\xe8"
                                        "bye"));
  d.feed(std::span(b).first(1), out);
  EXPECT_EQ(d.pending_frame(), nullptr);  // header incomplete
  d.feed(std::span(b).subspan(1, 3), out);
  ASSERT_NE(d.pending_frame(), nullptr);
  EXPECT_EQ(d.pending_frame()->opcode, static_cast<std::uint8_t>(Opcode::close));
  EXPECT_EQ(d.pending_frame()->payload, "\x03\xe8");
  d.feed(std::span(b).subspan(4), out);
  EXPECT_EQ(d.pending_frame(), nullptr);
  ASSERT_EQ(out.size(), 1u);
}

TEST(FrameDecoder, OffsetsCountAcrossFeeds) {
  FrameDecoder d(false);
  std::vector<Frame> out;
  const Bytes a = to_bytes(encode_frame(Opcode::text, "12345"));  // 7 bytes
  const Bytes b = to_bytes(encode_frame(Opcode::text, "x"));
  d.feed(a, out);
  d.feed(std::span(b).first(1), out);
  d.feed(std::span(b).subspan(1), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].stream_offset, 7u);
  EXPECT_EQ(d.bytes_consumed(), a.size() + b.size());
}

TEST(FrameDecoder, OpcodeNamesIncludeReserved) {
  EXPECT_EQ(opcode_name(0x0), "continuation");
  EXPECT_EQ(opcode_name(0x1), "text");
  EXPECT_EQ(opcode_name(0x2), "binary");
  EXPECT_EQ(opcode_name(0x8), "close");
  EXPECT_EQ(opcode_name(0x9), "ping");
  EXPECT_EQ(opcode_name(0xA), "pong");
  EXPECT_EQ(opcode_name(0x3), "reserved-0x3");
  EXPECT_EQ(opcode_name(0xF), "reserved-0xf");
  EXPECT_TRUE(is_control(0x8));
  EXPECT_FALSE(is_control(0x2));
}

}  // namespace
}  // namespace closewire::wire
