// Synthetic captures for benchmarks and tests: many WebSocket connections over loopback, each
// closed the way one of the seed scenarios closes, written as a classic pcap file.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/analysis/event.h"

namespace closewire::gen {

// How connection `index` ends. Every pattern begins with the server's Close frame.
enum class ClosePattern : std::uint8_t {
  clean,             // server Close 4321 "test", client reply, server FIN, client FIN
  rst_after_reply,   // server Close 4321 "test", client reply, server RST
  rst_before_reply,  // server Close 4321 "test", server RST before any reply
  client_timeout,    // server Close 4321 "test", client reply, no server FIN: client FIN after 2 s
  no_status,         // server Close without payload (1005), empty reply, server FIN, client FIN
};
inline constexpr std::array<ClosePattern, 5> kAllPatterns = {
    ClosePattern::clean, ClosePattern::rst_after_reply, ClosePattern::rst_before_reply,
    ClosePattern::client_timeout, ClosePattern::no_status};

std::string_view to_string(ClosePattern p);  // "clean", "rst-after-reply", ...

// The pattern connection `index` (0-based, in SYN order) gets for `seed`: a hash, so it does not
// depend on how many connections are generated. About 45 % clean, 20 % RST after the reply, 15 %
// RST before it, 15 % 1005 and 5 % client timeout (the only connections lasting 2+ s).
ClosePattern pattern_for(std::uint64_t index, std::uint64_t seed);

// The code and reason of the server's Close frame for `p` (1005 and "" for no_status).
inline constexpr std::uint16_t kCloseCode = 4321;
inline constexpr std::string_view kCloseReason = "test";

struct GeneratorOptions {
  std::uint64_t connections = 1000;
  // Approximate: the handshakes and the close take about 12 packets, the rest is text frames
  // (client and server in turn, each acknowledged).
  unsigned packets_per_connection = 20;
  std::uint64_t seed = 1;
  Nanos spacing = kNanosPerMilli;    // between two connections' SYNs; at least 1 us
  std::uint16_t server_port = 8080;  // tshark decodes 8080 as HTTP, so it finds the WebSocket
  // Every connection over TLS 1.3 (TLS_AES_128_GCM_SHA256; tools/gen_capture/tls_layer.h): the
  // same connections, close patterns and WebSocket messages as without it, plus a handshake, and
  // a close_notify before the server's FIN in the clean pattern. The secrets go to a key log
  // at key_log_path_for(path) (harness/analysis/key_log_file.h), where replay looks for it.
  bool tls = false;
  // Over TLS with HTTP/2 (RFC 8441, tools/gen_capture/h2_layer.h): implies tls. The WebSocket is
  // an extended CONNECT on stream 1, its frames in DATA frames; the close patterns end the stream
  // as HAProxy does (a Close with END_STREAM and RST_STREAM(CANCEL) for rst-before-reply, the
  // client's Close with END_STREAM and the server's END_STREAM for clean), then TCP as without h2.
  bool h2 = false;
};

// Client ports cycle through Linux's ephemeral range, so a 4-tuple is reused every kClientPorts
// connections.
inline constexpr std::uint16_t kFirstClientPort = 32768;
inline constexpr std::uint32_t kClientPorts = 60999 - 32768 + 1;

// Connection `index`'s client: port kFirstClientPort + index % kClientPorts, address 127.0.0.1,
// or (only when `spacing` is so short that a reused 4-tuple could still be open) 127.0.0.K
// with K cycling with each pass through the port range.
struct ClientAddress {
  std::array<std::uint8_t, 4> ip{127, 0, 0, 1};
  std::uint16_t port = 0;
  std::string str() const;  // "127.0.0.1:32768"
};
ClientAddress client_for(std::uint64_t index, const GeneratorOptions& options);

struct GeneratorStats {
  std::uint64_t connections = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  // file size
  Nanos duration = 0;       // from the first packet to the last
};

// Writes the capture to `path` (classic pcap, microsecond timestamps, Ethernet), and with
// options.tls its key log (NSS format). Same options, same bytes. Throws std::invalid_argument
// for bad options, std::runtime_error when writing fails.
GeneratorStats generate_capture(const GeneratorOptions& options, const std::string& path);

}  // namespace closewire::gen
