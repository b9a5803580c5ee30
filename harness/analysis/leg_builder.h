// One leg's timeline: a TcpTracker's facts and bytes turned into tcp.*, http.* and ws.* events.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/analysis/connection.h"
#include "harness/analysis/tcp_tracker.h"
#include "harness/wire/frame.h"
#include "harness/wire/frame_decoder.h"
#include "harness/wire/http_head.h"
#include "harness/wire/tls_session.h"

namespace closewire {

class H2Legs;

// Each direction's in-order bytes go first to an HTTP head parser (client: request, server:
// response), then, once a 101 answered a WebSocket upgrade, to a frame decoder (client frames
// masked). Every event carries the time and number of the packet whose bytes completed it.
// A leg whose client starts with a TLS handshake record goes through a TLS session first: its
// records' plaintext (decrypted with the key log's secrets) takes that same way.
// A leg whose client starts with the HTTP/2 preface goes to H2Legs instead of the HTTP head
// parser: each of its WebSocket streams is a LegBuilder of its own, fed through the hooks below.
class LegBuilder final : public TcpListener, private wire::TlsListener {
 public:
  // Client bytes after an upgrade request are held until the response decides what they are.
  static constexpr std::size_t kMaxHeldBytes = 1 << 20;
  // Server bytes held before the client's first bytes (an h2 server's SETTINGS is a few dozen).
  static constexpr std::size_t kMaxEarlyServerBytes = 16 << 10;
  // Events room made when a leg starts.
  static constexpr std::size_t kReservedEvents = 16;

  // `identity`: index, endpoints, syn_seen and start already filled in; no events. `keys`: the
  // key log for TLS legs (may be null; must outlive the builder).
  explicit LegBuilder(Connection identity, const wire::TlsKeyLog* keys = nullptr);
  ~LegBuilder() override;
  LegBuilder(const LegBuilder&) = delete;
  LegBuilder& operator=(const LegBuilder&) = delete;

  void on_tcp_event(Event&& event) override;
  void on_data(Side from, std::span<const std::uint8_t> bytes, Nanos t,
               std::uint64_t packet) override;

  const Connection& connection() const { return connection_; }
  // The finished leg, its events in time order; `observed_until` is when it stopped being watched.
  Connection finish(Nanos observed_until);
  // After finish(): an h2 connection's WebSocket stream legs, in request order (else none).
  std::vector<Connection> take_h2_streams() { return std::move(h2_streams_); }

  // An h2 stream's leg (H2Legs drives it; its request is already sent): events, the answer, and
  // the WebSocket bytes of its DATA frames (client bytes before the answer are held, as after an
  // HTTP/1.1 upgrade request).
  void add_event(Event&& event) { add(std::move(event)); }
  void accept_frames(std::string server);  // a 2xx answer: a WebSocket from here on
  void refuse_frames();                    // any other answer
  void feed_frames(Side from, std::span<const std::uint8_t> bytes, Nanos t, std::uint64_t packet) {
    feed_after_head(from, bytes, t, packet);
  }
  // `from`'s frames end here (END_STREAM, RST_STREAM): a frame it left unfinished is reported.
  void end_frames(Side from, std::string_view cause, Nanos t, std::uint64_t packet) {
    report_cut_frame(from, cause, t, packet);
  }

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
    bool tls_lost = false;   // a gap in this direction of a TLS leg: its records are not followed
    std::vector<Held> held;  // client only: bytes after the request head, before the response
    std::size_t held_bytes = 0;
    Nanos last_t = 0;  // the last bytes delivered
    std::uint64_t last_packet = 0;
  };

  Direction& dir(Side s) { return dirs_[static_cast<int>(s)]; }
  // Bytes as the application sent them (TCP payload, or a TLS leg's plaintext).
  void on_plain(Side from, std::span<const std::uint8_t> bytes, Nanos t, std::uint64_t packet);
  // The client's first bytes decide plain or TLS (three are needed); false while undecided.
  bool decide_stream(std::span<const std::uint8_t>& bytes);
  void feed_tls(Side from, std::span<const std::uint8_t> bytes, Nanos t, std::uint64_t packet);
  // "TLS record cut off by the FIN: 3 of 30 bytes" when `from` left a record unfinished.
  std::string cut_record_note(Side from, std::string_view cause) const;

  // wire::TlsListener: at the time and packet of the bytes being fed (tls_t_, tls_packet_).
  void on_plaintext(bool client, std::span<const std::uint8_t> bytes) override;
  void on_tls_handshake(std::string_view text) override;
  void on_tls_alert(bool client, std::uint8_t level, std::uint8_t description) override;
  void on_tls_undecryptable(bool client, std::string_view why) override;
  // The client's first plain bytes decide HTTP/1.1 or HTTP/2 (its preface); false while undecided
  // (the bytes are kept). Server bytes before that are kept too (an h2 server's SETTINGS may
  // come first).
  bool decide_http(Side from, std::span<const std::uint8_t> bytes, Nanos t, std::uint64_t packet);
  void start_decoding();  // the upgrade was accepted: both directions carry frames
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

  enum class Stream : std::uint8_t { undecided, plain, tls };
  enum class Http : std::uint8_t { undecided, h1, h2 };

  Connection connection_;
  std::array<Direction, 2> dirs_;
  const wire::TlsKeyLog* keys_ = nullptr;
  Stream stream_ = Stream::undecided;
  std::array<std::uint8_t, 3> first_{};  // the client's first bytes while undecided
  std::size_t first_have_ = 0;
  std::unique_ptr<wire::TlsSession> tls_;
  Nanos tls_t_ = 0;
  std::uint64_t tls_packet_ = 0;
  Http http_ = Http::undecided;
  std::string preface_seen_;            // the client's bytes while they match the h2 preface
  std::vector<Held> early_server_;      // server bytes while undecided
  std::unique_ptr<H2Legs> h2_;
  std::vector<Connection> h2_streams_;  // finish()'s stream legs
};

}  // namespace closewire
