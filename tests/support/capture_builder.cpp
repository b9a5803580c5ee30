#include "tests/support/capture_builder.h"

#include <pcap/pcap.h>
#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/loopback.h>
#include <tins/rawpdu.h>
#include <tins/sll.h>
#include <tins/tcp.h>
#include <tins/udp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"
#include "tests/support/pcapng_writer.h"

namespace closewire::test {
namespace {

std::string to_string(const Tins::PDU::serialization_type& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

// The IP packet (with the given transport PDU inside) as bytes; libtins fills lengths and
// checksums.
std::string ip_packet(const Endpoint& src, const Endpoint& dst, Tins::PDU& transport) {
  if (src.is_v6()) {
    Tins::IPv6 ip(Tins::IPv6Address(dst.ip), Tins::IPv6Address(src.ip));
    ip /= transport;
    return to_string(ip.serialize());
  }
  Tins::IP ip(Tins::IPv4Address(dst.ip), Tins::IPv4Address(src.ip));
  ip.ttl(64);
  ip /= transport;
  return to_string(ip.serialize());
}

void put_u16be(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_u32be(std::string& out, std::uint32_t v) {
  put_u16be(out, static_cast<std::uint16_t>(v >> 16));
  put_u16be(out, static_cast<std::uint16_t>(v));
}
void put_u32le(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// `t` ns in units of the interface's if_tsresol, rounded down.
std::uint64_t ticks_of(Nanos t, std::uint8_t tsresol) {
  __extension__ typedef unsigned __int128 Uint128;
  const unsigned n = tsresol & 0x7F;
  Uint128 unit = 1;  // units per second
  for (unsigned i = 0; i < n; ++i) unit *= (tsresol & 0x80) ? 2 : 10;
  return static_cast<std::uint64_t>(Uint128(static_cast<std::uint64_t>(t)) * unit /
                                    kNanosPerSecond);
}

}  // namespace

int CaptureBuilder::dlt_of(Link link) {
  switch (link) {
    case Link::ethernet:
      return DLT_EN10MB;
    case Link::sll:
      return DLT_LINUX_SLL;
    case Link::sll2:
      return DLT_LINUX_SLL2;
    case Link::raw:
      return DLT_RAW;
    case Link::null_loopback:
      return DLT_NULL;
    case Link::loop:
      return DLT_LOOP;
  }
  return DLT_EN10MB;
}

std::string CaptureBuilder::frame(std::string ip, bool v6) const {
  const std::uint16_t ethertype = v6 ? 0x86DD : 0x0800;
  switch (link_) {
    case Link::ethernet: {
      Tins::EthernetII eth("00:00:00:00:00:02", "00:00:00:00:00:01");
      eth.payload_type(ethertype);
      eth /= Tins::RawPDU(ip);
      return to_string(eth.serialize());
    }
    case Link::sll: {
      Tins::SLL sll;
      sll.packet_type(0);
      sll.lladdr_type(772);  // ARPHRD_LOOPBACK
      sll.protocol(ethertype);
      sll /= Tins::RawPDU(ip);
      std::string out = to_string(sll.serialize());
      // libtins rewrites the protocol from the inner PDU's type, unknown for a RawPDU.
      out[14] = static_cast<char>(ethertype >> 8);
      out[15] = static_cast<char>(ethertype);
      return out;
    }
    case Link::sll2: {
      // libtins has no SLL2: protocol, reserved, ifindex, ARPHRD type, packet type, addr len, addr.
      std::string out;
      put_u16be(out, ethertype);
      put_u16be(out, 0);
      put_u32be(out, 1);
      put_u16be(out, 772);
      out.push_back(0);
      out.push_back(6);
      out.append(8, '\0');
      return out + ip;
    }
    case Link::raw:
      return ip;
    case Link::null_loopback: {
      // The family in the writer's byte order (little-endian here, or swapped).
      std::string out;
      const std::uint32_t family = v6 ? null_v6_family_ : 2;
      if (null_swapped_) {
        put_u32be(out, family);
      } else {
        put_u32le(out, family);
      }
      return out + ip;
    }
    case Link::loop: {
      std::string out;
      put_u32be(out, v6 ? 24 : 2);  // network order; 24 = AF_INET6 on OpenBSD
      return out + ip;
    }
  }
  return ip;
}

void CaptureBuilder::add(const TcpPacket& p) {
  Tins::TCP tcp(p.dst.port, p.src.port);
  tcp.seq(p.seq);
  tcp.ack_seq(p.ack);
  tcp.flags(p.flags);
  tcp.window(p.window);
  if (p.wscale) tcp.winscale(*p.wscale);
  if (!p.payload.empty()) tcp /= Tins::RawPDU(p.payload);
  std::string bytes = frame(ip_packet(p.src, p.dst, tcp), p.src.is_v6());
  const auto size = static_cast<std::uint32_t>(bytes.size());
  records_.push_back(Record{p.t, std::move(bytes), size, std::nullopt});
}

void CaptureBuilder::add_udp(Nanos t, const Endpoint& src, const Endpoint& dst,
                             std::string_view payload) {
  Tins::UDP udp(dst.port, src.port);
  udp /= Tins::RawPDU(std::string(payload));
  std::string bytes = frame(ip_packet(src, dst, udp), src.is_v6());
  const auto size = static_cast<std::uint32_t>(bytes.size());
  records_.push_back(Record{t, std::move(bytes), size, std::nullopt});
}

void CaptureBuilder::add_frame(Nanos t, std::string frame) {
  const auto size = static_cast<std::uint32_t>(frame.size());
  records_.push_back(Record{t, std::move(frame), size, std::nullopt});
}

void CaptureBuilder::cut_last(std::uint32_t caplen) {
  records_.back().caplen = caplen;
}

void CaptureBuilder::stamp_last(std::uint64_t ticks) {
  records_.back().ticks = ticks;
}

void CaptureBuilder::write(const std::string& path) const {
  // libpcap's dumper rather than Tins::PacketWriter: it writes ns timestamps, any link type
  // (SLL2, LOOP) and records whose captured length is shorter than their wire length.
  pcap_t* dead =
      pcap_open_dead_with_tstamp_precision(dlt_of(link_), 262144, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  if (dumper == nullptr) throw std::runtime_error(pcap_geterr(dead));
  for (const Record& r : records_) {
    pcap_pkthdr header{};
    header.ts.tv_sec = static_cast<time_t>(r.t / kNanosPerSecond);
    header.ts.tv_usec = static_cast<suseconds_t>(r.t % kNanosPerSecond);
    header.caplen = r.caplen;
    header.len = static_cast<bpf_u_int32>(r.frame.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper), &header,
              reinterpret_cast<const u_char*>(r.frame.data()));
  }
  pcap_dump_close(dumper);
  pcap_close(dead);
}

void CaptureBuilder::write_pcapng(const std::string& path, const PcapngOptions& options) const {
  // One section, one interface, an EPB per record.
  PcapngWriter out(options.big_endian);
  out.section();
  out.interface({dlt_of(link_), options.tsresol, options.tsoffset});
  for (const Record& r : records_) {
    out.packet(0, r.ticks.value_or(ticks_of(r.t, options.tsresol)),
               std::string_view(r.frame).substr(0, r.caplen),
               static_cast<std::uint32_t>(r.frame.size()));
  }
  out.write(path);
}

Conversation::Conversation(CaptureBuilder& capture, Endpoint client, Endpoint server,
                           std::uint32_t client_isn, std::uint32_t server_isn)
    : capture_(capture),
      ends_{std::move(client), std::move(server)},
      isn_{client_isn, server_isn} {}

void Conversation::emit(Side from, Nanos t, std::uint32_t seq, std::uint32_t ack,
                        std::uint16_t flags, std::string_view data,
                        std::optional<std::uint8_t> wscale) {
  TcpPacket p;
  p.t = t;
  p.src = ends_[index(from)];
  p.dst = ends_[index(peer_of(from))];
  p.seq = seq;
  p.ack = ack;
  p.flags = flags;
  p.window = window_[index(from)];
  p.wscale = wscale;
  p.payload = std::string(data);
  capture_.add(p);
}

void Conversation::handshake(Nanos t, std::optional<std::uint8_t> wscale) {
  emit(Side::client, t, seq_of(Side::client, 0), 0, flags::syn, {}, wscale);
  emit(Side::server, t + 10'000, seq_of(Side::server, 0), seq_of(Side::client, 1),
       flags::syn | flags::ack, {}, wscale);
  emit(Side::client, t + 20'000, seq_of(Side::client, 1), seq_of(Side::server, 1), flags::ack, {});
  next_[0] = next_[1] = 1;
}

void Conversation::send(Side from, Nanos t, std::string_view data, std::uint16_t extra_flags) {
  emit(from, t, seq_of(from, next(from)), seq_of(peer_of(from), next(peer_of(from))),
       flags::ack | flags::psh | extra_flags, data);
  next_[index(from)] +=
      static_cast<std::int64_t>(data.size()) + ((extra_flags & flags::fin) ? 1 : 0);
}

void Conversation::fin(Side from, Nanos t) {
  emit(from, t, seq_of(from, next(from)), seq_of(peer_of(from), next(peer_of(from))),
       flags::fin | flags::ack, {});
  next_[index(from)] += 1;
}

void Conversation::ack(Side from, Nanos t) {
  emit(from, t, seq_of(from, next(from)), seq_of(peer_of(from), next(peer_of(from))), flags::ack,
       {});
}

void Conversation::rst(Side from, Nanos t) {
  emit(from, t, seq_of(from, next(from)), seq_of(peer_of(from), next(peer_of(from))),
       flags::rst | flags::ack, {});
}

void Conversation::segment(Side from, Nanos t, std::int64_t offset, std::string_view data,
                           std::uint16_t flags, std::optional<std::uint32_t> ack) {
  emit(from, t, seq_of(from, offset), ack.value_or(seq_of(peer_of(from), next(peer_of(from)))),
       flags, data);
}

std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin) {
  return wire::encode_frame(static_cast<wire::Opcode>(opcode), payload, fin,
                            std::array<std::uint8_t, 4>{0x11, 0x22, 0x33, 0x44});
}

std::string server_frame(std::uint8_t opcode, std::string_view payload, bool fin) {
  return wire::encode_frame(static_cast<wire::Opcode>(opcode), payload, fin);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  return wire::encode_close_payload(code, reason);
}

std::string upgrade_request(std::string_view target) {
  return "GET " + std::string(target) +
         " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

std::string upgrade_response(unsigned status) {
  if (status == 101) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  }
  return "HTTP/1.1 " + std::to_string(status) + " Forbidden\r\nContent-Length: 0\r\n\r\n";
}

std::string temp_path(std::string_view name) {
  // One directory per test process, removed when the process exits.
  struct Dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("closewire-test-" + std::to_string(::getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return (dir.path / std::string(name)).string();
}

}  // namespace closewire::test
