// The analyzer: any capture (live or stored) -> legs with their timelines.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "harness/analysis/connection.h"
#include "harness/wire/tls_key_log.h"

namespace closewire {

// Bad input: not a capture, truncated, unsupported link type, cut packets. The message is one
// line naming the file and, where there is one, the packet number.
class CaptureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AnalyzerOptions {
  // A closed connection (both FINs, or a RST) is kept this long in capture time before it is
  // handed out, so a late RST, retransmission or last ACK still lands on it; a new SYN on the same
  // 4-tuple hands it out at once. Bounds memory by the connections open at one time.
  Nanos linger = 5 * kNanosPerSecond;
  // Secrets for TLS legs (NSS key log lines: harness/analysis/key_log_file.h reads files). A
  // pcapng's Decryption Secrets Blocks are added to these for that capture.
  wire::TlsKeyLog key_log;
};

struct CaptureSummary {
  std::string file;
  std::uint64_t packets = 0;           // records read
  std::uint64_t tcp_packets = 0;       // of which TCP over IPv4/IPv6
  std::uint64_t connections = 0;       // legs handed out
  std::uint64_t websockets = 0;        // of which WebSocket
  int link_type = 0;                   // DLT_*
  bool nanosecond_timestamps = false;  // the file's unit is 1 ns or finer (ns pcap, pcapng)
};

using ConnectionSink = std::function<void(Connection&&)>;

// Reads `path` (pcap or pcapng) packet by packet and hands each leg to `sink` once it is done, in
// the order the legs started (SYN order). Throws CaptureError on bad input.
CaptureSummary analyze_capture(const std::string& path, const ConnectionSink& sink,
                               const AnalyzerOptions& options = {});

}  // namespace closewire
