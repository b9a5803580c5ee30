#include "harness/wire/frame_encoder.h"

namespace closewire::wire {

std::string encode_frame_raw(std::uint8_t first_byte, std::string_view payload,
                             std::optional<std::array<std::uint8_t, 4>> mask) {
  std::string out;
  out.reserve(14 + payload.size());
  out.push_back(static_cast<char>(first_byte));
  const std::uint8_t mask_bit = mask ? 0x80 : 0x00;
  const std::uint64_t len = payload.size();
  // Always the shortest length form (RFC 6455 5.2 requires it).
  if (len < 126) {
    out.push_back(static_cast<char>(mask_bit | len));
  } else if (len <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  }
  if (!mask) {
    out.append(payload);
    return out;
  }
  for (std::uint8_t k : *mask) out.push_back(static_cast<char>(k));
  const std::size_t start = out.size();
  out.resize(start + payload.size());
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out[start + i] = static_cast<char>(payload[i] ^ (*mask)[i & 3]);
  }
  return out;
}

std::string encode_frame(Opcode opcode, std::string_view payload, bool fin,
                         std::optional<std::array<std::uint8_t, 4>> mask) {
  const auto first =
      static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode));
  return encode_frame_raw(first, payload, mask);
}

}  // namespace closewire::wire
