#include "harness/analysis/leg_builder.h"

#include <algorithm>
#include <string>

#include "harness/analysis/h2_legs.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/h2_frame_reader.h"

namespace closewire {
namespace {

constexpr std::size_t kTextPreview = 64;

// The first bytes of a text payload, not cutting a UTF-8 sequence in two.
std::string preview(const std::string& payload) {
  if (payload.size() <= kTextPreview) return payload;
  std::size_t n = kTextPreview;
  while (n > 0 && (static_cast<unsigned char>(payload[n]) & 0xC0) == 0x80) --n;
  return payload.substr(0, n);
}

std::string_view close_note_of(wire::ClosePayload::Status status) {
  switch (status) {
    case wire::ClosePayload::Status::ok:
      return {};
    case wire::ClosePayload::Status::no_status:
      return close_note::no_status;
    case wire::ClosePayload::Status::malformed:
      return close_note::malformed;
    case wire::ClosePayload::Status::invalid_code:
      return close_note::invalid_code;
    case wire::ClosePayload::Status::invalid_utf8:
      return close_note::invalid_utf8;
  }
  return {};
}

}  // namespace

LegBuilder::Direction::Direction(bool client)
    : head(client ? wire::HttpHeadParser::Kind::request : wire::HttpHeadParser::Kind::response),
      frames(/*expect_masked=*/client) {}

LegBuilder::LegBuilder(Connection identity, const wire::TlsKeyLog* keys)
    : connection_(std::move(identity)), dirs_{Direction(true), Direction(false)}, keys_(keys) {
  // A WebSocket leg has about a dozen events: grown one by one, the vector would be reallocated
  // (and its events moved) four or five times.
  connection_.events.reserve(kReservedEvents);
}

LegBuilder::~LegBuilder() = default;

void LegBuilder::on_tcp_event(Event&& event) {
  const Side from = event.from;
  const Nanos t = event.t;
  const std::uint64_t packet = event.packet;
  if (event.kind == kind::gap) {
    Direction& d = dir(from);
    if (tls_) d.tls_lost = true;  // TLS records cannot be resynchronised either
    if (!d.ignoring) {
      // Frames (or the HTTP head) cannot be resynchronised after missing bytes.
      d.ignoring = true;
      d.decoding = false;
      event.note += "; later bytes from the " + std::string(to_string(from)) + " are not decoded";
    }
  }
  const bool fin = event.kind == kind::fin;
  const bool rst = event.kind == kind::rst;
  if (tls_ && (fin || rst)) {
    std::string cut = cut_record_note(from, fin ? "the FIN" : "the RST");
    if (!cut.empty()) event.note += (event.note.empty() ? "" : "; ") + cut;
  }
  if (h2_ && (fin || rst || event.kind == kind::gap)) h2_->on_tcp_event(event);
  add(std::move(event));
  if (fin) report_cut_frame(from, "the FIN", t, packet);
  if (rst) report_cut_frame(from, "the RST", t, packet);
}

void LegBuilder::on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                         std::uint64_t packet) {
  if (stream_ == Stream::plain) {
    on_plain(from, bytes, t, packet);
    return;
  }
  if (stream_ == Stream::undecided) {
    if (from == Side::server) {  // the server spoke first: not a TLS client's leg
      on_plain(from, bytes, t, packet);
      return;
    }
    tls_t_ = t;  // TLS bytes held while undecided are fed at this packet
    tls_packet_ = packet;
    if (!decide_stream(bytes)) return;
    if (stream_ == Stream::plain) {
      on_plain(from, bytes, t, packet);
      return;
    }
  }
  feed_tls(from, bytes, t, packet);
}

bool LegBuilder::decide_stream(std::span<const std::uint8_t>& bytes) {
  if (first_have_ == 0 && bytes.size() >= first_.size()) {
    // The usual case: the first segment holds the first three bytes.
    stream_ = wire::starts_like_tls(bytes) ? Stream::tls : Stream::plain;
  } else {
    while (first_have_ < first_.size() && !bytes.empty()) {
      first_[first_have_++] = bytes.front();
      bytes = bytes.subspan(1);
    }
    if (first_have_ < first_.size()) return false;
    stream_ = wire::starts_like_tls(first_) ? Stream::tls : Stream::plain;
  }
  if (stream_ == Stream::tls) {
    tls_ = std::make_unique<wire::TlsSession>(keys_);
    connection_.tls.emplace();
  }
  if (first_have_ > 0) {
    // The bytes held while undecided go first, at the time of the packet that decided.
    const std::array<std::uint8_t, 3> held = first_;
    first_have_ = 0;
    std::span<const std::uint8_t> rest = bytes;
    bytes = {};
    if (stream_ == Stream::tls) {
      tls_->feed(true, held, *this);
      tls_->feed(true, rest, *this);
      return false;  // fed: the caller has nothing left
    }
    // Plain: hand the held bytes and the rest on in one piece.
    thread_local std::vector<std::uint8_t> joined;
    joined.assign(held.begin(), held.end());
    joined.insert(joined.end(), rest.begin(), rest.end());
    bytes = joined;
  }
  return true;
}

void LegBuilder::feed_tls(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                          std::uint64_t packet) {
  tls_t_ = t;
  tls_packet_ = packet;
  Direction& d = dir(from);
  d.last_t = t;
  d.last_packet = packet;
  if (d.tls_lost) return;
  tls_->feed(from == Side::client, bytes, *this);
}

void LegBuilder::on_plaintext(bool client, std::span<const std::uint8_t> bytes) {
  on_plain(client ? Side::client : Side::server, bytes, tls_t_, tls_packet_);
}

void LegBuilder::on_tls_handshake(std::string_view text) {
  Event e = make_event(kind::tls_handshake, Side::server, tls_t_, tls_packet_);
  e.text = text;
  if (!tls_->sni().empty()) e.note = "sni=" + tls_->sni();
  add(std::move(e));
}

void LegBuilder::on_tls_alert(bool client, std::uint8_t level, std::uint8_t description) {
  const Side from = client ? Side::client : Side::server;
  if (description == 0) {
    add(make_event(kind::tls_close_notify, from, tls_t_, tls_packet_));
    return;
  }
  Event e = make_event(kind::tls_alert, from, tls_t_, tls_packet_);
  e.text = std::string(level == 2   ? "fatal "
                       : level == 1 ? "warning "
                                    : "level " + std::to_string(level) + " ") +
           wire::tls_alert_name(description);
  add(std::move(e));
}

void LegBuilder::on_tls_undecryptable(bool client, std::string_view why) {
  Event e = make_event(kind::tls_undecryptable, client ? Side::client : Side::server, tls_t_,
                       tls_packet_);
  e.note = why;
  add(std::move(e));
}

std::string LegBuilder::cut_record_note(Side from, std::string_view cause) const {
  const bool client = from == Side::client;
  const std::size_t have = tls_->pending(client);
  if (have == 0) return {};
  const std::size_t need = tls_->pending_needed(client);
  return "TLS record cut off by " + std::string(cause) + ": " + std::to_string(have) + " of " +
         (have < wire::kTlsRecordHeader ? std::string("its header's 5") : std::to_string(need)) +
         " bytes";
}

void LegBuilder::on_plain(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                          std::uint64_t packet) {
  Direction& d = dir(from);
  d.last_t = t;
  d.last_packet = packet;
  if (d.ignoring) return;
  if (d.decoding) {
    decode(from, bytes, t, packet);
    return;
  }
  if (http_ != Http::h1) {
    if (http_ == Http::undecided && !decide_http(from, bytes, t, packet)) return;
    if (http_ == Http::h2) {
      h2_->on_bytes(from, bytes, t, packet);
      return;
    }
  }
  if (d.head.state() == wire::HttpHeadParser::State::need_more) {
    const std::size_t used = d.head.feed(bytes);
    switch (d.head.state()) {
      case wire::HttpHeadParser::State::error:
        d.ignoring = true;  // not HTTP (or a capture that began mid-stream): nothing to decode
        return;
      case wire::HttpHeadParser::State::need_more:
        return;
      case wire::HttpHeadParser::State::done:
        on_head_done(from, t, packet);
        bytes = bytes.subspan(std::min(used, bytes.size()));
        break;
    }
  }
  if (!bytes.empty()) feed_after_head(from, bytes, t, packet);
}

bool LegBuilder::decide_http(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                             std::uint64_t packet) {
  if (from == Side::server) {
    // Held until the client's first bytes say what this is.
    std::size_t held = 0;
    for (const Held& h : early_server_) held += h.bytes.size();
    if (held + bytes.size() <= kMaxEarlyServerBytes) {
      early_server_.push_back(Held{{bytes.begin(), bytes.end()}, t, packet});
      return false;
    }
    http_ = Http::h1;  // no client bytes after this much: nothing here to decode as h2
  } else {
    const std::string_view preface = wire::kH2Preface;
    const std::size_t have = preface_seen_.size();
    const std::size_t take = std::min(bytes.size(), preface.size() - have);
    const std::string_view next(reinterpret_cast<const char*>(bytes.data()), take);
    if (preface.substr(have, take) != next) {
      http_ = Http::h1;
    } else if (have + take < preface.size()) {
      preface_seen_.append(next);
      return false;  // so far the preface: wait for the rest
    } else {
      http_ = Http::h2;
      connection_.h2_connection = true;
      h2_ = std::make_unique<H2Legs>(*this);
    }
  }
  // Decided: what was kept goes first, at its own time, then the caller's bytes.
  std::string client = std::move(preface_seen_);
  std::vector<Held> server = std::move(early_server_);
  if (!client.empty()) {
    on_plain(Side::client, {reinterpret_cast<const std::uint8_t*>(client.data()), client.size()},
             t, packet);
  }
  for (const Held& h : server) on_plain(Side::server, h.bytes, h.t, h.packet);
  return true;
}

void LegBuilder::start_decoding() {
  Direction& client = dir(Side::client);
  Direction& server = dir(Side::server);
  connection_.websocket = true;
  server.decoding = true;
  client.decoding = true;
  // Client frames that came before the answer: on the wire at their own time.
  std::vector<Held> held = std::move(client.held);
  client.held_bytes = 0;
  for (const Held& h : held) decode(Side::client, h.bytes, h.t, h.packet);
}

void LegBuilder::accept_frames(std::string server) {
  connection_.handshake.server = std::move(server);
  start_decoding();
}

void LegBuilder::refuse_frames() {
  Direction& client = dir(Side::client);
  dir(Side::server).ignoring = true;
  client.ignoring = true;
  client.held.clear();
  client.held_bytes = 0;
}

void LegBuilder::on_head_done(Side from, Nanos t, std::uint64_t packet) {
  Direction& client = dir(Side::client);
  Direction& server = dir(Side::server);
  if (from == Side::client) {
    if (client.head.is_websocket_upgrade_request()) {
      Event e = make_event(kind::upgrade, Side::client, t, packet);
      e.text = client.head.first_line();
      connection_.handshake.key = client.head.fields().key;
      connection_.handshake.target = client.head.fields().target;
      add(std::move(e));
    } else {
      client.ignoring = true;  // plain HTTP: its body or next request is no frame
    }
    return;
  }
  const bool upgrade_asked = client.head.state() == wire::HttpHeadParser::State::done &&
                             client.head.is_websocket_upgrade_request();
  const unsigned status = server.head.status();
  Event e =
      make_event(status == 101 ? kind::upgrade : kind::http_response, Side::server, t, packet);
  e.text = server.head.first_line();
  if (status == 101 && !upgrade_asked) e.note = "not an answer to a WebSocket upgrade request";
  add(std::move(e));
  if (status == 101 && upgrade_asked) {
    connection_.handshake.accept = server.head.fields().accept;
    connection_.handshake.server = server.head.fields().server;
    connection_.handshake.envoy_fields = server.head.fields().envoy_fields;
    start_decoding();
  } else {
    refuse_frames();
  }
}

void LegBuilder::feed_after_head(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                                 std::uint64_t packet) {
  Direction& d = dir(from);
  if (d.decoding) {
    decode(from, bytes, t, packet);
  } else if (!d.ignoring && from == Side::client) {
    if (d.held_bytes + bytes.size() > kMaxHeldBytes) {
      d.ignoring = true;  // no answer after this much: too much to keep
      d.held.clear();
      d.held_bytes = 0;
      return;
    }
    d.held.push_back(Held{{bytes.begin(), bytes.end()}, t, packet});
    d.held_bytes += bytes.size();
  }
}

void LegBuilder::decode(Side from, std::span<const std::uint8_t> bytes, Nanos t,
                        std::uint64_t packet) {
  // One scratch vector for every leg (decode never nests): no allocation per leg, and none to
  // free when a cold leg is handed out.
  thread_local std::vector<wire::Frame> frames;
  frames.clear();
  Direction& d = dir(from);
  d.frames.feed(bytes, frames);
  for (const wire::Frame& frame : frames) emit_frame(from, frame, t, packet);
  // A header that breaks RFC 6455 is reported when it arrives, as a browser's parser fails on it
  // then, not when (or if) its payload completes; frame sync is lost after it.
  if (const wire::Frame* pending = d.frames.pending_frame();
      pending && !pending->problems.empty()) {
    for (std::string_view p : pending->problems)
      add_frame_problem(from, *pending, std::string(p), t, packet);
    d.decoding = false;
    d.ignoring = true;
  }
}

void LegBuilder::emit_frame(Side from, const wire::Frame& frame, Nanos t, std::uint64_t packet) {
  Direction& d = dir(from);
  std::string_view kind;
  switch (static_cast<wire::Opcode>(frame.opcode)) {
    case wire::Opcode::continuation:
      kind = kind::continuation;
      break;
    case wire::Opcode::text:
      kind = kind::text;
      break;
    case wire::Opcode::binary:
      kind = kind::binary;
      break;
    case wire::Opcode::close:
      kind = kind::close;
      break;
    case wire::Opcode::ping:
      kind = kind::ping;
      break;
    case wire::Opcode::pong:
      kind = kind::pong;
      break;
  }
  if (!kind.empty()) {  // a reserved opcode gives only its protocol error
    Event e = make_event(kind, from, t, packet);
    e.bytes = frame.payload_length;
    if (kind == kind::text) e.text = preview(frame.payload);
    if (kind == kind::close) {
      wire::ClosePayload close = wire::parse_close_payload(frame.payload);
      e.code = close.code;
      e.reason = std::move(close.reason);
      e.note = close_note_of(close.status);
    }
    if (!frame.fin && !wire::is_control(frame.opcode)) e.note = "more fragments follow";
    add(std::move(e));
  }
  for (std::string_view p : frame.problems)
    add_frame_problem(from, frame, std::string(p), t, packet);
  if (d.close_seen)
    add_frame_problem(from, frame, "frame after a Close frame", t, packet);  // RFC 6455 5.5.1
  if (kind == kind::close) d.close_seen = true;
}

void LegBuilder::add_frame_problem(Side from, const wire::Frame& frame, std::string note, Nanos t,
                                   std::uint64_t packet) {
  Event e = make_event(kind::protocol_error, from, t, packet);
  e.text = wire::opcode_name(frame.opcode);
  e.bytes = frame.payload_length;
  e.note = std::move(note);
  add(std::move(e));
}

void LegBuilder::report_cut_frame(Side from, std::string_view cause, Nanos t,
                                  std::uint64_t packet) {
  Direction& d = dir(from);
  if (!d.decoding || !d.frames.mid_frame()) return;
  const wire::Frame* frame = d.frames.pending_frame();
  if (frame == nullptr) {
    Event e = make_event(kind::protocol_error, from, t, packet);
    e.note = "frame header " + std::string(frame_note::cut_off_by) + std::string(cause);
    add(std::move(e));
    return;
  }
  add_frame_problem(from, *frame,
                    "frame " + std::string(frame_note::cut_off_by) + std::string(cause), t, packet);
  // Header problems of a frame that never completed would otherwise go unreported.
  for (std::string_view p : frame->problems)
    add_frame_problem(from, *frame, std::string(p), t, packet);
  d.decoding = false;
  d.ignoring = true;
}

Connection LegBuilder::finish(Nanos observed_until) {
  for (const Side side : {Side::client, Side::server}) {
    Direction& d = dir(side);
    const wire::Frame* frame = d.decoding ? d.frames.pending_frame() : nullptr;
    if (frame == nullptr) continue;
    for (std::string_view p : frame->problems) {
      add_frame_problem(side, *frame,
                        std::string(p) + " (frame incomplete at the end of the capture)", d.last_t,
                        d.last_packet);
    }
  }
  if (tls_) {
    for (const Side side : {Side::client, Side::server}) {
      tls_t_ = dir(side).last_t;
      tls_packet_ = dir(side).last_packet;
      tls_->finish(side == Side::client, *this);
    }
  }
  // Bytes delivered after a skipped gap carry their own (earlier) times: keep the timeline in
  // time order; events of one instant keep their stream order.
  auto by_time = [](const Event& a, const Event& b) { return a.t < b.t; };
  if (!std::is_sorted(connection_.events.begin(), connection_.events.end(), by_time)) {
    std::stable_sort(connection_.events.begin(), connection_.events.end(), by_time);
  }
  connection_.observed_until = observed_until;
  if (tls_) {
    TlsInfo& info = *connection_.tls;
    if (tls_->version() != 0) info.version = wire::tls_version_name(tls_->version());
    if (const wire::TlsCipherSuite* suite = wire::find_cipher_suite(tls_->suite_id()))
      info.cipher = suite->name;
    info.sni = tls_->sni();
    info.decrypted = tls_->decrypted();
  }
  if (h2_) h2_streams_ = h2_->finish(observed_until);  // after the TLS facts they copy
  return std::move(connection_);
}

}  // namespace closewire
