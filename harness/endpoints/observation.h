// What an endpoint or proxy saw happen on its sockets, in order, with steady_clock timestamps.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace closewire::endpoints {

using Clock = std::chrono::steady_clock;

enum class ObservationKind : std::uint8_t {
  connected,               // TCP connection established (accepted or connected)
  upgraded,                // HTTP upgrade done: 101 sent, received or relayed
  frame_received,          // a WebSocket frame arrived (opcode; Close: code and reason)
  frame_sent,              // a frame's write completed: the bytes are in the kernel
  write_failed,            // a write failed (error = errno)
  peer_gone_before_reply,  // the peer's FIN or RST had arrived when the Close reply went out
  eof,                     // read() returned 0: the peer's FIN
  read_error,              // read() failed (error = errno; ECONNRESET after an RST)
  timeout,                 // this endpoint's own timer fired (note says which)
  close_started,           // this side began closing (note: the close mode)
  half_closed,             // shutdown(SHUT_WR) done: FIN behind the queued data, still reading
  delay_ended,  // a flush/delayed close stopped waiting (note: "peer fin", "peer rst", "timer")
  closed,       // the socket was closed (note: how, e.g. "rst", "plain close")
  fault,        // an injected proxy fault fired (note)
  http_head,    // proxies: an HTTP head passed through (note: its first line)
  tls_handshake,          // TLS handshake done (note: version and cipher)
  close_notify_received,  // the peer's TLS close_notify alert: no more data from it
  close_notify_sent,      // our close_notify is in the kernel (before the FIN or RST)
};

std::string_view to_string(ObservationKind kind);

struct Observation {
  Clock::time_point at;
  ObservationKind kind = ObservationKind::connected;
  std::string side;                   // proxies: "downstream" / "upstream"; endpoints: empty
  std::size_t connection = 0;         // servers and proxies: 0-based accept order
  std::uint8_t opcode = 0;            // frame_*: raw opcode
  std::optional<std::uint16_t> code;  // Close frames: status (1005 for an empty payload)
  std::string reason;                 // Close frames: reason
  int error = 0;                      // errno for write_failed / read_error
  std::string note;
};

// An observation made now. Frame fields and the connection index are the caller's to add.
Observation observed(ObservationKind kind, std::string_view side = {}, std::string note = {},
                     int error = 0);

// One line, e.g. "+12.345ms downstream frame_received close 4321 'test'", relative to `origin`.
std::string describe(const Observation& o, Clock::time_point origin);

// Append-only log that tells its subscribers about every entry as it is added, so a scenario can
// trigger a step "after the client receives ws.close".
class ObservationLog {
 public:
  using Subscriber = std::function<void(const Observation&)>;

  void add(Observation o);
  void subscribe(Subscriber s) { subscribers_.push_back(std::move(s)); }
  const std::vector<Observation>& entries() const { return entries_; }

  // First entry of `kind` (and `side`, when not empty), or null.
  const Observation* first(ObservationKind kind, std::string_view side = {}) const;
  std::size_t count(ObservationKind kind, std::string_view side = {}) const;
  std::string dump(Clock::time_point origin) const;

 private:
  std::vector<Observation> entries_;
  std::vector<Subscriber> subscribers_;
};

}  // namespace closewire::endpoints
