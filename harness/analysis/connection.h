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
  // HTTP/2 (RFC 8441): the TCP connection that spoke h2 (h2_connection: its TCP, TLS and
  // connection-wide h2 events), or one extended-CONNECT stream on it (h2_stream, the stream id):
  // that stream is the WebSocket leg, with the connection's index and addresses.
  bool h2_connection = false;
  std::uint32_t h2_stream = 0;
  std::vector<Event> events;
};

inline bool is_h2(const Connection& leg) {
  return leg.h2_connection || leg.h2_stream != 0;
}

// "leg 3", or "leg 3 stream 5" for an h2 stream leg: its number in the capture (SYN order).
inline std::string leg_label(const Connection& leg) {
  std::string label = "leg " + std::to_string(leg.index + 1);
  if (leg.h2_stream != 0) label += " stream " + std::to_string(leg.h2_stream);
  return label;
}

// A TLS leg whose records could not be read: it may be a WebSocket that nothing can judge.
inline bool undecryptable_tls(const Connection& leg) {
  return leg.tls && !leg.tls->decrypted;
}

}  // namespace closewire
