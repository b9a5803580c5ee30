// One leg's timeline: a TcpTracker's facts and bytes turned into tcp.*, http.* and ws.* events.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "harness/analysis/connection.h"
#include "harness/analysis/tcp_tracker.h"
#include "harness/wire/frame.h"
#include "harness/wire/frame_decoder.h"
#include "harness/wire/http_head.h"

namespace closewire {

// Each direction's in-order bytes go first to an HTTP head parser (client: request, server:
// response), then, once a 101 answered a WebSocket upgrade, to a frame decoder (client frames
// masked). Every event carries the time and number of the packet whose bytes completed it.
class LegBuilder final : public TcpListener {
 public:
  // Client bytes after an upgrade request are held until the response decides what they are.
  static constexpr std::size_t kMaxHeldBytes = 1 << 20;
  // Events room made when a leg starts.
  static constexpr std::size_t kReservedEvents = 16;

  // `identity`: index, endpoints, syn_seen and start already filled in; no events.
  explicit LegBuilder(Connection identity);

  void on_tcp_event(Event&& event) override;
  void on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
               std::uint64_t packet) override;

  const Connection& connection() const { return connection_; }
  // The finished leg, its events in time order; `observed_until` is when it stopped being watched.
  Connection finish(Nanos observed_until);

 private:
  struct Held {
    std::vector<std::uint8_t> bytes;
    Nanos t = 0;
    std::uint64_t packet = 0;
  };
  struct Direction {
    explicit Direction(bool client);
    wire::HttpHeadParser head;
    wire::FrameDecoder frames;
    bool decoding = false;  // bytes go to `frames`
    bool ignoring = false;  // not WebSocket, or frame sync lost: bytes are dropped
    bool close_seen = false;
    std::vector<Held> held;  // client only: bytes after the request head, before the response
    std::size_t held_bytes = 0;
    Nanos last_t = 0;  // the last bytes delivered
    std::uint64_t last_packet = 0;
  };

  Direction& dir(Side s) { return dirs_[static_cast<int>(s)]; }
  void on_head_done(Side from, Nanos t, std::uint64_t packet);
  void feed_after_head(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                       std::uint64_t packet);
  void decode(Side from, std::span<const std::uint8_t> bytes, Nanos t, std::uint64_t packet);
  void emit_frame(Side from, const wire::Frame& frame, Nanos t, std::uint64_t packet);
  // A ws.protocol_error about `frame`.
  void add_frame_problem(Side from, const wire::Frame& frame, std::string note, Nanos t,
                         std::uint64_t packet);
  // A frame left incomplete when `from`'s stream ended (FIN or RST), reported as a protocol error.
  void report_cut_frame(Side from, std::string_view cause, Nanos t, std::uint64_t packet);
  void add(Event&& event) { connection_.events.push_back(std::move(event)); }

  Connection connection_;
  std::array<Direction, 2> dirs_;
};

}  // namespace closewire
