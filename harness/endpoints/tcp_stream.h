// One TCP socket with a write queue, a read loop and every close mode: the socket layer that the
// WebSocket peers and the proxy models share.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/endpoints/byte_stream.h"
#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/tls_context.h"
#include "harness/endpoints/tls_session.h"

namespace closewire::endpoints {

// Reads with readiness waits plus non-blocking read(), never with a pending async read: "stop
// reading" then really leaves later bytes in the kernel, which close-unread and Envoy's delayed
// close depend on (an Asio read cannot be cancelled without cancelling the writes too).
// The stream records its socket-level observations (EOF, errors, how it closed) into `sink`.
//
// TLS (optional) runs on OpenSSL memory BIOs under this class, as Envoy's TLS transport socket
// runs OpenSSL under its own socket: the ciphertext still moves through the same readiness waits,
// non-blocking read() and write queue, so "stop reading" still leaves the peer's records in the
// kernel and a close mode still ends TCP exactly as without TLS. Asio's ssl::stream would own the
// reads instead: its synchronous read_some on a non-blocking socket loses the engine's pending
// output on would_block, and its async reads cannot be stopped without cancelling the writes.
class TcpStream : public ByteStream, public std::enable_shared_from_this<TcpStream> {
 public:

  // With `tls`, the stream speaks TLS in the context's role (a client sends its ClientHello at
  // once); callbacks and write() then carry plaintext.
  static std::shared_ptr<TcpStream> create(tcp::socket socket, Sink sink, std::string side = {},
                                           std::shared_ptr<TlsContext> tls = nullptr);
  ~TcpStream();
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  void set_callbacks(Callbacks cb) override { cb_ = std::move(cb); }
  void set_sink(Sink sink) override { sink_ = std::move(sink); }
  // Drops callbacks and sink: the owner is going away (the socket stays as it is).
  void detach() override;

  void start_reading() override;
  void stop_reading() override;  // no read() from now on; bytes that arrive stay in the kernel

  // Queued writes go out in order; `done` runs when this piece is in the kernel or failed.
  void write(std::string bytes, WriteDone done = {}) override;
  void after_flush(std::function<void()> fn);  // at once when nothing is queued

  // Closes in `mode`; `delay` is the delayed-close timeout (0: close right after the flush), or
  // how long close-unread waits for bytes to leave unread.
  void close(CloseMode mode, std::chrono::milliseconds delay = kDefaultCloseDelay) override;
  // Envoy FlushWrite: stop reading, flush, plain close(); a peer FIN/RST ends it early;
  // `safeguard` > 0 closes anyway when the flush stalls that long.
  void close_flush_write(std::chrono::milliseconds safeguard);
  // Plain close() now (no shutdown, no linger): the kernel sends FIN, or RST if bytes sit unread.
  void close_plain(std::string_view why) override;

  // On a TLS stream, whether every close sends close_notify first (default true: a TLS stack
  // does, Envoy's SslSocket::closeSocket too). false: the FIN or RST comes with no close_notify.
  void set_close_notify(bool send) override { close_notify_ = send; }
  bool sends_close_notify() const { return close_notify_; }
  bool tls() const { return tls_ != nullptr; }
  const TlsSession* tls_session() const override { return tls_.get(); }

  bool is_open() const override { return open_; }
  bool closing() const override { return closing_; }
  std::string peer_gone() override;  // polls for POLLRDHUP / POLLERR, reads nothing
  std::size_t unread_bytes() const;  // FIONREAD: received bytes not yet read
  tcp::socket& socket() override { return socket_; }

 private:
  TcpStream(tcp::socket socket, Sink sink, std::string side);

  struct Pending {
    std::string data;
    std::size_t offset = 0;
    WriteDone done;
  };

  void record(ObservationKind kind, std::string note = {}, int error = 0);
  void write_raw(std::string bytes, WriteDone done);
  void flush_tls_output();
  bool deliver_tls();  // false: the stream closed
  void release_held_writes();
  void send_close_notify();
  void run_flush_waiters();
  void arm_read();
  void read_available();
  void do_write();
  void on_write(const error_code& ec, std::size_t n);
  void finish_fin();
  void close_when_unread(std::chrono::milliseconds bound);
  void flush_close(std::chrono::milliseconds delay, bool wait_after_flush, std::string_view label);
  void arm_delay_timer();
  void watch_rdhup();
  bool check_rdhup();
  void wait_rdhup();
  std::size_t drain();
  void close_fd(std::string note);

  tcp::socket socket_;
  Sink sink_;
  std::string side_;
  Callbacks cb_;
  std::array<std::uint8_t, 16384> buf_{};
  bool open_ = true;
  bool closing_ = false;
  bool reading_ = false;
  bool read_done_ = false;
  bool wait_pending_ = false;
  bool half_closed_ = false;
  std::deque<Pending> queue_;
  bool write_pending_ = false;
  std::vector<std::function<void()>> flush_waiters_;
  asio::steady_timer timer_;
  unsigned timer_generation_ = 0;
  std::optional<std::chrono::milliseconds> rearm_delay_;  // set while a delayed close counts
  std::optional<asio::posix::stream_descriptor> rdhup_;   // private epoll set: EPOLLRDHUP only
  std::unique_ptr<TlsSession> tls_;
  struct HeldWrite {
    std::string plain;
    WriteDone done;
  };
  std::deque<HeldWrite> held_;  // TLS: written before the handshake completed
  bool close_notify_ = true;
  bool close_notify_logged_ = false;
};

// errno of an Asio error (0 when it is not a system error, e.g. eof).
int errno_of(const error_code& ec);

}  // namespace closewire::endpoints
