#include "harness/wire/close_payload.h"

#include <cstring>

namespace closewire::wire {

bool is_valid_close_code(std::uint16_t code) {
  // RFC 6455 7.4.1/7.4.2: 1004-1006 and 1015 are reserved (never sent), 1016-2999 are for
  // future protocol use, 0-999 are unused; 3000-4999 belong to libraries and applications.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

std::size_t utf8_sequence_at(std::string_view text, std::size_t i) {
  // Well-formed sequences per Unicode Table 3-7: the second-byte ranges after E0, ED, F0 and F4
  // exclude overlongs, surrogates (U+D800-DFFF) and code points above U+10FFFF.
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const unsigned char c = s[i];
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;  // continuation byte as lead, C0/C1 (overlong), F5-FF
  }
  if (n - i < len) return 0;
  if (s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((s[i + k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Skip ASCII eight bytes at a time: most reasons are plain ASCII.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_at(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

ClosePayload parse_close_payload(std::string_view payload) {
  ClosePayload out;
  if (payload.empty()) {
    out.status = ClosePayload::Status::no_status;
    out.code = kNoStatus;
    return out;
  }
  if (payload.size() == 1) {
    out.status = ClosePayload::Status::malformed;
    return out;
  }
  const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                               static_cast<unsigned char>(payload[1]));
  out.code = code;
  out.reason.assign(payload.substr(2));
  // A bad code is reported in preference to a bad reason: the code is what peers act on.
  if (!is_valid_close_code(code)) {
    out.status = ClosePayload::Status::invalid_code;
  } else if (!is_valid_utf8(out.reason)) {
    out.status = ClosePayload::Status::invalid_utf8;
  }
  return out;
}

std::string encode_close_payload(std::optional<std::uint16_t> code, std::string_view reason) {
  std::string out;
  if (!code) return out;
  out.reserve(2 + reason.size());
  out.push_back(static_cast<char>(*code >> 8));
  out.push_back(static_cast<char>(*code & 0xFF));
  out.append(reason);
  return out;
}

std::string_view to_string(ClosePayload::Status status) {
  switch (status) {
    case ClosePayload::Status::ok:
      return "ok";
    case ClosePayload::Status::no_status:
      return "no_status";
    case ClosePayload::Status::malformed:
      return "malformed";
    case ClosePayload::Status::invalid_code:
      return "invalid_code";
    case ClosePayload::Status::invalid_utf8:
      return "invalid_utf8";
  }
  return "unknown";
}

}  // namespace closewire::wire
