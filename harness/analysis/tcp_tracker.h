// Sequence-aware tracking of one TCP connection: in-order bytes plus SYN/FIN/RST facts.
//
// closewire's own, because libtins' StreamFollower forgets a stream at FIN/RST (so a later RST,
// retransmission or last ACK is lost) and gives no per-event timestamps or half-close state.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "harness/analysis/event.h"
#include "harness/analysis/packet_source.h"

namespace closewire {

// Receives what a TcpTracker finds, in stream order: bytes are delivered before the FIN of the
// segment that carried them.
class TcpListener {
 public:
  virtual ~TcpListener() = default;
  // tcp.* events (from = the side that sent the segment, except tcp.rst_data_lost and tcp.gap,
  // whose `from` is the side whose bytes are lost / missing).
  virtual void on_tcp_event(Event&& event) = 0;
  // In-order bytes from `from`, made available by packet `packet` at `t` (for bytes that waited
  // behind a gap: the packet that filled it).
  virtual void on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                       std::uint64_t packet) = 0;
};

class TcpTracker {
 public:
  // Out-of-order bytes buffered per direction before the gap in front of them is given up.
  static constexpr std::size_t kMaxBuffered = 4 << 20;

  // Who is who on a leg, decided by the first segment seen on its 4-tuple: the SYN's sender is the
  // client (a SYN-ACK's receiver); without either, the side with the higher port.
  struct Sides {
    IpAddress client_ip;
    IpAddress server_ip;
    std::uint16_t client_port = 0;
    std::uint16_t server_port = 0;
    bool syn_seen = false;
  };
  static Sides sides_of(const TcpSegment& first);

  TcpTracker(const TcpSegment& first, TcpListener& listener);

  void add(const TcpSegment& segment);  // a segment of this 4-tuple, in capture order
  // End of the capture (or the leg is handed out): bytes still waiting behind a gap are delivered
  // after a tcp.gap event, and a FIN behind them is reported.
  void finish();

  // True when `segment` is a SYN opening a new connection on this 4-tuple (a different ISN, or the
  // other side), rather than a retransmitted SYN.
  bool is_new_connection(const TcpSegment& segment) const;

  Side side_of(const TcpSegment& segment) const {
    return segment.src == sides_.client_ip && segment.sport == sides_.client_port ? Side::client
                                                                                  : Side::server;
  }
  const Sides& sides() const { return sides_; }
  // Both FINs delivered, or a valid RST; with the time it happened.
  bool closed() const { return closed_at_.has_value(); }
  Nanos closed_at() const { return closed_at_.value_or(0); }

 private:
  struct Chunk {
    std::vector<std::uint8_t> bytes;
    Nanos t = 0;
    std::uint64_t packet = 0;
  };
  // One direction of the stream, named by its sender. Sequence numbers are kept as 64-bit offsets
  // from the ISN (the SYN is 0), so wrap-around never matters past unwrap().
  struct Direction {
    bool seq_known = false;
    bool syn = false;
    std::uint32_t isn = 0;
    std::int64_t next = 0;                  // next in-order offset expected
    std::int64_t highest_end = 0;           // end of the highest data sent
    std::map<std::int64_t, Chunk> pending;  // out-of-order data by offset
    std::size_t pending_bytes = 0;
    std::optional<std::int64_t> fin_at;  // offset of the FIN, once seen
    Nanos fin_t = 0;
    std::uint64_t fin_packet = 0;
    bool fin_done = false;  // FIN delivered in order
    bool rst_sent = false;  // a valid RST came from this side
    // This side as a receiver: what it acknowledges and advertises.
    bool ack_known = false;
    std::uint32_t last_ack = 0;
    bool window_known = false;
    std::uint16_t window = 0;    // raw field of its last segment
    bool window_in_syn = false;  // that segment was a SYN: never scaled
    int wscale = -1;             // from its SYN

    std::int64_t unwrap(std::uint32_t seq) const;
  };

  Direction& dir(Side s) { return dirs_[static_cast<int>(s)]; }
  // The window `receiver` offers, in bytes.
  std::int64_t offered_window(const Direction& receiver) const;
  void on_syn(Side from, const TcpSegment& segment);
  void on_rst(Side from, const TcpSegment& segment);
  void on_payload(Side from, const TcpSegment& segment);
  // Delivers what waited behind a filled gap, then the FIN if it is next: stamped with `t`/`packet`
  // (the segment that filled the gap), or with their own when `own_times` (a skipped gap).
  void drain(Side from, Nanos t, std::uint64_t packet, bool own_times);
  // Gives up on the gap in front of the first waiting bytes (or FIN): reports tcp.gap, delivers.
  void skip_gap(Side from, const char* why);
  void buffer(Side from, std::int64_t start, std::span<const std::uint8_t> bytes,
              const TcpSegment& segment);
  void mark_closed(Nanos t);
  Event event(std::string_view kind, Side from, const TcpSegment& segment) const;

  TcpListener& listener_;
  Sides sides_;
  std::array<Direction, 2> dirs_;  // indexed by Side
  std::optional<Nanos> closed_at_;
};

}  // namespace closewire
