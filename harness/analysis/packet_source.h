// Reads a pcap/pcapng file and yields its TCP segments, parsed with libtins.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "harness/analysis/event.h"
#include "harness/analysis/pcapng_clock.h"

struct pcap;
struct pcap_pkthdr;

namespace closewire {

// An IPv4 or IPv6 address as raw bytes (IPv4 in the first 4): cheap to compare and hash per packet.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;

  std::string str() const;  // "127.0.0.1", "::1"
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

namespace tcp_flag {
inline constexpr std::uint16_t fin = 0x01;
inline constexpr std::uint16_t syn = 0x02;
inline constexpr std::uint16_t rst = 0x04;
inline constexpr std::uint16_t psh = 0x08;
inline constexpr std::uint16_t ack = 0x10;
}  // namespace tcp_flag

struct TcpSegment {
  Nanos t = 0;
  std::uint64_t packet = 0;  // 1-based record number in the capture
  IpAddress src;
  IpAddress dst;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint16_t flags = 0;                // tcp_flag bits
  std::uint16_t window = 0;               // raw field, not scaled
  int wscale = -1;                        // window-scale option (SYN segments), -1 when absent
  std::span<const std::uint8_t> payload;  // TCP payload

  bool has(std::uint16_t flag) const { return (flags & flag) != 0; }
};

// One capture file, read record by record. Link types: Ethernet, Linux cooked (SLL, SLL2), raw
// IPv4/IPv6, BSD loopback (NULL, LOOP). Throws CaptureError for bad input.
class PacketSource {
 public:
  explicit PacketSource(const std::string& path);
  ~PacketSource();
  PacketSource(const PacketSource&) = delete;
  PacketSource& operator=(const PacketSource&) = delete;

  // Next TCP segment, skipping (and counting) other packets; false at the end of the capture.
  // `segment.payload` points into libpcap's buffer: valid until the next call.
  bool next(TcpSegment& segment);

  const std::string& path() const { return path_; }
  int link_type() const { return link_type_; }
  // The file's unit of time is 1 ns or finer.
  bool nanosecond_timestamps() const { return nanosecond_timestamps_; }
  std::uint64_t packets() const { return packets_; }
  std::uint64_t tcp_packets() const { return tcp_packets_; }
  Nanos last_time() const { return last_time_; }  // of the last record read, TCP or not
  // Key log text from the pcapng's Decryption Secrets Blocks read so far (PcapngClock).
  bool has_tls_secrets() const { return clock_.has_tls_secrets(); }
  std::vector<std::string> take_tls_secrets() { return clock_.take_tls_secrets(); }

 private:
  bool parse(std::span<const std::uint8_t> frame, bool cut, TcpSegment& segment) const;
  bool parse_ip(std::uint16_t ethertype, std::span<const std::uint8_t> bytes, bool cut,
                TcpSegment& segment) const;
  // The record's time in ns since 1970, exactly (a pcapng's from its own block); fails outside
  // 2^62 ns either side of 1970, so that any two times' difference fits in 64 bits.
  Nanos time_of(const pcap_pkthdr& header);
  [[noreturn]] void fail(const std::string& what) const;
  std::string packet_label() const;  // "packet 12": the record just read

  std::string path_;
  pcap* pcap_ = nullptr;
  int link_type_ = 0;
  bool nanosecond_timestamps_ = false;
  std::uint64_t packets_ = 0;
  std::uint64_t tcp_packets_ = 0;
  Nanos last_time_ = 0;
  PcapngClock clock_;  // fed every byte libpcap reads
};

}  // namespace closewire
