// One HTTP/2 stream of an H2Connection as a byte stream (RFC 8441): the bytes travel in DATA
// frames, END_STREAM from the peer reads as its FIN and RST_STREAM as its RST, so a WebSocket Peer
// runs over it unchanged.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "harness/endpoints/byte_stream.h"

namespace closewire::endpoints {

class H2Connection;

class H2Stream : public ByteStream, public std::enable_shared_from_this<H2Stream> {
 public:
  explicit H2Stream(std::shared_ptr<H2Connection> connection);
  ~H2Stream() override;
  H2Stream(const H2Stream&) = delete;
  H2Stream& operator=(const H2Stream&) = delete;

  void set_callbacks(Callbacks cb) override { cb_ = std::move(cb); }
  void set_sink(Sink sink) override { sink_ = std::move(sink); }
  void detach() override;

  // Arrived DATA, END_STREAM and RST_STREAM are handed on in that order, once the connection has
  // processed all it read (so a Close and the END_STREAM behind it are known together).
  void start_reading() override;
  void stop_reading() override { reading_ = false; }

  void write(std::string bytes, WriteDone done = {}) override;
  // fin, half-close: END_STREAM behind the queued bytes (on the same DATA frame when they are
  // still queued); the others: RST_STREAM(CANCEL).
  void close(CloseMode mode, std::chrono::milliseconds delay = kDefaultCloseDelay) override;
  void close_plain(std::string_view why) override;

  bool is_open() const override { return open_; }
  bool closing() const override { return closing_; }
  std::string peer_gone() override;  // "rst" after RST_STREAM, "fin" after END_STREAM

  void set_close_notify(bool send) override;
  const TlsSession* tls_session() const override;
  tcp::socket& socket() override;

  std::int32_t id() const { return id_; }

  // ---- for the H2Connection (nghttp2's callbacks and the data source) ----
  void set_id(std::int32_t id) { id_ = id; }
  void received_data(const std::uint8_t* data, std::size_t size) { in_.append(data, data + size); }
  void received_end() { remote_end_ = true; }
  void received_reset(std::uint32_t error_code);
  void nghttp2_closed() { nghttp2_closed_ = true; }
  void connection_lost(std::string why);
  void deliver();  // hands on what arrived, in order
  // Up to `max` bytes of queued output into `buf`; `eof`: END_STREAM goes with them. nullopt: no
  // output now (deferred).
  std::optional<std::size_t> take_output(std::uint8_t* buf, std::size_t max, bool& eof);
  // A DATA frame of it is in the TCP stream; `unread_before`: server bytes sat unread in the
  // socket when it left.
  void sent(std::size_t bytes, bool end_stream, bool unread_before);

 private:
  struct PendingDone {
    std::uint64_t end;  // the write is out once this many bytes were sent
    WriteDone done;
  };

  // The peer reset the stream, or the connection under it ended: nothing more comes or goes.
  bool reset_or_lost() const { return reset_code_ || !lost_.empty(); }
  void record(ObservationKind kind, std::string note = {}, int error = 0);
  void log_reset();  // the reset as the reader sees it (read_error)
  void reset_now(std::string why);
  void maybe_finish();
  void finish(std::string why);
  void fail_dones(const error_code& ec);

  std::shared_ptr<H2Connection> connection_;
  std::int32_t id_ = 0;
  Sink sink_;
  Callbacks cb_;
  bool open_ = true;
  bool closing_ = false;
  bool reading_ = false;
  bool delivering_ = false;
  std::string in_;  // received, not yet handed on
  bool remote_end_ = false;
  bool remote_end_delivered_ = false;
  std::optional<std::uint32_t> reset_code_;  // RST_STREAM received
  std::string lost_;                         // the connection under it ended
  bool reset_delivered_ = false;
  bool nghttp2_closed_ = false;
  std::string out_;  // queued, not yet taken by nghttp2
  std::uint64_t queued_total_ = 0;
  std::uint64_t taken_total_ = 0;  // handed to nghttp2
  std::uint64_t sent_total_ = 0;   // in the TCP stream
  std::deque<PendingDone> dones_;
  bool end_requested_ = false;  // END_STREAM behind the queued bytes
  bool end_sent_ = false;
  bool rst_sent_ = false;
  bool reset_was_pending_ = false;  // server bytes sat unread when our RST_STREAM left
  bool unread_at_send_ = false;     // ... when our last DATA left, until the next read is done
};

}  // namespace closewire::endpoints
