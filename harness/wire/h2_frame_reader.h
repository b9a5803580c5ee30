// HTTP/2 frames in one direction of a captured byte stream (RFC 9113 §4), with header blocks
// decoded by nghttp2's HPACK inflater: the first layer of WebSocket-over-HTTP/2 legs (RFC 8441,
// issue 18). Passive: it never answers, it only reads what went by.
//
// closewire's own framing loop (as for WebSocket frames): nghttp2's session API would answer
// frames and enforce flow control as an endpoint; a capture needs every frame as it went by, a
// broken one reported in one line, and nothing sent. HPACK is nghttp2's (its dynamic table must
// follow every header block in order, per direction).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct nghttp2_hd_inflater;

namespace closewire::wire {

inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class H2Type : std::uint8_t {
  data = 0x0,
  headers = 0x1,
  priority = 0x2,
  rst_stream = 0x3,
  settings = 0x4,
  push_promise = 0x5,
  ping = 0x6,
  goaway = 0x7,
  window_update = 0x8,
  continuation = 0x9,
};
std::string_view h2_type_name(std::uint8_t type);  // "DATA", ..., "unknown" for another type
// "NO_ERROR", "CANCEL", ...; "0x2a" for a code RFC 9113 does not name.
std::string h2_error_name(std::uint32_t code);

namespace h2_flag {
inline constexpr std::uint8_t end_stream = 0x1;  // DATA, HEADERS
inline constexpr std::uint8_t ack = 0x1;         // SETTINGS, PING
inline constexpr std::uint8_t end_headers = 0x4;
inline constexpr std::uint8_t padded = 0x8;
inline constexpr std::uint8_t priority = 0x20;
}  // namespace h2_flag

// One frame as it went by. HEADERS carries the whole decoded header block (its CONTINUATION
// frames folded in, the flags of the HEADERS frame); CONTINUATION frames are not handed out.
struct H2Frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
  std::uint64_t offset = 0;  // where the frame header starts in the direction's bytes
  std::string data;          // DATA: the payload without padding
  std::vector<std::pair<std::string, std::string>> headers;       // HEADERS: name, value
  std::uint32_t error_code = 0;                                   // RST_STREAM, GOAWAY
  std::uint32_t last_stream = 0;                                  // GOAWAY
  std::vector<std::pair<std::uint16_t, std::uint32_t>> settings;  // SETTINGS: id, value

  bool end_stream() const {
    return (type == 0x0 || type == 0x1) && (flags & h2_flag::end_stream) != 0;
  }
  // A header's value, or empty.
  std::string_view header(std::string_view name) const;
};

class H2FrameReader {
 public:
  // `client`: the client's direction, which starts with the connection preface.
  explicit H2FrameReader(bool client);
  ~H2FrameReader();
  H2FrameReader(const H2FrameReader&) = delete;
  H2FrameReader& operator=(const H2FrameReader&) = delete;

  // Frames completed by `bytes` are appended to `out`. After a problem nothing more is read.
  void feed(std::span<const std::uint8_t> bytes, std::vector<H2Frame>& out);

  // What broke the stream (one line: "HPACK error in HEADERS of stream 3 at byte 120"), or empty.
  const std::string& problem() const { return problem_; }
  // Bytes of an unfinished frame (or preface) are pending.
  bool mid_frame() const { return !buffer_.empty(); }

 private:
  void fail(std::string why);
  // One complete frame (header + payload) at offset `at`.
  void frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
             std::span<const std::uint8_t> payload, std::uint64_t at, std::vector<H2Frame>& out);
  bool inflate(std::span<const std::uint8_t> block, H2Frame& f);

  bool preface_done_;
  std::uint64_t consumed_ = 0;  // bytes of this direction taken so far
  std::vector<std::uint8_t> buffer_;
  std::string problem_;
  nghttp2_hd_inflater* inflater_ = nullptr;
  // A HEADERS frame waiting for its CONTINUATION frames, and its block so far.
  bool in_block_ = false;
  H2Frame pending_;
  std::vector<std::uint8_t> block_;
};

}  // namespace closewire::wire
