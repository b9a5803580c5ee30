// Test helper: a raw TCP end (no WebSocket peer) for the relay and server tests. A TcpStream that
// keeps the bytes it read, when they arrived, and its socket-level observations (eof, read_error,
// closed), so a test can write exact bytes and see exactly what the other side delivered.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/endpoints/tcp_stream.h"

namespace closewire::endpoints::testing {

struct RawEnd {
  RawEnd() = default;
  RawEnd(const RawEnd&) = delete;
  RawEnd& operator=(const RawEnd&) = delete;
  ~RawEnd() {
    if (!stream) return;
    stream->detach();
    stream->close_plain("test end destroyed");
  }

  // When the total read so far first reached `n` bytes (total counts bytes `data` lost to clear()).
  std::optional<Clock::time_point> reached(std::uint64_t n) const {
    for (const auto& [at, total_then] : arrivals)
      if (total_then >= n) return at;
    return std::nullopt;
  }
  bool ended() const {
    return log.first(ObservationKind::eof) || log.first(ObservationKind::read_error);
  }

  ObservationLog log;
  std::string data;         // what was read (a test may clear it)
  std::uint64_t total = 0;  // bytes read since the start
  std::vector<std::pair<Clock::time_point, std::uint64_t>> arrivals;  // (when, total after)
  std::shared_ptr<TcpStream> stream;
};

inline std::unique_ptr<RawEnd> make_raw_end(tcp::socket socket, std::string side) {
  auto end = std::make_unique<RawEnd>();
  RawEnd* raw = end.get();  // the stream is detached before the end goes away
  end->stream = TcpStream::create(
      std::move(socket), [raw](Observation o) { raw->log.add(std::move(o)); }, std::move(side));
  TcpStream::Callbacks cb;
  cb.on_data = [raw](std::span<const std::uint8_t> bytes) {
    raw->data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    raw->total += bytes.size();
    raw->arrivals.emplace_back(Clock::now(), raw->total);
  };
  end->stream->set_callbacks(std::move(cb));
  return end;
}

// Connects (blocking: a listening socket completes the handshake in the kernel) and starts
// reading. `rcvbuf` fixes SO_RCVBUF before the connect (no receive-buffer autotuning).
inline std::unique_ptr<RawEnd> connect_raw(boost::asio::io_context& io, const tcp::endpoint& to,
                                           std::optional<int> rcvbuf = std::nullopt,
                                           std::string side = "client") {
  tcp::socket s(io);
  s.open(to.protocol());
  if (rcvbuf) s.set_option(boost::asio::socket_base::receive_buffer_size(*rcvbuf));
  s.connect(to);
  auto end = make_raw_end(std::move(s), std::move(side));
  end->stream->start_reading();
  return end;
}

}  // namespace closewire::endpoints::testing
