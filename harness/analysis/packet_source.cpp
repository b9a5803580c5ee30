#include "harness/analysis/packet_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <tins/dot1q.h>
#include <tins/ethernetII.h>
#include <tins/exceptions.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/sll.h>
#include <tins/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/read_tap.h"

namespace closewire {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86DD;
constexpr std::uint16_t kEtherVlan = 0x8100;
constexpr std::uint16_t kEtherQinQ = 0x88A8;
constexpr std::uint8_t kProtoTcp = 6;

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kSllHeader = 16;
constexpr std::size_t kSll2Header = 20;
constexpr std::size_t kLoopbackHeader = 4;
constexpr std::size_t kIpv6Header = 40;
constexpr std::size_t kTcpHeader = 20;
constexpr std::size_t kReadBuffer = 256 * 1024;  // stdio buffer for libpcap
// Capture times stay within 2^62 ns of 1970 (1823 to 2116; every pcap time is inside), so the
// difference of any two fits in 64 bits and the analysis may subtract them freely.
constexpr Nanos kTimeLimit = Nanos{1} << 62;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[3]} | std::uint32_t{p[2]} << 8 | std::uint32_t{p[1]} << 16 |
         std::uint32_t{p[0]} << 24;
}

// BSD loopback families: AF_INET is 2 everywhere, AF_INET6 differs per OS.
std::uint16_t ethertype_of_family(std::uint32_t family) {
  switch (family) {
    case 2:
      return kEtherIpv4;
    case 10:  // Linux
    case 23:  // Windows
    case 24:  // NetBSD, OpenBSD
    case 28:  // FreeBSD
    case 30:  // macOS
      return kEtherIpv6;
    default:
      return 0;
  }
}

// The IPv6 extension headers that may sit between the fixed header and TCP (fragments excluded).
bool is_skippable_ipv6_extension(std::uint8_t next) {
  return next == 0 || next == 43 || next == 60;
}

// Whether the file's unit of time is 1 ns or finer: a pcap with the ns magic, or a pcapng whose
// first interface's if_tsresol is 10^-9 or finer (2^-30 and finer).
bool stores_nanoseconds(const PcapngClock& clock) {
  if (clock.pcapng()) {
    const std::uint8_t r = clock.first_tsresol().value_or(6);
    return (r & 0x80) ? (r & 0x7F) >= 30 : r >= 9;
  }
  const std::uint32_t magic = le32(clock.magic().data());
  return magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
}

// Whether libtins would accept these TCP option bytes (it throws malformed_packet otherwise):
// EOL and NOP are one byte, every other option has a length byte of at least 2 that fits.
bool tcp_options_well_formed(std::span<const std::uint8_t> options) {
  std::size_t i = 0;
  while (i < options.size()) {
    const std::uint8_t type = options[i++];
    if (type <= 1) continue;
    if (i >= options.size()) return false;
    const std::size_t length = options[i++];
    if (length < 2 || length - 2 > options.size() - i) return false;
    i += length - 2;
  }
  return true;
}

void read_tcp_fields(const Tins::TCP& tcp, TcpSegment& segment) {
  segment.sport = tcp.sport();
  segment.dport = tcp.dport();
  segment.seq = tcp.seq();
  segment.ack = tcp.ack_seq();
  segment.flags = static_cast<std::uint16_t>(tcp.flags());
  segment.window = tcp.window();
}

}  // namespace

std::string IpAddress::str() const {
  if (!v6) {  // dotted quad by hand: inet_ntop goes through sprintf
    char text[16];
    char* p = text;
    for (int i = 0; i < 4; ++i) {
      const unsigned b = bytes[i];
      if (b >= 100) *p++ = static_cast<char>('0' + b / 100);
      if (b >= 10) *p++ = static_cast<char>('0' + b / 10 % 10);
      *p++ = static_cast<char>('0' + b % 10);
      if (i < 3) *p++ = '.';
    }
    return std::string(text, p);
  }
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

PacketSource::PacketSource(const std::string& path) : path_(path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 &&
      !ec) {
    fail("empty file (0 bytes), not a capture");
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // What pcap_open_offline does (open, then pcap_fopen_offline), through a tap that the clock
  // follows (pcapng times come from the raw blocks) and with a larger stdio buffer: libpcap freads
  // each record, and the default 4 KiB buffer means a read(2) every few packets. Where the file
  // cannot be opened, pcap_open_offline itself says why.
  const bool is_stdin = path == "-";
  const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::FILE* file = nullptr;
  if (fd >= 0) {
    file = open_tapped(fd, !is_stdin,
                       [this](std::span<const std::uint8_t> bytes) { clock_.feed(bytes); });
    if (file == nullptr && !is_stdin) ::close(fd);
  }
  if (file == nullptr) {
    const int error = errno;
    pcap_ =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (pcap_ == nullptr) fail(std::string("cannot read capture: ") + errbuf);
    pcap_close(pcap_);  // readable after all: times could not be followed
    pcap_ = nullptr;
    fail(std::string("cannot read capture: ") + std::strerror(error));
  }
  std::setvbuf(file, nullptr, _IOFBF, kReadBuffer);
  pcap_ = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap_ == nullptr) std::fclose(file);
  if (pcap_ == nullptr) fail(std::string("cannot read capture: ") + errbuf);
  link_type_ = pcap_datalink(pcap_);
  switch (link_type_) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      break;
    default: {
      const char* name = pcap_datalink_val_to_name(link_type_);
      const std::string what = "unsupported link type " + std::string(name ? name : "DLT") + " (" +
                               std::to_string(link_type_) + ")";
      pcap_close(pcap_);
      pcap_ = nullptr;
      fail(what);
    }
  }
  // libpcap has read the file's header (and a pcapng's first IDB) through the tap by now.
  nanosecond_timestamps_ = stores_nanoseconds(clock_);
}

PacketSource::~PacketSource() {
  if (pcap_ != nullptr) pcap_close(pcap_);
}

void PacketSource::fail(const std::string& what) const {
  throw CaptureError(path_ + ": " + what);
}

Nanos PacketSource::time_of(const pcap_pkthdr& header) {
  if (clock_.pcapng()) {
    // libpcap has read this packet's whole block, so the clock has passed it by; it knows the
    // block's interface, or libpcap would have refused the block.
    const std::optional<PcapngClock::Stamp> stamp = clock_.next();
    if (!stamp || !stamp->known) fail(packet_label() + ": its block's timestamp cannot be read");
    const std::optional<Nanos> t = stamp->time();
    if (t && *t<kTimeLimit&& * t> - kTimeLimit) return *t;
    fail(packet_label() + ": timestamp " + stamp->seconds_text() +
         " from 1970 is outside the years 1823 to 2116 that capture times may span");
  }
  // pcap: seconds and fraction are unsigned 32-bit in the file, which libpcap hands out as signed
  // (2038 would read as 1901); a microsecond file's fraction comes scaled to ns. At most
  // (2^32 - 1) * (10^9 + 10^3) ns: no overflow.
  const auto seconds = static_cast<std::uint32_t>(header.ts.tv_sec);
  const std::uint64_t fraction =
      nanosecond_timestamps_
          ? static_cast<std::uint32_t>(header.ts.tv_usec)
          : std::uint64_t{static_cast<std::uint32_t>(header.ts.tv_usec / 1000)} * 1000;
  return static_cast<Nanos>(std::uint64_t{seconds} * kNanosPerSecond + fraction);
}

std::string PacketSource::packet_label() const {
  return "packet " + std::to_string(packets_);
}

bool PacketSource::next(TcpSegment& segment) {
  for (;;) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(pcap_, &header, &data);
    if (rc == PCAP_ERROR_BREAK) return false;  // end of file
    if (rc != 1) {
      const std::string error = pcap_geterr(pcap_);
      const std::string number = "packet " + std::to_string(packets_ + 1);
      if (error.find("truncated") != std::string::npos) {
        fail(number + " is truncated, the file ends inside it (" + error + ")");
      }
      fail(number + ": " + error);
    }
    const std::uint32_t caplen = header->caplen;
    const std::uint32_t len = header->len;
    ++packets_;
    segment.packet = packets_;
    segment.t = time_of(*header);
    last_time_ = segment.t;
    const bool cut = caplen < len;
    bool tcp = false;
    try {
      tcp = parse({data, caplen}, cut, segment);
    } catch (const Tins::exception_base&) {
      // A header libtins rejects: cut short by the snapshot length, or junk that is not TCP.
      if (cut) fail(packet_label() + " is cut by the snapshot length");
      tcp = false;
    }
    if (tcp) {
      ++tcp_packets_;
      return true;
    }
  }
}

bool PacketSource::parse(std::span<const std::uint8_t> frame, bool cut, TcpSegment& segment) const {
  // libtins parses each header from a slice that ends where the header ends, so it stops there:
  // no inner PDUs are allocated and the payload is never copied; it is a view into pcap's buffer.
  const std::uint8_t* p = frame.data();
  std::uint16_t ethertype = 0;
  std::size_t offset = 0;
  switch (link_type_) {
    case DLT_EN10MB: {
      if (frame.size() < kEthernetHeader) return false;
      ethertype = Tins::EthernetII(p, kEthernetHeader).payload_type();
      offset = kEthernetHeader;
      while ((ethertype == kEtherVlan || ethertype == kEtherQinQ) &&
             frame.size() >= offset + kVlanTag) {
        ethertype = Tins::Dot1Q(p + offset, kVlanTag).payload_type();
        offset += kVlanTag;
      }
      break;
    }
    case DLT_LINUX_SLL:
      if (frame.size() < kSllHeader) return false;
      ethertype = Tins::SLL(p, kSllHeader).protocol();
      offset = kSllHeader;
      break;
    case DLT_LINUX_SLL2:
      // libtins has no SLL2: its protocol type is the first field of the 20-byte header.
      if (frame.size() < kSll2Header) return false;
      ethertype = be16(p);
      offset = kSll2Header;
      break;
    case DLT_NULL:
    case DLT_LOOP: {
      if (frame.size() < kLoopbackHeader) return false;
      std::uint32_t family = link_type_ == DLT_LOOP ? be32(p) : le32(p);
      // DLT_NULL is in the writer's byte order; a value this large means the other one.
      if (link_type_ == DLT_NULL && family > 0xFFFF) family = be32(p);
      ethertype = ethertype_of_family(family);
      offset = kLoopbackHeader;
      break;
    }
    default:  // DLT_RAW, DLT_IPV4, DLT_IPV6: the version nibble says which
      if (frame.empty()) return false;
      ethertype = (p[0] >> 4) == 6 ? kEtherIpv6 : kEtherIpv4;
      break;
  }
  if (ethertype != kEtherIpv4 && ethertype != kEtherIpv6) return false;
  return parse_ip(ethertype, frame.subspan(offset), cut, segment);
}

bool PacketSource::parse_ip(std::uint16_t ethertype, std::span<const std::uint8_t> bytes, bool cut,
                            TcpSegment& segment) const {
  const std::uint8_t* p = bytes.data();
  std::size_t header = 0;
  std::size_t total = 0;
  if (ethertype == kEtherIpv4) {
    if (bytes.size() < 20) return false;
    header = static_cast<std::size_t>(p[0] & 0x0F) * 4;
    if (header < 20) return false;
    if (bytes.size() < header) {
      if (cut && p[9] == kProtoTcp)
        fail(packet_label() + ": TCP packet cut by the snapshot length");
      return false;
    }
    const Tins::IP ip(p, static_cast<std::uint32_t>(header));
    if (ip.protocol() != kProtoTcp) return false;
    // Fragments would need IP reassembly; TCP endpoints avoid fragmenting (PMTU discovery).
    if (ip.fragment_offset() != 0 || (ip.flags() & Tins::IP::MORE_FRAGMENTS) != 0) return false;
    total = ip.tot_len();
    if (total == 0) total = bytes.size();  // segmentation offload: the length field is left 0
    if (total < header) return false;
    segment.src.v6 = segment.dst.v6 = false;
    const std::uint32_t src = ip.src_addr();  // network order, as in the header
    const std::uint32_t dst = ip.dst_addr();
    segment.src.bytes = {};
    segment.dst.bytes = {};
    std::memcpy(segment.src.bytes.data(), &src, 4);
    std::memcpy(segment.dst.bytes.data(), &dst, 4);
  } else {
    if (bytes.size() < kIpv6Header) return false;
    const Tins::IPv6 ip(p, kIpv6Header);
    std::uint8_t next = ip.next_header();
    header = kIpv6Header;
    while (is_skippable_ipv6_extension(next) && bytes.size() >= header + 8) {
      next = p[header];
      header += (static_cast<std::size_t>(p[header + 1]) + 1) * 8;
    }
    if (next != kProtoTcp) return false;
    total = ip.payload_length() == 0 ? bytes.size() : kIpv6Header + ip.payload_length();
    if (total < header) return false;
    segment.src.v6 = segment.dst.v6 = true;
    ip.src_addr().copy(segment.src.bytes.begin());
    ip.dst_addr().copy(segment.dst.bytes.begin());
  }
  if (total > bytes.size()) {
    fail(packet_label() + ": TCP packet " +
         (cut ? "cut by the snapshot length" : "shorter than its IP length") + " (" +
         std::to_string(bytes.size()) + " of " + std::to_string(total) + " IP bytes captured)");
  }
  const std::span<const std::uint8_t> tcp_bytes = bytes.subspan(header, total - header);
  if (tcp_bytes.size() < kTcpHeader) return false;
  const std::size_t tcp_header = static_cast<std::size_t>(tcp_bytes[12] >> 4) * 4;
  if (tcp_header < kTcpHeader || tcp_header > tcp_bytes.size()) return false;
  segment.wscale = -1;
  if ((tcp_bytes[13] & tcp_flag::syn) != 0) {
    // Only a SYN's options matter (window scale): libtins parses them into its option list.
    const Tins::TCP tcp(tcp_bytes.data(), static_cast<std::uint32_t>(tcp_header));
    const Tins::TCP::option* ws = tcp.search_option(Tins::TCP::WSCALE);
    if (ws != nullptr && ws->data_size() == 1) segment.wscale = *ws->data_ptr();
    read_tcp_fields(tcp, segment);
  } else {
    // Other segments: libtins reads the fixed header from a copy that says "no options", so it
    // fills no option vector (a heap allocation per packet); the options are checked the way
    // libtins checks them, so a segment it would reject is still skipped.
    if (!tcp_options_well_formed(tcp_bytes.subspan(kTcpHeader, tcp_header - kTcpHeader))) {
      return false;
    }
    std::uint8_t fixed[kTcpHeader];
    std::memcpy(fixed, tcp_bytes.data(), kTcpHeader);
    fixed[12] = static_cast<std::uint8_t>((kTcpHeader / 4) << 4 | (fixed[12] & 0x0F));
    read_tcp_fields(Tins::TCP(fixed, kTcpHeader), segment);
  }
  segment.payload = tcp_bytes.subspan(tcp_header);
  return true;
}

}  // namespace closewire
