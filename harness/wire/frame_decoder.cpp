#include "harness/wire/frame_decoder.h"

#include <algorithm>
#include <cstring>

namespace closewire::wire {
namespace {

// Total header size, known once the second byte is in: 2 + extended length + mask key.
inline std::size_t header_size(std::uint8_t second_byte) {
  const std::uint8_t len7 = second_byte & 0x7F;
  const std::size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  return 2 + ext + ((second_byte & 0x80) ? 4 : 0);
}

inline bool is_reserved_opcode(std::uint8_t opcode) {
  return (opcode >= 0x3 && opcode <= 0x7) || opcode >= 0xB;
}

// XORs `n` bytes with the key, starting at key position `phase`; word at a time, since the key
// repeats every 4 bytes and so also every 8.
void unmask(char* data, std::size_t n, const std::uint8_t key[4], std::size_t phase) {
  std::uint8_t k[4];
  for (std::size_t i = 0; i < 4; ++i) k[i] = key[(phase + i) & 3];
  std::uint32_t k32;
  std::memcpy(&k32, k, 4);
  // Both halves are equal, so the byte layout is the key twice on any endianness.
  const std::uint64_t k64 = k32 | (static_cast<std::uint64_t>(k32) << 32);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k64;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i) data[i] = static_cast<char>(data[i] ^ k[i & 3]);
}

std::string_view reserved_opcode_name(std::uint8_t opcode) {
  static constexpr std::string_view kNames[16] = {"",
                                                  "",
                                                  "",
                                                  "reserved opcode 0x3",
                                                  "reserved opcode 0x4",
                                                  "reserved opcode 0x5",
                                                  "reserved opcode 0x6",
                                                  "reserved opcode 0x7",
                                                  "",
                                                  "",
                                                  "",
                                                  "reserved opcode 0xb",
                                                  "reserved opcode 0xc",
                                                  "reserved opcode 0xd",
                                                  "reserved opcode 0xe",
                                                  "reserved opcode 0xf"};
  return kNames[opcode & 0xF];
}

}  // namespace

bool FrameDecoder::mid_frame() const {
  return in_payload_ || header_have_ > 0;
}

void FrameDecoder::feed(std::span<const std::uint8_t> bytes, std::vector<Frame>& out) {
  const std::uint8_t* const begin = bytes.data();
  const std::uint8_t* p = begin;
  const std::uint8_t* const end = begin + bytes.size();
  const std::uint64_t base = consumed_;
  consumed_ += bytes.size();

  while (p < end) {
    if (in_payload_) {
      p += take_payload(p, static_cast<std::size_t>(end - p));
      if (payload_remaining_ == 0) finish_frame(out);
      continue;
    }
    if (header_have_ == 0) {
      // Fast path: the whole header is in this feed, parse it where it lies.
      const auto avail = static_cast<std::size_t>(end - p);
      if (avail >= 2) {
        const std::size_t need = header_size(p[1]);
        if (avail >= need) {
          begin_frame(p, base + static_cast<std::uint64_t>(p - begin));
          p += need;
          if (payload_remaining_ == 0) finish_frame(out);
          continue;
        }
      }
      frame_start_ = base + static_cast<std::uint64_t>(p - begin);
    }
    // Slow path: the header straddles feeds; gather it (at most 14 bytes).
    while (p < end && header_have_ < header_needed_) {
      header_[header_have_++] = *p++;
      if (header_have_ == 2) header_needed_ = header_size(header_[1]);
    }
    if (header_have_ == header_needed_) {
      begin_frame(header_, frame_start_);
      header_have_ = 0;
      header_needed_ = 2;
      if (payload_remaining_ == 0) finish_frame(out);
    }
  }
}

void FrameDecoder::begin_frame(const std::uint8_t* h, std::uint64_t offset) {
  Frame& f = current_;
  const std::uint8_t b0 = h[0];
  const std::uint8_t b1 = h[1];
  f.fin = (b0 & 0x80) != 0;
  f.rsv = (b0 >> 4) & 0x7;
  f.opcode = b0 & 0xF;
  f.masked = (b1 & 0x80) != 0;
  f.stream_offset = offset;

  const std::uint8_t* q = h + 2;
  std::uint64_t len = b1 & 0x7F;
  if (len == 126) {
    len = (std::uint64_t{q[0]} << 8) | q[1];
    q += 2;
    if (len < 126) f.problems.emplace_back("non-minimal 16-bit length");
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | q[i];
    q += 8;
    if (len >> 63) {
      f.problems.emplace_back("64-bit length with the top bit set");
    } else if (len <= 0xFFFF) {
      f.problems.emplace_back("non-minimal 64-bit length");
    }
  }
  f.payload_length = len;
  if (f.masked) std::memcpy(mask_, q, 4);
  f.header_length = static_cast<std::uint8_t>(header_size(b1));

  // Checks in wire order of the fields they concern.
  if (f.rsv != 0) f.problems.emplace_back("RSV bits set without extension");
  if (is_reserved_opcode(f.opcode)) f.problems.push_back(reserved_opcode_name(f.opcode));
  if (f.masked != expect_masked_) {
    f.problems.emplace_back(expect_masked_ ? "unmasked client frame" : "masked server frame");
  }
  if (is_control(f.opcode)) {
    if (len > 125) f.problems.emplace_back("control frame longer than 125 bytes");
    if (!f.fin) f.problems.emplace_back("fragmented control frame");
  } else if (f.opcode == static_cast<std::uint8_t>(Opcode::continuation)) {
    if (!in_fragmented_message_) {
      f.problems.emplace_back("continuation frame without a started message");
    } else if (f.fin) {
      in_fragmented_message_ = false;
    }
  } else if (f.opcode == static_cast<std::uint8_t>(Opcode::text) ||
             f.opcode == static_cast<std::uint8_t>(Opcode::binary)) {
    if (in_fragmented_message_) {
      f.problems.emplace_back("new data frame while a fragmented message is open");
    }
    in_fragmented_message_ = !f.fin;
  }

  // Valid control frames (<= 125 bytes) are always kept whole; the cap bounds invalid ones too.
  f.payload.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(len, kRetainedPayload)));
  payload_remaining_ = len;
  in_payload_ = true;
}

std::size_t FrameDecoder::take_payload(const std::uint8_t* p, std::size_t n) {
  const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(n, payload_remaining_));
  std::string& payload = current_.payload;
  const std::size_t keep = std::min(take, kRetainedPayload - payload.size());
  if (keep > 0) {
    // Only a prefix is retained, so payload.size() is also the position in the payload.
    const std::size_t old = payload.size();
    payload.append(reinterpret_cast<const char*>(p), keep);
    if (current_.masked) unmask(payload.data() + old, keep, mask_, old & 3);
  }
  payload_remaining_ -= take;
  return take;
}

void FrameDecoder::finish_frame(std::vector<Frame>& out) {
  out.push_back(std::move(current_));
  current_ = Frame{};
  in_payload_ = false;
}

}  // namespace closewire::wire
