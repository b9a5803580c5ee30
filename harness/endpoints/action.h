// Something an endpoint does on its WebSocket connection: send a frame, start the closing
// handshake, end TCP in a close mode, stop reading, or wait. Scenarios say them (the server's
// on_open, timed steps), the standalone server too; perform() is the one place that does them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "harness/endpoints/close_mode.h"

namespace closewire::endpoints {

class Peer;

struct Action {
  enum class Kind : std::uint8_t {
    text,
    binary,
    ping,
    pong,
    close,
    close_socket,
    stop_reading,
    wait,
    raw,  // bytes as they are, not a frame (a broken server writing HTTP on the upgraded socket)
  };
  Kind kind = Kind::close;
  std::string payload;                    // text, binary, ping, pong, raw
  std::optional<std::uint16_t> code;      // close: absent = no payload (the peer sees 1005)
  std::string reason;                     // close
  CloseMode mode = CloseMode::fin;        // close_socket
  std::chrono::milliseconds duration{0};  // wait; close_socket: delay for delayed / close-unread
  std::optional<bool> close_notify;  // close_socket on a TLS stream; absent: the stream's setting
  bool again = false;  // close: send it even after a Close went out (a second Close frame)

  static Action text(std::string payload) { return frame(Kind::text, std::move(payload)); }
  static Action binary(std::string payload) { return frame(Kind::binary, std::move(payload)); }
  static Action ping(std::string payload = {}) { return frame(Kind::ping, std::move(payload)); }
  static Action pong(std::string payload = {}) { return frame(Kind::pong, std::move(payload)); }
  static Action frame(Kind kind, std::string payload);
  static Action close(std::optional<std::uint16_t> code = std::nullopt, std::string reason = {});
  static Action close_socket(CloseMode mode, std::chrono::milliseconds delay = kDefaultCloseDelay);
  static Action wait(std::chrono::milliseconds d);
};

// Performs `a` on `peer` now. `wait` does nothing here: a sequence of actions (the server's
// on_open) waits between them, a step has its own delay.
void perform(Peer& peer, const Action& a);

}  // namespace closewire::endpoints
