#include "harness/analysis/analyzer.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/capture_builder.h"

namespace closewire {
namespace {

using test::CaptureBuilder;
using test::Conversation;
using test::kEpoch;
using test::ms;

constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kClose = 0x8;

const std::string kRealCaptures = std::string(CLOSEWIRE_SOURCE_DIR) + "/captures/chromium-156";

struct Result {
  CaptureSummary summary;
  std::vector<Connection> legs;
};

Result analyze(const std::string& path, const AnalyzerOptions& options = {}) {
  Result r;
  r.summary = analyze_capture(
      path, [&r](Connection&& c) { r.legs.push_back(std::move(c)); }, options);
  return r;
}

Result analyze(const CaptureBuilder& cap, std::string_view name,
               const AnalyzerOptions& options = {}) {
  const std::string path = test::temp_path(name);
  cap.write(path);
  return analyze(path, options);
}

std::vector<std::string> kinds(const Connection& c) {
  std::vector<std::string> out;
  for (const Event& e : c.events) out.push_back(std::string(to_string(e.from)) + " " + e.kind);
  return out;
}

// Index of the first event at or after `from` matching side and kind, or -1.
int find(const Connection& c, Side side, std::string_view kind, int from = 0) {
  for (int i = from; i < static_cast<int>(c.events.size()); ++i) {
    if (c.events[i].from == side && c.events[i].kind == kind) return i;
  }
  return -1;
}

TEST(Analyzer, LegsAreHandedOutInSynOrder) {
  CaptureBuilder cap;
  Conversation first(cap, {"10.0.0.1", 40001}, {"10.0.0.2", 80});
  Conversation second(cap, {"10.0.0.1", 40002}, {"10.0.0.2", 80});
  first.handshake(kEpoch);
  second.handshake(kEpoch + ms(1));
  second.fin(Side::client, kEpoch + ms(2));  // the second leg ends first
  second.fin(Side::server, kEpoch + ms(3));
  second.ack(Side::client, kEpoch + ms(4));
  first.send(Side::client, kEpoch + ms(10'000), "x");  // well past the linger
  first.fin(Side::client, kEpoch + ms(10'001));
  const Result r = analyze(cap, "syn-order.pcap");
  ASSERT_EQ(r.legs.size(), 2u);
  EXPECT_EQ(r.legs[0].index, 0u);
  EXPECT_EQ(r.legs[0].client.port, 40001);
  EXPECT_EQ(r.legs[1].index, 1u);
  EXPECT_EQ(r.legs[1].client.port, 40002);
  EXPECT_EQ(r.legs[0].start, kEpoch);
  EXPECT_EQ(r.legs[1].start, kEpoch + ms(1));
  // The second leg stopped being watched once its linger passed, not at the capture's end.
  EXPECT_EQ(r.legs[1].observed_until, kEpoch + ms(10'000));
  EXPECT_EQ(r.legs[0].observed_until, kEpoch + ms(10'001));
  EXPECT_EQ(r.summary.connections, 2u);
}

TEST(Analyzer, RstAfterBothFinsLandsOnTheLegWithinTheLinger) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40001}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);
  conv.fin(Side::server, kEpoch + ms(1));
  conv.fin(Side::client, kEpoch + ms(2));
  conv.rst(Side::server, kEpoch + ms(1500));  // late, but within the 5 s linger
  const Result r = analyze(cap, "rst-after-fin.pcap");
  ASSERT_EQ(r.legs.size(), 1u);
  const std::vector<std::string> want = {"client tcp.syn", "server tcp.syn", "server tcp.fin",
                                         "client tcp.fin", "server tcp.rst"};
  EXPECT_EQ(kinds(r.legs[0]), want);
}

TEST(Analyzer, PacketsAfterTheLingerStartANewLeg) {
  CaptureBuilder cap;
  Conversation conv(cap, {"10.0.0.1", 40001}, {"10.0.0.2", 80});
  conv.handshake(kEpoch);
  conv.fin(Side::server, kEpoch + ms(1));
  conv.fin(Side::client, kEpoch + ms(2));
  conv.ack(Side::server, kEpoch + ms(3));
  conv.rst(Side::server, kEpoch + ms(1000));
  AnalyzerOptions options;
  options.linger = 500 * kNanosPerMilli;
  const Result r = analyze(cap, "after-linger.pcap", options);
  ASSERT_EQ(r.legs.size(), 2u);
  EXPECT_EQ(find(r.legs[0], Side::server, kind::rst), -1);
  EXPECT_FALSE(r.legs[1].syn_seen);
}

TEST(Analyzer, NewSynOnTheSameFourTupleStartsANewLeg) {
  CaptureBuilder cap;
  Conversation old_conv(cap, {"10.0.0.1", 40001}, {"10.0.0.2", 80}, 1000, 5000);
  old_conv.handshake(kEpoch);
  old_conv.send(Side::client, kEpoch + ms(1), "one");
  Conversation new_conv(cap, {"10.0.0.1", 40001}, {"10.0.0.2", 80}, 90000, 70000);
  new_conv.handshake(kEpoch + ms(2));
  new_conv.send(Side::client, kEpoch + ms(3), "two");
  const Result r = analyze(cap, "reuse.pcap");
  ASSERT_EQ(r.legs.size(), 2u);
  EXPECT_EQ(r.legs[0].observed_until, kEpoch + ms(2));
  EXPECT_EQ(r.legs[1].start, kEpoch + ms(2));
  EXPECT_EQ(find(r.legs[1], Side::client, kind::retransmit), -1);
}

TEST(Analyzer, WebSocketCloseOverIpv6AndSll2) {
  CaptureBuilder cap(test::Link::sll2);
  Conversation conv(cap, {"fd00::1", 51000}, {"fd00::2", 9800});
  conv.handshake(kEpoch);
  conv.send(Side::client, kEpoch + ms(1), test::upgrade_request());
  conv.send(Side::server, kEpoch + ms(2), test::upgrade_response());
  conv.send(Side::server, kEpoch + ms(3),
            test::server_frame(kClose, test::close_payload(4321, "test")));
  conv.send(Side::client, kEpoch + ms(4),
            test::client_frame(kClose, test::close_payload(4321, "test")));
  conv.fin(Side::server, kEpoch + ms(5));
  conv.fin(Side::client, kEpoch + ms(6));
  const Result r = analyze(cap, "ws6.pcap");
  ASSERT_EQ(r.legs.size(), 1u);
  const Connection& leg = r.legs[0];
  EXPECT_EQ(leg.client.str(), "[fd00::1]:51000");
  EXPECT_EQ(leg.server.str(), "[fd00::2]:9800");
  EXPECT_TRUE(leg.websocket);
  const std::vector<std::string> want = {
      "client tcp.syn",  "server tcp.syn",  "client http.upgrade", "server http.upgrade",
      "server ws.close", "client ws.close", "server tcp.fin",      "client tcp.fin"};
  EXPECT_EQ(kinds(leg), want);
  EXPECT_EQ(leg.events[4].code, 4321);
  EXPECT_EQ(leg.events[4].reason, "test");
  EXPECT_EQ(leg.events[4].t, kEpoch + ms(3));
  EXPECT_EQ(leg.events[4].packet, 6u);
  EXPECT_EQ(r.summary.websockets, 1u);
  EXPECT_EQ(r.summary.link_type, DLT_LINUX_SLL2);
}

TEST(Analyzer, FrameSplitAcrossSegmentsTakesTheCompletingPacketsTime) {
  CaptureBuilder cap;
  Conversation conv(cap, {"127.0.0.1", 51000}, {"127.0.0.1", 9900});
  conv.handshake(kEpoch);
  conv.send(Side::client, kEpoch + ms(1), test::upgrade_request());
  conv.send(Side::server, kEpoch + ms(2), test::upgrade_response());
  const std::string frame = test::server_frame(kText, "split across two segments");
  conv.send(Side::server, kEpoch + ms(3), frame.substr(0, 10));  // #6
  conv.send(Side::server, kEpoch + ms(7), frame.substr(10));     // #7
  const Result r = analyze(cap, "split.pcap");
  ASSERT_EQ(r.legs.size(), 1u);
  const int text = find(r.legs[0], Side::server, kind::text);
  ASSERT_GE(text, 0);
  EXPECT_EQ(r.legs[0].events[text].t, kEpoch + ms(7));
  EXPECT_EQ(r.legs[0].events[text].packet, 7u);
  EXPECT_EQ(r.legs[0].events[text].text, "split across two segments");
}

TEST(Analyzer, OutOfOrderCloseFrameAndFin) {
  CaptureBuilder cap;
  Conversation conv(cap, {"127.0.0.1", 51000}, {"127.0.0.1", 9900});
  conv.handshake(kEpoch);
  conv.send(Side::client, kEpoch + ms(1), test::upgrade_request());
  conv.send(Side::server, kEpoch + ms(2), test::upgrade_response());
  const std::string close = test::server_frame(kClose, test::close_payload(1001, "away"));
  const std::int64_t at = conv.next(Side::server);
  // The FIN overtakes the Close frame; the frame arrives (retransmitted) later.
  conv.segment(Side::server, kEpoch + ms(3), at + static_cast<std::int64_t>(close.size()), {},
               test::flags::fin | test::flags::ack);
  conv.segment(Side::server, kEpoch + ms(4), at, close, test::flags::ack | test::flags::psh);
  const Result r = analyze(cap, "ooo-fin.pcap");
  ASSERT_EQ(r.legs.size(), 1u);
  const int ws_close = find(r.legs[0], Side::server, kind::close);
  const int fin = find(r.legs[0], Side::server, kind::fin);
  ASSERT_GE(ws_close, 0);
  EXPECT_EQ(fin, ws_close + 1);
  EXPECT_EQ(r.legs[0].events[fin].packet, 7u);
}

TEST(Analyzer, SummaryCountsPacketsAndLegs) {
  CaptureBuilder cap;
  cap.add_udp(kEpoch, {"10.0.0.1", 5353}, {"10.0.0.2", 53}, "q");
  Conversation conv(cap, {"10.0.0.1", 40001}, {"10.0.0.2", 80});
  conv.handshake(kEpoch + 1);
  const std::string path = test::temp_path("summary.pcap");
  cap.write(path);
  const Result r = analyze(path);
  EXPECT_EQ(r.summary.file, path);
  EXPECT_EQ(r.summary.packets, 4u);
  EXPECT_EQ(r.summary.tcp_packets, 3u);
  EXPECT_EQ(r.summary.connections, 1u);
  EXPECT_EQ(r.summary.websockets, 0u);
  EXPECT_EQ(r.summary.link_type, DLT_EN10MB);
  EXPECT_TRUE(r.summary.nanosecond_timestamps);
}

TEST(Analyzer, BadInputThrowsCaptureError) {
  const std::string path = test::temp_path("analyzer-empty.pcap");
  std::ofstream{path};
  EXPECT_THROW(analyze(path), CaptureError);
}

// Real Chromium 156 captures: three runs, each a browser leg (to 9800, the proxy) and a proxy
// leg (to 9900, the server).
TEST(AnalyzerRealCapture, ResetAfterCloseOnTheBrowserLeg) {
  const std::string path = kRealCaptures + "/s4321__D_reset_0__chromium.pcap";
  ASSERT_TRUE(std::filesystem::exists(path)) << "a checked-in capture is missing: " << path;
  const Result r = analyze(path);
  ASSERT_EQ(r.legs.size(), 6u);
  EXPECT_EQ(r.summary.packets, 72u);
  EXPECT_EQ(r.summary.websockets, 6u);
  for (std::size_t i = 0; i < r.legs.size(); ++i) {
    EXPECT_EQ(r.legs[i].index, i);
    if (i > 0) {
      EXPECT_LT(r.legs[i - 1].start, r.legs[i].start);
    }
  }
  // tshark: 56078 -> 9800 first, then 40762 -> 9900, then 38138 -> 9800 ...
  EXPECT_EQ(r.legs[0].client.port, 56078);
  EXPECT_EQ(r.legs[1].client.port, 40762);
  EXPECT_EQ(r.legs[2].client.port, 38138);

  const Connection& browser = r.legs[0];
  EXPECT_EQ(browser.server.port, 9800);
  const int server_close = find(browser, Side::server, kind::close);
  ASSERT_GE(server_close, 0);
  EXPECT_EQ(browser.events[server_close].code, 4321);
  EXPECT_EQ(browser.events[server_close].reason, "test");
  EXPECT_EQ(browser.events[server_close].packet, 17u);
  const int client_close = find(browser, Side::client, kind::close, server_close);
  ASSERT_GT(client_close, server_close);
  EXPECT_EQ(browser.events[client_close].packet, 19u);
  const int rst = find(browser, Side::server, kind::rst, client_close);
  ASSERT_GT(rst, client_close);
  EXPECT_EQ(browser.events[rst].packet, 22u);
  EXPECT_EQ(find(browser, Side::server, kind::rst_data_lost), -1);
  EXPECT_EQ(find(browser, Side::client, kind::fin), -1);
}

TEST(AnalyzerRealCapture, EveryCaptureDecodesCleanly) {
  ASSERT_TRUE(std::filesystem::exists(kRealCaptures))
      << "checked-in captures missing: " << kRealCaptures;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kRealCaptures)) {
    if (entry.path().extension() != ".pcap") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    const Result r = analyze(entry.path().string());
    const bool direct = entry.path().filename().string().find("direct") != std::string::npos;
    ASSERT_EQ(r.legs.size(), direct ? 3u : 6u);
    for (const Connection& leg : r.legs) {
      EXPECT_TRUE(leg.syn_seen);
      EXPECT_TRUE(leg.websocket);
      for (const Event& e : leg.events) {
        EXPECT_NE(e.kind, kind::gap);
        EXPECT_NE(e.kind, kind::protocol_error) << e.note;
        EXPECT_NE(e.kind, kind::rst_ignored);
      }
      const int close = find(leg, Side::server, kind::close);
      ASSERT_GE(close, 0);
      EXPECT_EQ(leg.events[close].code, 4321);
    }
  }
  EXPECT_GT(files, 10);
}

}  // namespace
}  // namespace closewire
