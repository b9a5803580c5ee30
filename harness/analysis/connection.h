// A leg: one TCP connection, with its timeline of events in capture order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/analysis/event.h"

namespace closewire {

struct Endpoint {
  std::string ip;  // textual address, IPv6 without brackets
  std::uint16_t port = 0;
  bool is_v6() const { return ip.find(':') != std::string::npos; }
  // "127.0.0.1:9800" or "[::1]:9800"
  std::string str() const { return is_v6() ? "[" + ip + "]:" + std::to_string(port) : ip + ":" + std::to_string(port); }
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// What a leg's HTTP upgrade said that links it to the other legs of its chain and names the proxy
// that answered it (docs/diagnosis.md §1, §4).
struct Handshake {
  std::string key;     // the request's Sec-WebSocket-Key
  std::string accept;  // the 101's Sec-WebSocket-Accept
  std::string target;  // the request target ("/chat")
  std::string server;  // the 101's Server field ("envoy", "istio-envoy", "nginx/1.22.1")
  bool envoy_fields = false;  // the 101 carries x-envoy-* fields
};

// A TLS leg: what its hellos said and whether a key log opened its records.
struct TlsInfo {
  std::string version;  // "TLS 1.3"; empty when no ServerHello was read
  std::string cipher;   // "TLS_AES_128_GCM_SHA256"
  std::string sni;      // the ClientHello's server name
  // No direction's records were left unread for want of (working) secrets.
  bool decrypted = false;
};

struct Connection {
  std::uint64_t index = 0;  // 0-based, in the order the connections started (their SYN)
  Endpoint client;          // the side that sent the SYN
  Endpoint server;
  bool syn_seen = true;     // false: the capture began mid-connection; sides guessed from ports
  bool websocket = false;   // a 101 Switching Protocols answered an Upgrade: websocket request
  Nanos start = 0;          // time of the SYN (or first packet)
  // Capture time up to which this leg was watched (its hand-out or the capture's end): a verdict
  // that waits for a timeout knows whether the capture covers it. 0 = unknown (use the last event).
  Nanos observed_until = 0;
  Handshake handshake;  // empty fields where the capture holds no upgrade
  std::optional<TlsInfo> tls;  // a TLS leg (its client began with a TLS handshake record)
  std::vector<Event> events;
};

// A TLS leg whose records could not be read: it may be a WebSocket that nothing can judge.
inline bool undecryptable_tls(const Connection& leg) {
  return leg.tls && !leg.tls->decrypted;
}

}  // namespace closewire
