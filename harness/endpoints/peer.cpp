#include "harness/endpoints/peer.h"

#include <array>
#include <random>
#include <vector>

#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"

namespace closewire::endpoints {

std::shared_ptr<Peer> Peer::create(tcp::socket socket, Role role, std::size_t connection) {
  return create(TcpStream::create(std::move(socket), {}), role, connection);
}

std::shared_ptr<Peer> Peer::create(std::shared_ptr<ByteStream> stream, Role role,
                                   std::size_t connection) {
  std::shared_ptr<Peer> peer(new Peer(role, connection));
  Peer* raw = peer.get();  // the stream never outlives its callbacks: ~Peer detaches them
  peer->stream_ = std::move(stream);
  peer->stream_->set_sink([raw](Observation o) { raw->add(std::move(o)); });
  TcpStream::Callbacks cb;
  cb.on_data = [raw](std::span<const std::uint8_t> bytes) { raw->on_data(bytes); };
  peer->stream_->set_callbacks(std::move(cb));
  return peer;
}

Peer::Peer(Role role, std::size_t connection)
    : role_(role), connection_(connection), decoder_(/*expect_masked=*/role == Role::server) {}

Peer::~Peer() {
  if (!stream_) return;
  stream_->detach();
  stream_->close_plain("peer destroyed");
}

void Peer::add(Observation o) {
  o.connection = connection_;
  log_.add(std::move(o));
}

void Peer::start(std::string_view leftover) {
  if (!leftover.empty())
    on_data({reinterpret_cast<const std::uint8_t*>(leftover.data()), leftover.size()});
  stream_->start_reading();
}

void Peer::note_timeout(std::string what) {
  add(observed(ObservationKind::timeout, {}, std::move(what)));
}

void Peer::on_data(std::span<const std::uint8_t> bytes) {
  if (frame_sync_lost_) return;
  std::vector<wire::Frame> frames;
  decoder_.feed(bytes, frames);
  auto keep = shared_from_this();
  for (const auto& f : frames) on_frame(f);
  // A header that breaks RFC 6455 fails the connection when it is read, as Chromium's frame
  // parser does, not once a payload that may never come is complete: the frame is reported as
  // it stands and nothing after it is decoded.
  if (const wire::Frame* pending = decoder_.pending_frame();
      pending && !pending->problems.empty()) {
    frame_sync_lost_ = true;
    on_frame(*pending);
  }
}

void Peer::on_frame(const wire::Frame& frame) {
  Observation o = observed(ObservationKind::frame_received);
  o.opcode = frame.opcode;
  for (std::string_view p : frame.problems) o.note.append(o.note.empty() ? "" : "; ").append(p);
  if (frame.opcode == static_cast<std::uint8_t>(wire::Opcode::close)) {
    auto payload = wire::parse_close_payload(frame.payload);
    o.code = payload.code;
    o.reason = payload.reason;
    if (payload.status != wire::ClosePayload::Status::ok)
      o.note += (o.note.empty() ? "" : "; ") + std::string(wire::to_string(payload.status));
    if (!close_received_) close_received_ = ReceivedClose{payload.code, payload.reason};
  }
  bool answer_ping =
      frame.opcode == static_cast<std::uint8_t>(wire::Opcode::ping) && !close_queued_;
  add(std::move(o));
  if (answer_ping) send_pong(frame.payload);
}

void Peer::send_close(std::optional<std::uint16_t> code, std::string reason, bool again) {
  if (close_queued_ && !again) return;
  close_queued_ = true;
  if (close_received_) {
    // Firefox judges "clean" by whether the peer's FIN/RST came before its reply went out.
    if (auto gone = stream_->peer_gone(); !gone.empty()) {
      add(observed(ObservationKind::peer_gone_before_reply, {}, gone));
    }
  }
  send_frame(wire::Opcode::close, wire::encode_close_payload(code, reason), code, reason);
  // h2 (Chromium): END_STREAM on the DATA frame that carries the Close.
  if (close_ends_stream_) stream_->close(CloseMode::half_close);
}

void Peer::send_frame(wire::Opcode opcode, std::string payload, std::optional<std::uint16_t> code,
                      std::string reason) {
  std::optional<std::array<std::uint8_t, 4>> mask;
  if (role_ == Role::client) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uint32_t r = rng();
    mask = std::array<std::uint8_t, 4>{
        static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(r >> 8),
        static_cast<std::uint8_t>(r >> 16), static_cast<std::uint8_t>(r >> 24)};
  }
  std::string bytes = wire::encode_frame(opcode, payload, true, mask);
  std::weak_ptr<Peer> weak = weak_from_this();
  stream_->write(std::move(bytes), [weak, opcode, code, reason](const error_code& ec) {
    auto self = weak.lock();
    if (!self || ec) return;  // the stream logged write_failed
    if (opcode == wire::Opcode::close) self->close_sent_ = true;
    Observation o = observed(ObservationKind::frame_sent);
    o.opcode = static_cast<std::uint8_t>(opcode);
    if (opcode == wire::Opcode::close) {
      o.code = code ? code : std::optional<std::uint16_t>(wire::kNoStatus);
      o.reason = reason;
    }
    self->add(std::move(o));
  });
}

}  // namespace closewire::endpoints
