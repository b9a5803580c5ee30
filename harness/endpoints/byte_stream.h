// What a WebSocket peer reads and writes: a TCP connection (TcpStream, plain or TLS) or one
// HTTP/2 stream (H2Stream, RFC 8441), where END_STREAM reads as the peer's FIN and RST_STREAM as
// its RST. One interface, so the WebSocket logic (Peer, the client profiles) stays one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/observation.h"

namespace closewire::endpoints {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class TlsSession;

class ByteStream {
 public:
  using Sink = std::function<void(Observation)>;
  using WriteDone = std::function<void(const error_code&)>;
  struct Callbacks {
    std::function<void(std::span<const std::uint8_t>)> on_data;
    std::function<void()> on_eof;                           // the peer's FIN (END_STREAM)
    std::function<void(const error_code&)> on_read_error;   // then the stream closes itself
    std::function<void(const error_code&)> on_write_error;  // then the stream closes itself
    std::function<void()> on_closed;                        // the stream is gone, whichever way
  };

  virtual ~ByteStream() = default;

  virtual void set_callbacks(Callbacks cb) = 0;
  virtual void set_sink(Sink sink) = 0;
  // Drops callbacks and sink: the owner is going away.
  virtual void detach() = 0;

  virtual void start_reading() = 0;
  virtual void stop_reading() = 0;  // nothing more is read (or delivered) until start_reading

  // Queued writes go out in order; `done` runs when this piece is on its way or failed.
  virtual void write(std::string bytes, WriteDone done = {}) = 0;
  virtual void close(CloseMode mode, std::chrono::milliseconds delay = kDefaultCloseDelay) = 0;
  // The plain close: TCP close() (FIN, or RST with bytes unread); h2: RST_STREAM(CANCEL) unless
  // the stream ended both ways already.
  virtual void close_plain(std::string_view why) = 0;

  virtual bool is_open() const = 0;
  virtual bool closing() const = 0;
  // Whether the peer's end has arrived, without reading it: "fin" (FIN, END_STREAM), "rst" (RST,
  // RST_STREAM) or "".
  virtual std::string peer_gone() = 0;

  // The TCP connection under the stream (its own for a TcpStream, the h2 connection's for an
  // H2Stream) and its TLS: closes of that connection send close_notify when `send`.
  virtual void set_close_notify(bool send) = 0;
  virtual const TlsSession* tls_session() const = 0;
  virtual tcp::socket& socket() = 0;
};

}  // namespace closewire::endpoints
