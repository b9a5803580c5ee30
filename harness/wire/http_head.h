// HTTP/1.1 upgrade handshake located in a captured byte stream, parsed with Boost.Beast.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace closewire::wire {

// The fields of an upgrade's head that link the legs of a chain and name a proxy.
struct HandshakeFields {
  std::string target;  // request: the target
  std::string key;     // request: Sec-WebSocket-Key
  std::string accept;  // response: Sec-WebSocket-Accept
  std::string server;  // response: Server
  bool envoy_fields = false;  // response: an x-envoy-* field
};

// Incrementally parses one HTTP/1.1 message head (request or response) from a byte stream.
// WebSocket frames start at the first byte after the head.
class HttpHeadParser {
 public:
  enum class Kind { request, response };
  enum class State { need_more, done, error };

  explicit HttpHeadParser(Kind kind);
  ~HttpHeadParser();
  HttpHeadParser(HttpHeadParser&&) noexcept;
  HttpHeadParser& operator=(HttpHeadParser&&) noexcept;

  // Consumes bytes up to the end of the head; returns how many of `bytes` belong to the head.
  // After `done`, the rest of `bytes` (and all later bytes) follow the head.
  std::size_t feed(std::span<const std::uint8_t> bytes);
  State state() const { return state_; }
  const std::string& error() const { return error_; }

  // Valid once done.
  bool is_websocket_upgrade_request() const;  // GET with Upgrade: websocket, Connection: upgrade
  unsigned status() const;                    // response status (101 for an accepted upgrade)
  // "GET /chat HTTP/1.1" or "HTTP/1.1 101 Switching Protocols" (empty until done).
  const std::string& first_line() const;
  const HandshakeFields& fields() const { return fields_; }

 private:
  struct Impl;
  void finish_head();

  // The parser and the head bytes it has not consumed: only while the head is incomplete (made
  // at the first feed, freed once the head is done or in error, so a long-lived parser holds
  // just the results below).
  std::unique_ptr<Impl> impl_;
  Kind kind_;
  State state_ = State::need_more;
  std::string error_;
  std::string first_line_;
  unsigned status_ = 0;
  bool websocket_upgrade_ = false;  // a GET with Upgrade: websocket and Connection: upgrade
  HandshakeFields fields_;
};

}  // namespace closewire::wire
