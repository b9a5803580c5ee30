#include "harness/analysis/tcp_tracker.h"

#include <algorithm>
#include <string>

namespace closewire {
namespace {

constexpr int kMaxWindowScale = 14;  // RFC 7323 2.3

std::string bytes_text(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

}  // namespace

std::int64_t TcpTracker::Direction::unwrap(std::uint32_t seq) const {
  // The offset nearest to `next` that has these low 32 bits.
  const std::uint32_t relative = seq - isn;
  return next + static_cast<std::int32_t>(relative - static_cast<std::uint32_t>(next));
}

TcpTracker::Sides TcpTracker::sides_of(const TcpSegment& first) {
  Sides sides;
  bool src_is_client = false;
  if (first.has(tcp_flag::syn)) {
    sides.syn_seen = true;
    src_is_client = !first.has(tcp_flag::ack);  // a SYN-ACK comes from the server
  } else {
    src_is_client = first.sport >= first.dport;
  }
  sides.client_ip = src_is_client ? first.src : first.dst;
  sides.client_port = src_is_client ? first.sport : first.dport;
  sides.server_ip = src_is_client ? first.dst : first.src;
  sides.server_port = src_is_client ? first.dport : first.sport;
  return sides;
}

TcpTracker::TcpTracker(const TcpSegment& first, TcpListener& listener)
    : listener_(listener), sides_(sides_of(first)) {}

bool TcpTracker::is_new_connection(const TcpSegment& segment) const {
  if (!segment.has(tcp_flag::syn) || segment.has(tcp_flag::ack)) return false;
  if (side_of(segment) == Side::server) return true;
  const Direction& d = dirs_[static_cast<int>(Side::client)];
  return !d.syn || segment.seq != d.isn;
}

Event TcpTracker::event(std::string_view kind, Side from, const TcpSegment& segment) const {
  return make_event(kind, from, segment.t, segment.packet);
}

void TcpTracker::mark_closed(Nanos t) {
  if (!closed_at_) closed_at_ = t;
}

void TcpTracker::add(const TcpSegment& segment) {
  const Side from = side_of(segment);
  const Side to = peer_of(from);
  Direction& d = dir(from);
  Direction& r = dir(to);

  if (segment.has(tcp_flag::syn)) on_syn(from, segment);
  if (!d.seq_known) {
    // Mid-stream: number the first byte seen 1, as if a SYN had come before it.
    d.seq_known = true;
    d.isn = segment.seq - 1;
    d.next = d.highest_end = 1;
  }
  if (!segment.has(tcp_flag::rst)) {
    // The sender as a receiver: what it acknowledges and the window it offers (a SYN's window is
    // never scaled).
    if (segment.has(tcp_flag::ack)) {
      d.ack_known = true;
      d.last_ack = segment.ack;
    }
    d.window = segment.window;
    d.window_in_syn = segment.has(tcp_flag::syn);
    d.window_known = true;
  }
  if (segment.has(tcp_flag::rst)) {
    on_rst(from, segment);
    return;
  }
  on_payload(from, segment);

  // The peer's bytes this segment acknowledges but the capture never showed: skip that gap rather
  // than wait forever (the receiver had them, so the leg goes on).
  if (segment.has(tcp_flag::ack) && r.seq_known &&
      (!r.pending.empty() || (r.fin_at && !r.fin_done)) && r.unwrap(segment.ack) > r.next) {
    skip_gap(to, "acknowledged by the receiver");
  }
}

std::int64_t TcpTracker::offered_window(const Direction& receiver) const {
  int shift = 0;
  if (!receiver.window_in_syn) {
    if (!dirs_[0].syn || !dirs_[1].syn) {
      shift = kMaxWindowScale;  // SYNs not seen: the scale is unknown, assume the widest
    } else if (dirs_[0].wscale >= 0 && dirs_[1].wscale >= 0) {
      shift = std::min(receiver.wscale, kMaxWindowScale);  // RFC 7323: only when both sent it
    }
  }
  return static_cast<std::int64_t>(receiver.window) << shift;
}

void TcpTracker::on_syn(Side from, const TcpSegment& segment) {
  Direction& d = dir(from);
  if (!d.syn) {
    d.syn = true;
    if (!d.seq_known) {
      d.seq_known = true;
      d.isn = segment.seq;
      d.next = d.highest_end = 1;
    }
    d.wscale = segment.wscale;
    listener_.on_tcp_event(event(kind::syn, from, segment));
  } else {
    Event e = event(kind::retransmit, from, segment);
    const char* what = segment.has(tcp_flag::ack) ? "SYN-ACK" : "SYN";
    e.note = segment.seq == d.isn ? what : std::string(what) + " with another ISN";
    listener_.on_tcp_event(std::move(e));
  }
}

void TcpTracker::on_rst(Side from, const TcpSegment& segment) {
  const Side to = peer_of(from);
  Direction& d = dir(from);  // the RST's sender
  Direction& r = dir(to);    // its receiver, whose window decides (RFC 793 3.4, RFC 5961 3.2)
  const std::int64_t seq = d.unwrap(segment.seq);
  // Linux's tcp_reset_check: a receiver in CLOSE_WAIT, LAST_ACK or CLOSING also takes a RST at the
  // seq of the sender's FIN. A socket closed with data still arriving answers that data with a RST
  // carrying its ack, which predates the FIN (nginx's RST to a late TLS close_notify).
  const bool receiver_fin_acked = r.fin_at && d.ack_known && r.unwrap(d.last_ack) > *r.fin_at;
  const bool at_own_fin = d.fin_done && seq == d.next - 1 && !receiver_fin_acked;
  std::string note;
  if (at_own_fin) {
    note = "at the seq of its own FIN (Linux accepts it once that FIN is in)";
  } else if (!r.window_known) {
    note = "receiver window unknown";
  } else {
    const std::int64_t window = offered_window(r);
    const bool in_window = window == 0 ? seq == d.next : (seq >= d.next && seq < d.next + window);
    if (!in_window) {
      Event e = event(kind::rst_ignored, from, segment);
      e.note = "seq " + std::to_string(seq) + " outside the receiver's window [" +
               std::to_string(d.next) + ", " +
               std::to_string(d.next + std::max<std::int64_t>(window, 1)) + ")";
      listener_.on_tcp_event(std::move(e));
      return;
    }
    if (seq != d.next) {
      note = "in window but not at the next expected seq " + std::to_string(d.next) +
             " (RFC 5961 receivers answer with a challenge ACK)";
    }
  }

  // The peer's data the RST's sender never acknowledged: the peer cannot know it was delivered.
  std::uint64_t lost = 0;
  if (r.seq_known) {
    std::int64_t acked = 1;
    if (segment.has(tcp_flag::ack)) {
      acked = r.unwrap(segment.ack);
    } else if (d.ack_known) {
      acked = r.unwrap(d.last_ack);
    }
    const std::int64_t data_end = r.highest_end;
    if (data_end > std::max<std::int64_t>(acked, 1)) {
      lost = static_cast<std::uint64_t>(data_end - std::max<std::int64_t>(acked, 1));
    }
  }
  if (lost > 0) {
    if (!note.empty()) note += "; ";
    note += "unacknowledged: " + bytes_text(lost) + " from the " + std::string(to_string(to));
  }
  Event e = event(kind::rst, from, segment);
  e.note = std::move(note);
  listener_.on_tcp_event(std::move(e));
  if (lost > 0) {
    Event loss = event(kind::rst_data_lost, to, segment);
    loss.bytes = lost;
    loss.note = "not acknowledged by the " + std::string(to_string(from)) + " before its RST";
    listener_.on_tcp_event(std::move(loss));
  }
  d.rst_sent = true;
  mark_closed(segment.t);
}

void TcpTracker::on_payload(Side from, const TcpSegment& segment) {
  Direction& d = dir(from);
  const bool fin = segment.has(tcp_flag::fin);
  std::span<const std::uint8_t> bytes = segment.payload;
  if (bytes.empty() && !fin) return;  // a bare ACK (or keep-alive)

  std::int64_t start = d.unwrap(segment.seq) + (segment.has(tcp_flag::syn) ? 1 : 0);
  const std::int64_t end = start + static_cast<std::int64_t>(bytes.size());
  const std::size_t sent = bytes.size();
  if (end > d.highest_end) d.highest_end = end;

  // What of this segment the receiver already had: below `next`, or waiting out of order.
  std::uint64_t repeated = 0;
  if (end <= d.next) {
    repeated = bytes.size();
    bytes = {};
  } else if (start < d.next) {
    repeated = static_cast<std::uint64_t>(d.next - start);
    bytes = bytes.subspan(repeated);
    start = d.next;
  } else if (!bytes.empty()) {
    const auto it = d.pending.find(start);
    if (it != d.pending.end() && it->second.bytes.size() >= bytes.size()) {
      repeated = bytes.size();
      bytes = {};
    }
  }
  const bool fin_repeated = fin && d.fin_at && *d.fin_at == end && (d.fin_done || bytes.empty());
  if (repeated > 0 || fin_repeated) {
    Event e = event(kind::retransmit, from, segment);
    e.bytes = repeated;
    if (!bytes.empty()) {
      e.note = "partial overlap: " + bytes_text(repeated);
    } else {
      e.note = repeated > 0 && fin_repeated ? "data and FIN" : (fin_repeated ? "FIN" : "data");
    }
    listener_.on_tcp_event(std::move(e));
  }
  if (fin && !d.fin_at) {
    d.fin_at = end;
    d.fin_t = segment.t;
    d.fin_packet = segment.packet;
  }

  if (!bytes.empty()) {
    if (start == d.next) {
      listener_.on_data(from, bytes, segment.t, segment.packet);
      d.next = end;
    } else {
      buffer(from, start, bytes, segment);
    }
  }
  drain(from, segment.t, segment.packet, false);

  if (sent > 0 && dir(peer_of(from)).rst_sent) {
    Event e = event(kind::rst_data_lost, from, segment);
    e.bytes = sent;
    e.note = "sent after the " + std::string(to_string(peer_of(from))) + "'s RST";
    listener_.on_tcp_event(std::move(e));
  }
}

void TcpTracker::buffer(Side from, std::int64_t start, std::span<const std::uint8_t> bytes,
                        const TcpSegment& segment) {
  Direction& d = dir(from);
  // Bounded: past the limit, the gap in front is given up on (the capture most likely lost it).
  while (!d.pending.empty() && d.pending_bytes + bytes.size() > kMaxBuffered) {
    skip_gap(from, "too much data waiting behind it");
  }
  if (start <= d.next) {  // the skip reached this segment
    const auto skip = static_cast<std::size_t>(d.next - start);
    if (skip < bytes.size()) {
      listener_.on_data(from, bytes.subspan(skip), segment.t, segment.packet);
      d.next = start + static_cast<std::int64_t>(bytes.size());
    }
    return;
  }
  Chunk& chunk = d.pending[start];
  d.pending_bytes += bytes.size() - chunk.bytes.size();
  chunk.bytes.assign(bytes.begin(), bytes.end());
  chunk.t = segment.t;
  chunk.packet = segment.packet;
}

void TcpTracker::drain(Side from, Nanos t, std::uint64_t packet, bool own_times) {
  Direction& d = dir(from);
  while (!d.pending.empty() && d.pending.begin()->first <= d.next) {
    auto node = d.pending.extract(d.pending.begin());
    const std::int64_t start = node.key();
    const Chunk& chunk = node.mapped();
    d.pending_bytes -= chunk.bytes.size();
    const std::int64_t end = start + static_cast<std::int64_t>(chunk.bytes.size());
    if (end > d.next) {
      const auto skip = static_cast<std::size_t>(d.next - start);
      std::span<const std::uint8_t> rest(chunk.bytes);
      listener_.on_data(from, rest.subspan(skip), own_times ? chunk.t : t,
                        own_times ? chunk.packet : packet);
      d.next = end;
    }
  }
  if (d.fin_at && !d.fin_done && d.next == *d.fin_at) {
    Event e =
        make_event(kind::fin, from, own_times ? d.fin_t : t, own_times ? d.fin_packet : packet);
    if (e.packet != d.fin_packet) {
      e.note = "arrived out of order in packet " + std::to_string(d.fin_packet);
    }
    listener_.on_tcp_event(std::move(e));
    d.fin_done = true;
    d.next += 1;  // the FIN takes one sequence number
    if (dirs_[0].fin_done && dirs_[1].fin_done) mark_closed(e.t);
  }
}

void TcpTracker::skip_gap(Side from, const char* why) {
  Direction& d = dir(from);
  std::int64_t target = d.next;
  Nanos t = 0;
  std::uint64_t packet = 0;
  if (!d.pending.empty()) {
    target = d.pending.begin()->first;
    t = d.pending.begin()->second.t;
    packet = d.pending.begin()->second.packet;
  }
  if (d.fin_at && !d.fin_done && (d.pending.empty() || *d.fin_at < target)) {
    target = *d.fin_at;
    t = d.fin_t;
    packet = d.fin_packet;
  }
  if (target <= d.next) return;
  Event e = make_event(kind::gap, from, t, packet);
  e.bytes = static_cast<std::uint64_t>(target - d.next);
  e.note = bytes_text(e.bytes) + " missing from the capture before this packet (" + why + ")";
  listener_.on_tcp_event(std::move(e));
  d.next = target;
  // What waited behind the gap reached the receiver when it was sent (it acknowledged it).
  drain(from, 0, 0, true);
}

void TcpTracker::finish() {
  for (const Side side : {Side::client, Side::server}) {
    Direction& d = dir(side);
    while (!d.pending.empty() || (d.fin_at && !d.fin_done && *d.fin_at > d.next)) {
      const std::int64_t before = d.next;
      skip_gap(side, "the capture ends with data waiting behind it");
      if (d.next == before) break;
    }
  }
}

}  // namespace closewire
