// One scripted step of a server connection (on open, or triggered later by a scenario).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "harness/endpoints/close_mode.h"

namespace closewire::endpoints {

struct ServerStep {
  enum class Kind : std::uint8_t { text, binary, ping, pong, close, close_tcp, wait };
  Kind kind = Kind::close;
  std::string payload;                    // text, binary, ping, pong
  std::optional<std::uint16_t> code;      // close: absent = empty payload (the client sees 1005)
  std::string reason;                     // close
  CloseMode mode = CloseMode::fin;        // close_tcp
  std::chrono::milliseconds duration{0};  // wait; close_tcp: delay for delayed / close-unread

  static ServerStep text(std::string s) { return frame(Kind::text, std::move(s)); }
  static ServerStep binary(std::string s) { return frame(Kind::binary, std::move(s)); }
  static ServerStep ping(std::string s = {}) { return frame(Kind::ping, std::move(s)); }
  static ServerStep pong(std::string s = {}) { return frame(Kind::pong, std::move(s)); }
  static ServerStep close(std::optional<std::uint16_t> code = std::nullopt,
                          std::string reason = {}) {
    ServerStep s;
    s.code = code;
    s.reason = std::move(reason);
    return s;
  }
  static ServerStep close_tcp(CloseMode mode,
                              std::chrono::milliseconds delay = kDefaultCloseDelay) {
    ServerStep s;
    s.kind = Kind::close_tcp;
    s.mode = mode;
    s.duration = delay;
    return s;
  }
  static ServerStep frame(Kind kind, std::string payload) {
    ServerStep s;
    s.kind = kind;
    s.payload = std::move(payload);
    return s;
  }
  static ServerStep wait(std::chrono::milliseconds d) {
    ServerStep s;
    s.kind = Kind::wait;
    s.duration = d;
    return s;
  }
};

}  // namespace closewire::endpoints
