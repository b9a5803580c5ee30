// Close frame payloads (RFC 6455 5.5.1, 7.4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace closewire::wire {

inline constexpr std::uint16_t kNoStatus = 1005;         // reported when the payload is empty
inline constexpr std::uint16_t kAbnormalClosure = 1006;  // reported when no Close was received

struct ClosePayload {
  enum class Status { ok, no_status, malformed, invalid_code, invalid_utf8 };
  Status status = Status::ok;
  std::optional<std::uint16_t> code;  // 1005 for no_status; absent when malformed
  std::string reason;
};

// Parses a Close frame's (unmasked) payload: empty -> 1005 no_status; 1 byte -> malformed;
// otherwise code + reason, with invalid codes (RFC 6455 7.4) and invalid UTF-8 flagged.
ClosePayload parse_close_payload(std::string_view payload);

// Codes an endpoint may put on the wire: 1000-1003, 1007-1014, 3000-4999.
bool is_valid_close_code(std::uint16_t code);

bool is_valid_utf8(std::string_view text);
// The length of the well-formed UTF-8 sequence that starts at text[i] (1 for ASCII), or 0 when
// the bytes there are not one (Unicode Table 3-7).
std::size_t utf8_sequence_at(std::string_view text, std::size_t i);

// Payload for a Close frame: empty when `code` is absent.
std::string encode_close_payload(std::optional<std::uint16_t> code, std::string_view reason = {});

std::string_view to_string(ClosePayload::Status status);

}  // namespace closewire::wire
