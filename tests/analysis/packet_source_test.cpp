#include "harness/analysis/packet_source.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "harness/analysis/analyzer.h"
#include "tests/support/capture_builder.h"
#include "tests/support/pcapng_writer.h"

namespace closewire {
namespace {

using test::CaptureBuilder;
using test::Conversation;
using test::kEpoch;
using test::Link;

struct Read {
  TcpSegment segment;
  std::string payload;
};

std::vector<Read> read_all(PacketSource& source) {
  std::vector<Read> out;
  TcpSegment s;
  while (source.next(s)) out.push_back({s, std::string(s.payload.begin(), s.payload.end())});
  return out;
}

// A handshake and one request, written on `link`.
std::string small_capture(Link link, bool v6, const std::string& name) {
  CaptureBuilder cap(link);
  const Endpoint client{v6 ? "fd00::1" : "10.1.2.3", 40001};
  const Endpoint server{v6 ? "fd00::2" : "10.1.2.4", 9800};
  Conversation conv(cap, client, server);
  conv.handshake(kEpoch + 123'456'789, /*wscale=*/10);
  conv.send(Side::client, kEpoch + 200'000'001, "GET / HTTP/1.1\r\n\r\n");
  const std::string path = test::temp_path(name);
  cap.write(path);
  return path;
}

struct LinkCase {
  Link link;
  bool v6;
  const char* name;
};

class PacketSourceLink : public ::testing::TestWithParam<LinkCase> {};

TEST_P(PacketSourceLink, ReadsTcpSegments) {
  const LinkCase c = GetParam();
  const std::string path = small_capture(c.link, c.v6, std::string(c.name) + ".pcap");
  PacketSource source(path);
  EXPECT_EQ(source.link_type(), CaptureBuilder::dlt_of(c.link));
  EXPECT_TRUE(source.nanosecond_timestamps());
  const std::vector<Read> got = read_all(source);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(source.packets(), 4u);
  EXPECT_EQ(source.tcp_packets(), 4u);

  const TcpSegment& syn = got[0].segment;
  EXPECT_EQ(syn.packet, 1u);
  EXPECT_EQ(syn.t, kEpoch + 123'456'789);
  EXPECT_EQ(syn.src.str(), c.v6 ? "fd00::1" : "10.1.2.3");
  EXPECT_EQ(syn.dst.str(), c.v6 ? "fd00::2" : "10.1.2.4");
  EXPECT_EQ(syn.src.v6, c.v6);
  EXPECT_EQ(syn.sport, 40001);
  EXPECT_EQ(syn.dport, 9800);
  EXPECT_EQ(syn.seq, 1000u);
  EXPECT_EQ(syn.flags, tcp_flag::syn);
  EXPECT_EQ(syn.wscale, 10);

  const TcpSegment& synack = got[1].segment;
  EXPECT_EQ(synack.flags, tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(synack.seq, 5000u);
  EXPECT_EQ(synack.ack, 1001u);

  const TcpSegment& request = got[3].segment;
  EXPECT_EQ(request.packet, 4u);
  EXPECT_EQ(request.t, kEpoch + 200'000'001);
  EXPECT_EQ(request.wscale, -1);
  EXPECT_EQ(request.window, 65535);
  EXPECT_EQ(got[3].payload, "GET / HTTP/1.1\r\n\r\n");
}

INSTANTIATE_TEST_SUITE_P(
    AllLinks, PacketSourceLink,
    ::testing::Values(LinkCase{Link::ethernet, false, "ethernet"},
                      LinkCase{Link::ethernet, true, "ethernet6"},
                      LinkCase{Link::sll, false, "sll"}, LinkCase{Link::sll, true, "sll6"},
                      LinkCase{Link::sll2, false, "sll2"}, LinkCase{Link::sll2, true, "sll2_6"},
                      LinkCase{Link::raw, false, "raw"}, LinkCase{Link::raw, true, "raw6"},
                      LinkCase{Link::null_loopback, false, "null"},
                      LinkCase{Link::null_loopback, true, "null6"},
                      LinkCase{Link::loop, false, "loop"}, LinkCase{Link::loop, true, "loop6"}),
    [](const auto& info) { return std::string(info.param.name); });

// BSD loopback (DLT_NULL) captures: AF_INET6 is 24, 28 or 30 depending on the OS that wrote the
// file, and a header in the other byte order (a big-endian writer) is read all the same.
TEST(PacketSource, BsdLoopbackFamiliesInEitherByteOrder) {
  for (const std::uint32_t family : {24u, 28u, 30u}) {
    for (const bool swapped : {false, true}) {
      for (const bool v6 : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "family " << family << (swapped ? " swapped" : "") << (v6 ? " v6" : " v4"));
        CaptureBuilder cap(Link::null_loopback);
        cap.null_header(family, swapped);
        Conversation conv(cap, {v6 ? "fd00::1" : "10.1.2.3", 40001},
                          {v6 ? "fd00::2" : "10.1.2.4", 9800});
        conv.handshake(kEpoch);
        const std::string path = test::temp_path("bsd-null.pcap");
        cap.write(path);
        PacketSource source(path);
        const std::vector<Read> got = read_all(source);
        ASSERT_EQ(got.size(), 3u);
        EXPECT_EQ(got[0].segment.src.str(), v6 ? "fd00::1" : "10.1.2.3");
        EXPECT_EQ(got[0].segment.flags, tcp_flag::syn);
      }
    }
  }
}

TEST(PacketSource, ReadsPcapngWithNanosecondTimestamps) {
  CaptureBuilder cap;
  Conversation conv(cap, {"127.0.0.1", 50000}, {"127.0.0.1", 9900});
  conv.handshake(kEpoch + 1);
  conv.send(Side::server, kEpoch + 999'999'999, "abc");
  const std::string path = test::temp_path("ng.pcapng");
  cap.write_pcapng(path);
  PacketSource source(path);
  EXPECT_TRUE(source.nanosecond_timestamps());
  const std::vector<Read> got = read_all(source);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].segment.t, kEpoch + 1);
  EXPECT_EQ(got[3].segment.t, kEpoch + 999'999'999);
  EXPECT_EQ(got[3].payload, "abc");
}

// One SYN whose pcapng timestamp is `ticks` at `options.tsresol`.
std::string pcapng_syn(const std::string& name, std::uint64_t ticks,
                       const test::PcapngOptions& options) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.segment(Side::client, 0, 0, "", tcp_flag::syn);
  cap.stamp_last(ticks);
  const std::string path = test::temp_path(name);
  cap.write_pcapng(path, options);
  return path;
}

Nanos time_of_only_packet(const std::string& path) {
  PacketSource source(path);
  const std::vector<Read> got = read_all(source);
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? -1 : got[0].segment.t;
}

struct UnitCase {
  std::uint8_t tsresol;
  std::uint64_t ticks;
  Nanos expected;  // floor(ticks * 10^9 / unit), worked out with exact fractions
};

class PcapngUnits : public ::testing::TestWithParam<UnitCase> {};

TEST_P(PcapngUnits, TimesAreExactNanoseconds) {
  const UnitCase c = GetParam();
  for (bool big_endian : {false, true}) {
    const std::string path = pcapng_syn("unit.pcapng", c.ticks, {c.tsresol, {}, big_endian});
    EXPECT_EQ(time_of_only_packet(path), c.expected) << (big_endian ? "big-endian" : "little");
  }
}

// About 1790000000.123456789123 s in each unit (or the most ticks there are); libpcap scales
// these itself and gets the 2^-35 and 2^-63 ones wrong (its 64-bit fraction overflows).
INSTANTIATE_TEST_SUITE_P(
    PowersOfTenAndTwo, PcapngUnits,
    ::testing::Values(UnitCase{0x00, 1790000000u, 1790000000000000000},
                      UnitCase{0x01, 17900000001u, 1790000000100000000},
                      UnitCase{0x06, 1790000000123456u, 1790000000123456000},
                      UnitCase{0x09, 1790000000123456789u, 1790000000123456789},
                      UnitCase{0x0a, 17900000001234567891u, 1790000000123456789},
                      UnitCase{0x13, ~0ull, 1844674407},
                      UnitCase{0x81, 3580000001u, 1790000000500000000},
                      UnitCase{0x8a, 1832960000126u, 1790000000123046875},
                      UnitCase{0x9e, 1921997865092560717u, 1790000000123456788},
                      UnitCase{0xa3, ~0ull, 536870911999999999}, UnitCase{0xbf, ~0ull, 1999999999}),
    [](const auto& info) { return "tsresol_" + std::to_string(info.param.tsresol); });

TEST(PacketSource, PcapngOffsetMovesEveryTime) {
  const std::string path =
      pcapng_syn("offset.pcapng", 1'790'000'000'000'000'005u, {9, -1'000, false});
  EXPECT_EQ(time_of_only_packet(path), 1'789'999'000'000'000'005);
}

TEST(PacketSource, PcapngInterfacesKeepTheirOwnUnits) {
  // The same tick count on a microsecond interface and on a 2^-40 s one, in two sections.
  test::PcapngWriter w;
  std::string syn;
  {
    CaptureBuilder cap;
    Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
    conv.segment(Side::client, 0, 0, "", tcp_flag::syn);
    const std::string one = test::temp_path("one.pcap");
    cap.write(one);
    std::ifstream in(one, std::ios::binary);
    syn = std::string(std::istreambuf_iterator<char>(in), {}).substr(24 + 16);
  }
  w.section();
  w.interface({});
  w.interface({1, std::uint8_t{0xa8}, std::nullopt});
  w.packet(0, 1'790'000'000'000'001u, syn);
  w.packet(1, 1'790'000'000'000'001u, syn);
  w.section();
  w.interface({1, std::uint8_t{0xa8}, std::nullopt});
  w.packet(0, 1'790'000'000'000'001u, syn);
  const std::string path = test::temp_path("two-units.pcapng");
  w.write(path);
  PacketSource source(path);
  EXPECT_FALSE(source.nanosecond_timestamps());  // the first interface's microseconds
  const std::vector<Read> got = read_all(source);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].segment.t, 1'790'000'000'000'001'000);
  EXPECT_EQ(got[1].segment.t, 1'627'995'516'173);  // floor(ticks * 10^9 / 2^40)
  EXPECT_EQ(got[2].segment.t, 1'627'995'516'173);
}

TEST(PacketSource, NanosecondsMeansTheFilesUnitIsOneNanosecondOrFiner) {
  const auto ns = [](std::uint8_t tsresol) {
    return PacketSource(pcapng_syn("res.pcapng", 1, {tsresol, {}, false})).nanosecond_timestamps();
  };
  EXPECT_FALSE(ns(6));
  EXPECT_TRUE(ns(9));
  EXPECT_TRUE(ns(12));
  EXPECT_FALSE(ns(0x9d));  // 2^-29 s: 1.9 ns
  EXPECT_TRUE(ns(0x9e));   // 2^-30 s: 0.93 ns
}

TEST(PacketSource, PcapSecondsAreUnsigned) {
  // The format's seconds are unsigned 32-bit; libpcap hands 2106 out as 1969.
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  const Nanos t = 4'294'967'280LL * kNanosPerSecond + 999'999'999;
  conv.segment(Side::client, t, 0, "", tcp_flag::syn);
  const std::string path = test::temp_path("2106.pcap");
  cap.write(path);
  EXPECT_EQ(time_of_only_packet(path), t);
}

TEST(PacketSource, ReadsPcapngFromStandardInput) {
  const std::string path =
      pcapng_syn("stdin.pcapng", 1'790'000'000'000'001u, {0xa3, std::nullopt, false});
  const int saved = ::dup(STDIN_FILENO);
  ASSERT_NE(std::freopen(path.c_str(), "rb", stdin), nullptr);
  const Nanos t = time_of_only_packet("-");
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  EXPECT_EQ(t, 52'095'856'517'553);  // floor(ticks * 10^9 / 2^35)
}

TEST(PacketSource, MicrosecondPcapIsReportedAsSuch) {
  // The real captures were written with microsecond timestamps.
  const std::string path =
      std::string(CLOSEWIRE_SOURCE_DIR) + "/captures/chromium-156/s4321__direct__chromium.pcap";
  ASSERT_TRUE(std::filesystem::exists(path)) << "a checked-in capture is missing: " << path;
  PacketSource source(path);
  EXPECT_FALSE(source.nanosecond_timestamps());
  EXPECT_EQ(source.link_type(), DLT_EN10MB);
}

TEST(PacketSource, NonTcpPacketsAreCountedAndSkipped) {
  CaptureBuilder cap;
  cap.add_udp(kEpoch, {"10.0.0.1", 5353}, {"10.0.0.2", 53}, "dns?");
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.handshake(kEpoch + 1000);
  cap.add_udp(kEpoch + 5000, {"fd00::1", 5353}, {"fd00::2", 53}, "dns6?");
  const std::string path = test::temp_path("udp.pcap");
  cap.write(path);
  PacketSource source(path);
  const std::vector<Read> got = read_all(source);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].segment.packet, 2u);
  EXPECT_EQ(source.packets(), 5u);
  EXPECT_EQ(source.tcp_packets(), 3u);
}

TEST(PacketSource, CutEthernetTrailerIsNoError) {
  // Only bytes past the IP packet are missing: the TCP payload is whole.
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);  // the last ACK: 54 bytes, padded to Ethernet's 60
  cap.cut_last(54);
  const std::string path = test::temp_path("trailer.pcap");
  cap.write(path);
  PacketSource source(path);
  EXPECT_EQ(read_all(source).size(), 3u);
}

// The message of the CaptureError that reading `path` to the end throws.
std::string error_of(const std::string& path) {
  try {
    PacketSource source(path);
    read_all(source);
  } catch (const CaptureError& e) {
    return e.what();
  }
  return "no error";
}

void expect_one_line_naming(const std::string& message, const std::string& path) {
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(PacketSourceErrors, EmptyFile) {
  const std::string path = test::temp_path("zero-bytes.pcap");
  std::ofstream{path};
  const std::string message = error_of(path);
  expect_one_line_naming(message, path);
  EXPECT_NE(message.find(path + ": empty file (0 bytes), not a capture"), std::string::npos)
      << message;
}

TEST(PacketSourceErrors, NotACapture) {
  const std::string path = test::temp_path("notes.txt");
  std::ofstream(path) << "these are notes, not packets\nsecond line\n";
  const std::string message = error_of(path);
  expect_one_line_naming(message, path);
  EXPECT_NE(message.find("cannot read capture"), std::string::npos) << message;
}

TEST(PacketSourceErrors, MissingFile) {
  const std::string path = test::temp_path("does-not-exist.pcap");
  expect_one_line_naming(error_of(path), path);
}

TEST(PacketSourceErrors, TruncatedLastPacketNamesIt) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);
  conv.send(Side::client, kEpoch + 1000, "payload that will be chopped");
  const std::string path = test::temp_path("truncated.pcap");
  cap.write(path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  const std::string message = error_of(path);
  expect_one_line_naming(message, path);
  EXPECT_NE(message.find("packet 4 is truncated"), std::string::npos) << message;
}

TEST(PacketSourceErrors, TruncatedInsideARecordHeader) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);
  const std::string path = test::temp_path("truncated-header.pcap");
  cap.write(path);
  std::ofstream(path, std::ios::app | std::ios::binary).write("\x01\x02\x03\x04\x05", 5);
  const std::string message = error_of(path);
  EXPECT_NE(message.find("packet 4 is truncated"), std::string::npos) << message;
}

TEST(PacketSourceErrors, UnsupportedLinkTypeIsNamed) {
  const std::string path = test::temp_path("ppp.pcap");
  pcap_t* dead = pcap_open_dead(DLT_PPP, 65535);
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  pcap_pkthdr h{};
  const u_char data[4] = {0xff, 0x03, 0x00, 0x21};
  h.caplen = h.len = sizeof data;
  pcap_dump(reinterpret_cast<u_char*>(dumper), &h, data);
  pcap_dump_close(dumper);
  pcap_close(dead);
  const std::string message = error_of(path);
  expect_one_line_naming(message, path);
  EXPECT_NE(message.find("unsupported link type PPP"), std::string::npos) << message;
}

TEST(PacketSourceErrors, SnaplenCutTcpPayloadNamesThePacket) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);
  conv.send(Side::server, kEpoch + 1000, std::string(500, 'z'));
  cap.cut_last(100);
  const std::string path = test::temp_path("snaplen.pcap");
  cap.write(path);
  const std::string message = error_of(path);
  expect_one_line_naming(message, path);
  EXPECT_NE(message.find("packet 4"), std::string::npos) << message;
  EXPECT_NE(message.find("snapshot length"), std::string::npos) << message;
}

TEST(PacketSourceErrors, SnaplenCutInsideTheTcpHeader) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40000}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);
  cap.cut_last(14 + 20 + 10);
  const std::string path = test::temp_path("snaplen-header.pcap");
  cap.write(path);
  const std::string message = error_of(path);
  EXPECT_NE(message.find("packet 3"), std::string::npos) << message;
}

TEST(PacketSourceErrors, TimeBeyondWhatCaptureTimesSpanNamesThePacket) {
  // 10^10 s at 1 s: libpcap's seconds * 10^9 overflowed, and the replay went on at a time in 1653.
  for (const auto& [ticks, tsresol, offset] :
       {std::tuple<std::uint64_t, std::uint8_t, std::int64_t>{10'000'000'000u, 0, 0},
        {~0ull, 9, 0},              // libpcap: 1 ns before 1970
        {~0ull, 0x80, 0},           // 2^64 s
        {4'700'000'000u, 0, 0},     // 2118: fits 64-bit ns, but not their differences
        {0, 9, -4'700'000'000}}) {  // 1821
    const std::string path = pcapng_syn("far.pcapng", ticks, {tsresol, offset, false});
    const std::string message = error_of(path);
    expect_one_line_naming(message, path);
    EXPECT_NE(message.find(path + ": packet 1: timestamp "), std::string::npos) << message;
    EXPECT_NE(message.find("outside the years 1823 to 2116"), std::string::npos) << message;
  }
  EXPECT_NE(error_of(pcapng_syn("far.pcapng", 10'000'000'000u, {0, {}, false}))
                .find("timestamp 10000000000 s from 1970"),
            std::string::npos);
}

}  // namespace
}  // namespace closewire
