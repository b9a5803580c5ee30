// A WebSocket peer over one byte stream (a TCP connection, or an h2 stream): the primitives client
// and server share.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "harness/endpoints/byte_stream.h"
#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/tcp_stream.h"
#include "harness/wire/frame.h"
#include "harness/wire/frame_decoder.h"

namespace closewire::endpoints {

struct ReceivedClose {
  std::optional<std::uint16_t> code;  // 1005 for an empty payload; absent when malformed
  std::string reason;
};

// Sends frames (masked with a fresh random key when it is the client), reads and decodes the
// peer's frames, answers pings, and logs everything it sees. It does not answer a Close by itself:
// the client profile or the server behaviour decides when and how.
class Peer : public std::enable_shared_from_this<Peer> {
 public:
  enum class Role { client, server };

  static std::shared_ptr<Peer> create(tcp::socket socket, Role role, std::size_t connection = 0);
  // Over a stream that carried the HTTP upgrade already (TLS: the handshake too), or an h2 stream
  // whose extended CONNECT was answered with 200.
  static std::shared_ptr<Peer> create(std::shared_ptr<ByteStream> stream, Role role,
                                      std::size_t connection = 0);
  ~Peer();

  // Starts reading; `leftover` are bytes read after the HTTP head (the first frames).
  void start(std::string_view leftover = {});

  void send_text(std::string payload) { send_frame(wire::Opcode::text, std::move(payload)); }
  void send_binary(std::string payload) { send_frame(wire::Opcode::binary, std::move(payload)); }
  void send_ping(std::string payload = {}) { send_frame(wire::Opcode::ping, std::move(payload)); }
  void send_pong(std::string payload = {}) { send_frame(wire::Opcode::pong, std::move(payload)); }
  // Close frame with `code` and `reason`, or an empty payload without a code (the peer sees 1005).
  // When the peer's Close came first this is the reply: whether its FIN/RST had already arrived is
  // logged (peer_gone_before_reply).
  // `again`: even when a Close was sent already (a broken server's second Close frame).
  void send_close(std::optional<std::uint16_t> code, std::string reason = {}, bool again = false);
  // Raw bytes, e.g. the HTTP head, queued in order with the frames.
  void send_raw(std::string bytes) { stream_->write(std::move(bytes)); }

  void close_socket(CloseMode mode, std::chrono::milliseconds delay = kDefaultCloseDelay) {
    stream_->close(mode, delay);
  }
  void close_plain(std::string_view why) { stream_->close_plain(why); }
  void stop_reading() { stream_->stop_reading(); }
  // Every Close frame sent ends the stream behind it (close(half_close) right after its write):
  // Chromium's Close over h2 carries END_STREAM. Only for an h2 stream.
  void set_close_ends_stream(bool on) { close_ends_stream_ = on; }

  // Records this endpoint's own timer firing (the caller then acts on it).
  void note_timeout(std::string what);

  ObservationLog& log() { return log_; }
  const ObservationLog& log() const { return log_; }
  void subscribe(ObservationLog::Subscriber s) { log_.subscribe(std::move(s)); }

  const std::optional<ReceivedClose>& close_received() const { return close_received_; }
  bool close_queued() const { return close_queued_; }  // send_close was called
  bool close_sent() const { return close_sent_; }      // our Close frame is in the kernel
  bool is_open() const { return stream_->is_open(); }
  ByteStream& stream() { return *stream_; }

 private:
  Peer(Role role, std::size_t connection);
  void add(Observation o);
  void on_data(std::span<const std::uint8_t> bytes);
  void on_frame(const wire::Frame& frame);
  void send_frame(wire::Opcode opcode, std::string payload,
                  std::optional<std::uint16_t> code = std::nullopt, std::string reason = {});

  Role role_;
  std::size_t connection_;
  std::shared_ptr<ByteStream> stream_;
  wire::FrameDecoder decoder_;
  ObservationLog log_;
  std::optional<ReceivedClose> close_received_;
  bool close_queued_ = false;
  bool frame_sync_lost_ = false;  // a broken frame header was read: later bytes are not frames
  bool close_sent_ = false;
  bool close_ends_stream_ = false;
};

}  // namespace closewire::endpoints
