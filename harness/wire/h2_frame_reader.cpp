#include "harness/wire/h2_frame_reader.h"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>

namespace closewire::wire {
namespace {

constexpr std::size_t kHeader = 9;

std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

// The payload without its padding (PADDED: a pad length byte first, that many bytes at the end);
// false when the padding does not fit.
bool unpad(std::uint8_t flags, std::span<const std::uint8_t>& payload) {
  if ((flags & h2_flag::padded) == 0) return true;
  if (payload.empty()) return false;
  const std::size_t pad = payload[0];
  if (pad + 1 > payload.size()) return false;
  payload = payload.subspan(1, payload.size() - 1 - pad);
  return true;
}

}  // namespace

std::string_view h2_type_name(std::uint8_t type) {
  static constexpr std::array<std::string_view, 10> kNames = {
      "DATA",         "HEADERS", "PRIORITY", "RST_STREAM",    "SETTINGS",
      "PUSH_PROMISE", "PING",    "GOAWAY",   "WINDOW_UPDATE", "CONTINUATION"};
  return type < kNames.size() ? kNames[type] : "unknown";
}

std::string h2_error_name(std::uint32_t code) {
  static constexpr std::array<std::string_view, 14> kNames = {"NO_ERROR",
                                                              "PROTOCOL_ERROR",
                                                              "INTERNAL_ERROR",
                                                              "FLOW_CONTROL_ERROR",
                                                              "SETTINGS_TIMEOUT",
                                                              "STREAM_CLOSED",
                                                              "FRAME_SIZE_ERROR",
                                                              "REFUSED_STREAM",
                                                              "CANCEL",
                                                              "COMPRESSION_ERROR",
                                                              "CONNECT_ERROR",
                                                              "ENHANCE_YOUR_CALM",
                                                              "INADEQUATE_SECURITY",
                                                              "HTTP_1_1_REQUIRED"};
  if (code < kNames.size()) return std::string(kNames[code]);
  return fmt::format("0x{:x}", code);
}

std::string_view H2Frame::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

H2FrameReader::H2FrameReader(bool client) : preface_done_(!client) {
  if (nghttp2_hd_inflate_new(&inflater_) != 0) {
    inflater_ = nullptr;
    return;
  }
  // The peer's SETTINGS_HEADER_TABLE_SIZE (browsers send 64 KiB) lets the other side's encoder
  // grow its table: accept any size a real peer announces rather than track the setting.
  nghttp2_hd_inflate_change_table_size(inflater_, 1u << 20);
}

H2FrameReader::~H2FrameReader() {
  if (inflater_ != nullptr) nghttp2_hd_inflate_del(inflater_);
}

void H2FrameReader::fail(std::string why) {
  if (problem_.empty()) problem_ = std::move(why);
  buffer_.clear();
}

void H2FrameReader::feed(std::span<const std::uint8_t> bytes, std::vector<H2Frame>& out) {
  if (!problem_.empty() || bytes.empty()) return;
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  std::size_t used = 0;
  if (!preface_done_) {
    const std::size_t have = std::min(buffer_.size(), kH2Preface.size());
    if (!std::equal(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(have),
                    kH2Preface.begin())) {
      fail("no HTTP/2 connection preface");
      return;
    }
    if (have < kH2Preface.size()) return;
    preface_done_ = true;
    used = kH2Preface.size();
  }
  while (problem_.empty() && buffer_.size() - used >= kHeader) {
    const std::uint8_t* h = buffer_.data() + used;
    const std::uint32_t length = std::uint32_t{h[0]} << 16 | std::uint32_t{h[1]} << 8 | h[2];
    if (buffer_.size() - used < kHeader + length) break;
    const std::uint64_t at = consumed_ + used;
    frame(h[3], h[4], be32(h + 5) & 0x7fffffffu, {h + kHeader, length}, at, out);
    used += kHeader + length;
  }
  if (!problem_.empty()) return;
  consumed_ += used;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(used));
}

void H2FrameReader::frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                          std::span<const std::uint8_t> payload, std::uint64_t at,
                          std::vector<H2Frame>& out) {
  const auto where = [&] {
    return fmt::format("{} of stream {} at byte {}", h2_type_name(type), stream, at);
  };
  // A header block continues only with CONTINUATION frames of its own stream (RFC 9113 §6.10).
  if (in_block_ && (type != 0x9 || stream != pending_.stream)) {
    fail(fmt::format("{}: CONTINUATION of stream {} expected", where(), pending_.stream));
    return;
  }
  H2Frame f;
  f.type = type;
  f.flags = flags;
  f.stream = stream;
  f.offset = at;
  switch (static_cast<H2Type>(type)) {
    case H2Type::data:
      if (stream == 0 || !unpad(flags, payload)) return fail(where() + ": bad DATA frame");
      f.data.assign(payload.begin(), payload.end());
      break;
    case H2Type::headers: {
      if (stream == 0 || !unpad(flags, payload)) return fail(where() + ": bad HEADERS frame");
      if ((flags & h2_flag::priority) != 0) {
        if (payload.size() < 5) return fail(where() + ": HEADERS too short for its priority");
        payload = payload.subspan(5);
      }
      block_.assign(payload.begin(), payload.end());
      if ((flags & h2_flag::end_headers) == 0) {
        in_block_ = true;
        pending_ = std::move(f);
        return;
      }
      if (!inflate(block_, f)) return fail(where() + ": HPACK error");
      break;
    }
    case H2Type::continuation:
      if (!in_block_) return fail(where() + ": CONTINUATION without HEADERS");
      block_.insert(block_.end(), payload.begin(), payload.end());
      if ((flags & h2_flag::end_headers) == 0) return;
      in_block_ = false;
      if (!inflate(block_, pending_))
        return fail(fmt::format("HEADERS of stream {} at byte {}: HPACK error", pending_.stream,
                                pending_.offset));
      out.push_back(std::move(pending_));
      pending_ = H2Frame{};
      return;
    case H2Type::rst_stream:
      if (stream == 0 || payload.size() != 4) return fail(where() + ": bad RST_STREAM frame");
      f.error_code = be32(payload.data());
      break;
    case H2Type::goaway:
      if (stream != 0 || payload.size() < 8) return fail(where() + ": bad GOAWAY frame");
      f.last_stream = be32(payload.data()) & 0x7fffffffu;
      f.error_code = be32(payload.data() + 4);
      break;
    case H2Type::settings:
      if (stream != 0 || payload.size() % 6 != 0) return fail(where() + ": bad SETTINGS frame");
      for (std::size_t i = 0; i < payload.size(); i += 6) {
        f.settings.emplace_back(static_cast<std::uint16_t>(payload[i] << 8 | payload[i + 1]),
                                be32(&payload[i + 2]));
      }
      break;
    case H2Type::push_promise:
      // A WebSocket never uses it; its header block would change the HPACK table: decode it so
      // later blocks still decode, but keep it out of the stream's events.
      if (!unpad(flags, payload) || payload.size() < 4) return fail(where() + ": bad PUSH_PROMISE");
      payload = payload.subspan(4);
      if ((flags & h2_flag::end_headers) == 0)
        return fail(where() + ": PUSH_PROMISE with CONTINUATION is not followed");
      if (!inflate(payload, f)) return fail(where() + ": HPACK error");
      break;
    default:  // PRIORITY, PING, WINDOW_UPDATE, unknown types (ignored by receivers, §5.5)
      break;
  }
  out.push_back(std::move(f));
}

bool H2FrameReader::inflate(std::span<const std::uint8_t> block, H2Frame& f) {
  if (inflater_ == nullptr) return false;
  const std::uint8_t* in = block.data();
  std::size_t left = block.size();
  for (;;) {
    nghttp2_nv nv;
    int flags = 0;
    const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &flags, in, left, 1);
    if (n < 0) return false;
    in += n;
    left -= static_cast<std::size_t>(n);
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0) {
      f.headers.emplace_back(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                             std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
    }
    if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
      nghttp2_hd_inflate_end_headers(inflater_);
      return true;
    }
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) return false;
  }
}

}  // namespace closewire::wire
