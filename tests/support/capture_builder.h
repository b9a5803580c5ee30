// Crafted captures for tests: TCP conversations with explicit sequence numbers, on any link type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/analysis/connection.h"
#include "harness/analysis/event.h"
#include "harness/analysis/packet_source.h"

namespace closewire::test {

enum class Link { ethernet, sll, sll2, raw, null_loopback, loop };

namespace flags = closewire::tcp_flag;

inline constexpr Nanos ms(double v) {
  return static_cast<Nanos>(v * kNanosPerMilli);
}
// Capture times start here so they look like real epoch times.
inline constexpr Nanos kEpoch = 1'790'000'000LL * kNanosPerSecond;

struct TcpPacket {
  Nanos t = 0;
  Endpoint src;
  Endpoint dst;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t flags = 0;
  std::uint16_t window = 65535;
  std::optional<std::uint8_t> wscale;  // window-scale option (put on SYNs)
  std::string payload;
};

// How write_pcapng describes its one interface.
struct PcapngOptions {
  std::uint8_t tsresol = 9;              // if_tsresol: 10^-n s, or 2^-n s with the top bit set
  std::optional<std::int64_t> tsoffset;  // if_tsoffset, seconds
  bool big_endian = false;
};

// Packets in the order added, written as pcap (libpcap's dumper, ns timestamps) or pcapng.
class CaptureBuilder {
 public:
  explicit CaptureBuilder(Link link = Link::ethernet) : link_(link) {}

  // Link::null_loopback: the address family written for IPv6 (Linux 10; NetBSD/OpenBSD 24,
  // FreeBSD 28, macOS 30), and whether the header is in the other byte order than the file's
  // (a capture written on a big-endian host).
  void null_header(std::uint32_t v6_family, bool byte_swapped) {
    null_v6_family_ = v6_family;
    null_swapped_ = byte_swapped;
  }

  void add(const TcpPacket& packet);
  // A packet that is not TCP (UDP), to check it is counted and skipped.
  void add_udp(Nanos t, const Endpoint& src, const Endpoint& dst, std::string_view payload);
  // A raw link-layer frame, any bytes (none: a record with no data).
  void add_frame(Nanos t, std::string frame);
  // Keep only the first `caplen` bytes of the last packet added (a snaplen cut).
  void cut_last(std::uint32_t caplen);
  // pcapng only: the last packet's raw 64-bit timestamp, in the interface's units, instead of its
  // time converted to them.
  void stamp_last(std::uint64_t ticks);

  std::size_t size() const { return records_.size(); }
  void write(const std::string& path) const;  // pcap, ns magic
  void write_pcapng(const std::string& path, const PcapngOptions& options = {}) const;
  static int dlt_of(Link link);

 private:
  struct Record {
    Nanos t = 0;
    std::string frame;  // link header included
    std::uint32_t caplen = 0;
    std::optional<std::uint64_t> ticks;  // pcapng: raw timestamp
  };
  std::string frame(std::string ip_packet, bool v6) const;

  Link link_;
  std::uint32_t null_v6_family_ = 10;
  bool null_swapped_ = false;
  std::vector<Record> records_;
};

// One TCP conversation with explicit sequence numbers. Offsets are relative to the side's ISN:
// the SYN is at 0, the first data byte at 1. Each call adds one packet at time `t`.
class Conversation {
 public:
  Conversation(CaptureBuilder& capture, Endpoint client, Endpoint server,
               std::uint32_t client_isn = 1000, std::uint32_t server_isn = 5000);

  // SYN, SYN-ACK, ACK at t, t+10us, t+20us (window scale on both SYNs when given).
  void handshake(Nanos t, std::optional<std::uint8_t> wscale = std::nullopt);
  // Data at the side's next offset, acknowledging everything the peer sent; advances next.
  void send(Side from, Nanos t, std::string_view data, std::uint16_t extra_flags = 0);
  void fin(Side from, Nanos t);  // FIN (+ACK) at next; advances past it
  void ack(Side from, Nanos t);
  void rst(Side from, Nanos t);  // RST+ACK at next
  // Anything at an explicit offset; does not move next.
  void segment(Side from, Nanos t, std::int64_t offset, std::string_view data, std::uint16_t flags,
               std::optional<std::uint32_t> ack = std::nullopt);
  void window(Side side, std::uint16_t raw) { window_[index(side)] = raw; }

  std::int64_t next(Side side) const { return next_[index(side)]; }
  void set_next(Side side, std::int64_t offset) { next_[index(side)] = offset; }
  std::uint32_t seq_of(Side side, std::int64_t offset) const {
    return isn_[index(side)] + static_cast<std::uint32_t>(offset);
  }

 private:
  static int index(Side s) { return s == Side::client ? 0 : 1; }
  void emit(Side from, Nanos t, std::uint32_t seq, std::uint32_t ack, std::uint16_t flags,
            std::string_view data, std::optional<std::uint8_t> wscale = std::nullopt);

  CaptureBuilder& capture_;
  Endpoint ends_[2];
  std::uint32_t isn_[2];
  std::int64_t next_[2] = {1, 1};
  std::uint16_t window_[2] = {65535, 65535};
};

// A masked client frame / an unmasked server frame, as bytes.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
std::string server_frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
std::string close_payload(std::uint16_t code, std::string_view reason);
// "GET /chat HTTP/1.1" upgrade request and its 101 answer.
std::string upgrade_request(std::string_view target = "/chat");
std::string upgrade_response(unsigned status = 101);

// A fresh path under the test temp dir.
std::string temp_path(std::string_view name);

}  // namespace closewire::test
