// The WebSocket legs of one HTTP/2 connection (RFC 8441): each extended-CONNECT stream with
// `:protocol websocket` becomes a leg of its own, its DATA payload fed to the same WebSocket frame
// decoding as an HTTP/1.1 leg. On h2 the stream is the leg: the TCP connection's FIN or RST says
// nothing about one WebSocket while other streams live on (docs/close-semantics.md §6).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "harness/analysis/connection.h"
#include "harness/wire/h2_frame_reader.h"

namespace closewire {

class LegBuilder;

class H2Legs {
 public:
  // `connection`: the TCP connection's leg, which takes the connection-wide events (GOAWAY, a
  // frame that cannot be read); its identity (index, addresses) is each stream leg's.
  explicit H2Legs(LegBuilder& connection);
  ~H2Legs();
  H2Legs(const H2Legs&) = delete;
  H2Legs& operator=(const H2Legs&) = delete;

  // The connection's bytes from `from` (plaintext on a TLS leg), the client's from the preface on.
  void on_bytes(Side from, std::span<const std::uint8_t> bytes, Nanos t, std::uint64_t packet);
  // A TCP FIN, RST or gap of the connection: on every stream leg still open.
  void on_tcp_event(const Event& event);
  // The stream legs, in the order their requests came; each finished at `observed_until`.
  std::vector<Connection> finish(Nanos observed_until);

 private:
  struct Stream {
    std::unique_ptr<LegBuilder> leg;
    bool answered = false;             // the server's response HEADERS came
    std::array<bool, 2> ended{};       // END_STREAM by side
    std::array<bool, 2> reset_sent{};  // RST_STREAM by side
    std::optional<Side> reset_by;      // who sent the first one
    bool open() const { return !reset_by && !(ended[0] && ended[1]); }
  };

  void on_frame(Side from, const wire::H2Frame& frame, Nanos t, std::uint64_t packet);
  void on_headers(Side from, const wire::H2Frame& frame, Nanos t, std::uint64_t packet);
  // A frame on a stream that is closed to it: an h2.protocol_error on that stream's leg.
  void closed_stream_frame(Stream& s, Side from, const wire::H2Frame& frame, Nanos t,
                           std::uint64_t packet);
  void end_stream(Stream& s, Side from, Nanos t, std::uint64_t packet);
  // A connection-wide event (GOAWAY, an unreadable frame) on every stream leg still open.
  void to_open_streams(const Event& e);

  LegBuilder& connection_;
  std::array<wire::H2FrameReader, 2> readers_;
  std::uint32_t last_client_stream_ = 0;  // the highest stream id the client opened
  // WebSocket streams by id: also request order, since a client's stream ids only grow (a reused
  // id is refused in on_headers).
  std::map<std::uint32_t, Stream> streams_;
};

}  // namespace closewire
