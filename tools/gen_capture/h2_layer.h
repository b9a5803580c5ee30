// The HTTP/2 layer of `closewire-gen-capture --h2` (RFC 8441): each connection's WebSocket is an
// extended CONNECT on stream 1 of an h2 connection over TLS, its frames carried in DATA frames, as
// Chromium and HAProxy put them on the wire (close-semantics §6). Header blocks are HPACK-encoded
// by nghttp2's deflater, one per direction and connection, as real peers keep them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "harness/wire/h2_frame_writer.h"

namespace closewire::gen {

inline constexpr std::uint32_t kH2Stream = 1;
inline constexpr std::uint32_t kH2Cancel = 0x8;

class H2Layer {
 public:
  H2Layer();
  ~H2Layer();
  H2Layer(const H2Layer&) = delete;
  H2Layer& operator=(const H2Layer&) = delete;

  // A new connection: fresh HPACK tables.
  void begin();
  // The client's preface, SETTINGS, WINDOW_UPDATE and its CONNECT for `path` on stream 1.
  std::string client_open(std::string_view path, std::string_view authority);
  // The server's SETTINGS (ENABLE_CONNECT_PROTOCOL = 1), its ACK of the client's, and the 200.
  std::string server_open();
  // `bytes` (WebSocket frames) in one DATA frame of stream 1; `end_stream` sets END_STREAM.
  static std::string data(std::string_view bytes, bool end_stream = false);
  static std::string rst_stream(std::uint32_t code = kH2Cancel);

 private:
  std::unique_ptr<wire::HpackEncoder> client_;
  std::unique_ptr<wire::HpackEncoder> server_;
};

}  // namespace closewire::gen
