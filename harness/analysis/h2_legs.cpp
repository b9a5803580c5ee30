#include "harness/analysis/h2_legs.h"

#include <fmt/format.h>

#include "harness/analysis/leg_builder.h"

namespace closewire {
namespace {

using wire::H2Frame;
using wire::H2Type;

bool is(const H2Frame& f, H2Type t) {
  return f.type == static_cast<std::uint8_t>(t);
}

int side_index(Side s) {
  return static_cast<int>(s);
}

// An RFC 8441 WebSocket request: CONNECT with :protocol websocket.
bool is_websocket_connect(const H2Frame& f) {
  return f.header(":method") == "CONNECT" && f.header(":protocol") == "websocket";
}

}  // namespace

H2Legs::H2Legs(LegBuilder& connection)
    : connection_(connection), readers_{wire::H2FrameReader(true), wire::H2FrameReader(false)} {}

H2Legs::~H2Legs() = default;

void H2Legs::on_bytes(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                      std::uint64_t packet) {
  wire::H2FrameReader& reader = readers_[side_index(from)];
  if (!reader.problem().empty()) return;
  thread_local std::vector<H2Frame> frames;
  frames.clear();
  reader.feed(bytes, frames);
  for (const H2Frame& f : frames) on_frame(from, f, t, packet);
  if (!reader.problem().empty()) {
    // Nothing after it can be read: the connection says why, and so does every open stream.
    Event e = make_event(kind::h2_protocol_error, from, t, packet);
    e.note = reader.problem() + "; later bytes from the " + std::string(to_string(from)) +
             " are not read";
    to_open_streams(e);
    connection_.add_event(std::move(e));
  }
}

void H2Legs::to_open_streams(const Event& e) {
  for (auto& [id, s] : streams_) {
    if (s.open()) s.leg->add_event(Event(e));
  }
}

void H2Legs::on_frame(Side from, const H2Frame& f, Nanos t, std::uint64_t packet) {
  if (is(f, H2Type::goaway)) {
    Event e = make_event(kind::h2_goaway, from, t, packet);
    e.text = wire::h2_error_name(f.error_code);
    e.note = fmt::format("last stream {}", f.last_stream);
    to_open_streams(e);
    connection_.add_event(std::move(e));
    return;
  }
  if (is(f, H2Type::headers)) {
    on_headers(from, f, t, packet);
    return;
  }
  const auto found = streams_.find(f.stream);
  if (found == streams_.end()) return;  // not a WebSocket stream (a page, an image)
  Stream& s = found->second;
  if (is(f, H2Type::data)) {
    if (!s.open() || s.ended[side_index(from)]) {
      closed_stream_frame(s, from, f, t, packet);
      return;
    }
    s.leg->feed_frames(from, {reinterpret_cast<const std::uint8_t*>(f.data.data()), f.data.size()},
                       t, packet);
    if (f.end_stream()) end_stream(s, from, t, packet);
  } else if (is(f, H2Type::rst_stream)) {
    if (s.reset_sent[side_index(from)]) {
      closed_stream_frame(s, from, f, t, packet);
      return;
    }
    s.reset_sent[side_index(from)] = true;
    Event e = make_event(kind::h2_rst_stream, from, t, packet);
    e.text = wire::h2_error_name(f.error_code);
    if (s.reset_by) {
      // Both sides reset: sent before the peer's arrived (Chromium cancels a stream the server
      // ended while HAProxy's RST_STREAM is in flight), not an answer to it (RFC 9113 §5.4.2).
      e.note = "the " + std::string(to_string(*s.reset_by)) + " had reset the stream already";
      s.leg->add_event(std::move(e));
      return;
    }
    s.reset_by = from;
    s.leg->add_event(std::move(e));
    // Whatever either side had not finished sending is cut off here.
    s.leg->end_frames(from, "RST_STREAM", t, packet);
    s.leg->end_frames(peer_of(from), "RST_STREAM", t, packet);
  }
}

void H2Legs::on_headers(Side from, const H2Frame& f, Nanos t, std::uint64_t packet) {
  const auto found = streams_.find(f.stream);
  if (found != streams_.end()) {
    Stream& s = found->second;
    if (!s.open() || s.ended[side_index(from)]) {
      closed_stream_frame(s, from, f, t, packet);
      return;
    }
    if (from == Side::server && !s.answered) {
      s.answered = true;
      const std::string_view status = f.header(":status");
      const bool accepted = status.size() == 3 && status[0] == '2';
      Event e = make_event(accepted ? kind::upgrade : kind::http_response, Side::server, t, packet);
      e.text = fmt::format("HTTP/2 {}", status);
      s.leg->add_event(std::move(e));
      if (accepted)
        s.leg->accept_frames(std::string(f.header("server")));
      else
        s.leg->refuse_frames();
    }
    // Else trailers: only their END_STREAM counts.
    if (f.end_stream()) end_stream(s, from, t, packet);
    return;
  }
  if (from != Side::client) return;  // a response on a stream that is no WebSocket
  std::uint32_t& last = last_client_stream_;
  if (f.stream <= last && f.stream != 0) {
    // RFC 9113 §5.1.1: stream ids only grow; a request on an old id reuses a closed stream.
    Event e = make_event(kind::h2_protocol_error, from, t, packet);
    e.note = fmt::format(
        "HEADERS of stream {} at byte {} reuses a closed stream (stream {} came "
        "before it)",
        f.stream, f.offset, last);
    connection_.add_event(std::move(e));
    return;
  }
  last = f.stream;
  if (!is_websocket_connect(f)) return;
  Connection identity;
  const Connection& c = connection_.connection();
  identity.index = c.index;
  identity.client = c.client;
  identity.server = c.server;
  identity.syn_seen = c.syn_seen;
  identity.start = t;
  identity.h2_stream = f.stream;
  identity.handshake.target = std::string(f.header(":path"));
  Stream s;
  s.leg = std::make_unique<LegBuilder>(std::move(identity));
  Event e = make_event(kind::upgrade, Side::client, t, packet);
  e.text = fmt::format("CONNECT {} HTTP/2 (:protocol websocket, stream {})", f.header(":path"),
                       f.stream);
  s.leg->add_event(std::move(e));
  Stream& added = streams_.emplace(f.stream, std::move(s)).first->second;
  if (f.end_stream()) end_stream(added, from, t, packet);
}

void H2Legs::closed_stream_frame(Stream& s, Side from, const H2Frame& f, Nanos t,
                                 std::uint64_t packet) {
  Event e = make_event(kind::h2_protocol_error, from, t, packet);
  e.text = wire::h2_type_name(f.type);
  e.note = fmt::format("{} on stream {} after its {}", wire::h2_type_name(f.type), f.stream,
                       s.reset_by ? "RST_STREAM" : "END_STREAM");
  s.leg->add_event(std::move(e));
}

void H2Legs::end_stream(Stream& s, Side from, Nanos t, std::uint64_t packet) {
  s.ended[side_index(from)] = true;
  s.leg->end_frames(from, "END_STREAM", t, packet);
  s.leg->add_event(make_event(kind::h2_end_stream, from, t, packet));
}

void H2Legs::on_tcp_event(const Event& event) {
  for (auto& [id, s] : streams_) {
    if (!s.open()) continue;
    s.leg->add_event(Event(event));
    if (event.kind == kind::fin || event.kind == kind::rst) {
      const std::string_view cause = event.kind == kind::fin ? "the FIN" : "the RST";
      s.leg->end_frames(event.from, cause, event.t, event.packet);
    }
  }
}

std::vector<Connection> H2Legs::finish(Nanos observed_until) {
  std::vector<Connection> legs;
  legs.reserve(streams_.size());
  for (auto& [id, s] : streams_) {
    Connection leg = s.leg->finish(observed_until);
    leg.tls = connection_.connection().tls;
    legs.push_back(std::move(leg));
  }
  return legs;
}

}  // namespace closewire
