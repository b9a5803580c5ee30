// `closewire replay` as a user runs it: exit statuses and one-line errors on bad input.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"
#include "harness/wire/handshake.h"
#include "tests/support/capture_builder.h"
#include "tests/support/command.h"
#include "tests/support/tls_peers.h"

namespace {

namespace fs = std::filesystem;

const std::string kBinary = CLOSEWIRE_BIN;
const std::string kCaptures = std::string(CLOSEWIRE_SOURCE_DIR) + "/captures/chromium-156/";
const std::string kResetCapture = kCaptures + "s4321__D_reset_0__chromium.pcap";

using closewire::testing::CommandResult;
using closewire::testing::slurp;
using closewire::testing::temp;

CommandResult run_closewire(const std::string& args) {
  return closewire::testing::run_command(kBinary, args);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Copies `from` into `to`, keeping the first `keep` packets, cutting each to `snaplen` bytes and
// writing the file with `link_type`.
void rewrite(const std::string& from, const std::string& to, int keep, int snaplen, int link_type) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* in = pcap_open_offline(from.c_str(), err);
  ASSERT_NE(in, nullptr) << err;
  pcap_t* dead = pcap_open_dead(link_type, snaplen);
  pcap_dumper_t* out = pcap_dump_open(dead, to.c_str());
  pcap_pkthdr* h;
  const u_char* bytes;
  for (int i = 0; i < keep && pcap_next_ex(in, &h, &bytes) == 1; ++i) {
    pcap_pkthdr cut = *h;
    cut.caplen = std::min<bpf_u_int32>(h->caplen, snaplen);
    pcap_dump(reinterpret_cast<u_char*>(out), &cut, bytes);
  }
  pcap_dump_close(out);
  pcap_close(dead);
  pcap_close(in);
}

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1;
}

TEST(ReplayCommand, RealCaptureReplaysWithVerdicts) {
  const CommandResult r = run_closewire("replay " + kResetCapture);
  EXPECT_EQ(r.status, 0) << r.err;
  // The proxy's Close on the browser's leg, at its time, and the browser's reply.
  EXPECT_NE(r.out.find("4.842  ◀─   hop 0  ws.close 4321 \"test\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5.378  client  ─▶  ws.close 4321 \"test\""), std::string::npos) << r.out;
  // The browser leg's verdict row: 4321, not clean (the RST after the reply).
  EXPECT_NE(r.out.find("chrome-legacy   4321  test       no"), std::string::npos) << r.out;
}

TEST(ReplayCommand, JsonIsOneObjectWithTheBrowsersVerdict) {
  const CommandResult r = run_closewire("replay --json " + kResetCapture);
  ASSERT_EQ(r.status, 0) << r.err;
  // The first leg is the browser's (SYN order); Chromium reported 4321, not clean.
  const std::string first_chrome = r.out.substr(r.out.find("\"chrome\":"), 80);
  EXPECT_NE(first_chrome.find("\"code\":4321"), std::string::npos) << first_chrome;
  EXPECT_NE(first_chrome.find("\"was_clean\":false"), std::string::npos) << first_chrome;
}

TEST(ReplayCommand, FailedExpectationExitsOneAndShowsTheTimeline) {
  const std::string expect = temp("wrong.yaml");
  write_file(expect, "- on: { server_port: 9800, nth: 1 }\n  never: server tcp.rst\n");
  const CommandResult r = run_closewire("replay " + kResetCapture + " --expect " + expect);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos);
  EXPECT_NE(r.out.find("expected: no 'server tcp.rst'"), std::string::npos) << r.out;
  // The timeline around the finding, the RST itself marked.
  EXPECT_NE(r.out.find("\n>      7.706  ◀─  server  tcp.rst"), std::string::npos) << r.out;
}

TEST(ReplayCommand, MalformedExpectationFileNamesFileAndLine) {
  const std::string expect = temp("bad.yaml");
  write_file(expect, "- never: tcp.rst\n- verdict: { profile: chrom }\n");
  const CommandResult r = run_closewire("replay " + kResetCapture + " --expect " + expect);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find(expect + ":2:"), std::string::npos) << r.err;
}

struct BadInput {
  const char* name;
  std::function<std::string()> make;  // writes the file, returns its path
  const char* message_part;
};

class ReplayBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(ReplayBadInput, OneLineNamingTheFileAndExitTwo) {
  const std::string path = GetParam().make();
  const CommandResult r = run_closewire("replay " + path);
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(GetParam().message_part), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Files, ReplayBadInput,
    ::testing::Values(BadInput{"Empty",
                               [] {
                                 const auto p = temp("zero-bytes.pcap");
                                 write_file(p, "");
                                 return p;
                               },
                               "empty file (0 bytes), not a capture"},
                      BadInput{"NotAPcap",
                               [] {
                                 const auto p = temp("text.pcap");
                                 write_file(p, "hello, I am text\n");
                                 return p;
                               },
                               "unknown file format"},
                      BadInput{"TruncatedLastPacket",
                               [] {
                                 const auto p = temp("truncated.pcap");
                                 std::string bytes = slurp(kResetCapture);
                                 write_file(p, bytes.substr(0, bytes.size() - 20));
                                 return p;
                               },
                               "packet 72"},
                      BadInput{"UnsupportedLinkType",
                               [] {
                                 const auto p = temp("wifi.pcap");
                                 rewrite(kResetCapture, p, 5, 65535, DLT_IEEE802_11);
                                 return p;
                               },
                               "unsupported link type IEEE802_11 (105)"},
                      BadInput{"SnaplenCutPayload",
                               [] {
                                 const auto p = temp("cut.pcap");
                                 rewrite(kResetCapture, p, 100, 60, DLT_EN10MB);
                                 return p;
                               },
                               "packet 1: TCP packet cut"},
                      BadInput{"NoWebSocket",
                               [] {
                                 const auto p = temp("tcp-only.pcap");
                                 rewrite(kResetCapture, p, 3, 65535, DLT_EN10MB);
                                 return p;
                               },
                               "no WebSocket"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ReplayCommand, PcapngTimeBeyondSixtyFourBitsExitsTwoNamingThePacket) {
  // One empty packet at 10^10 s, at 1 s resolution (92 bytes): libpcap's seconds * 10^9
  // overflowed, and the replay exited 0 with a time in 1653.
  closewire::test::CaptureBuilder cap;
  cap.add_frame(0, "");
  cap.stamp_last(10'000'000'000u);
  const std::string path = temp("far-future.pcapng");
  closewire::test::PcapngOptions one_second;
  one_second.tsresol = 0;
  cap.write_pcapng(path, one_second);
  ASSERT_EQ(fs::file_size(path), 92u);
  for (const char* args : {"replay ", "replay --json "}) {
    const CommandResult r = run_closewire(args + path);
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    EXPECT_TRUE(one_line(r.err)) << r.err;
    EXPECT_NE(r.err.find(path + ": packet 1: timestamp 10000000000 s from 1970"), std::string::npos)
        << r.err;
  }
}

TEST(ReplayCommand, UsageErrorsExitTwo) {
  EXPECT_EQ(run_closewire("replay").status, 2);
  EXPECT_EQ(run_closewire("replay --bogus " + kResetCapture).status, 2);
  EXPECT_EQ(run_closewire("replay /no/such/file.pcap").status, 2);
  EXPECT_EQ(run_closewire("frobnicate").status, 2);
  const CommandResult help = run_closewire("replay --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--expect"), std::string::npos);
}

}  // namespace

namespace {

TEST(ReplayCommand, HtmlWritesOnePageWithALadderPerChain) {
  const std::string page = temp("replay.html");
  const auto r = run_closewire("replay " + kResetCapture + " --html " + page);
  EXPECT_EQ(r.status, 0) << r.err;
  const std::string html = slurp(page);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<svg class=\"ladder\""), std::string::npos);
  EXPECT_NE(html.find("class=\"ev tcp-rst\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // nothing external
}

TEST(ReplayCommand, HtmlThatCannotBeWrittenIsOneLineAndExitTwo) {
  const auto r = run_closewire("replay " + kResetCapture + " --html /nonexistent-dir/x.html");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "closewire: /nonexistent-dir/x.html: cannot write the HTML page\n");
}

}  // namespace

// A WebSocket conversation whose server closes with 4321 and FIN, and a plain TCP one beside it.
closewire::test::CaptureBuilder websocket_and_plain_tcp() {
  using closewire::test::Conversation;
  using closewire::test::kEpoch;
  using closewire::test::ms;
  closewire::test::CaptureBuilder cap;
  Conversation ws(cap, {"127.0.0.1", 51000}, {"127.0.0.1", 9900});
  ws.handshake(kEpoch);
  ws.send(closewire::Side::client, kEpoch + ms(1), closewire::test::upgrade_request());
  ws.send(closewire::Side::server, kEpoch + ms(2), closewire::test::upgrade_response());
  ws.send(closewire::Side::server, kEpoch + ms(3),
          closewire::test::server_frame(0x8, closewire::test::close_payload(4321, "test")));
  ws.send(closewire::Side::client, kEpoch + ms(4),
          closewire::test::client_frame(0x8, closewire::test::close_payload(4321, "test")));
  ws.fin(closewire::Side::server, kEpoch + ms(5));
  ws.fin(closewire::Side::client, kEpoch + ms(6));
  Conversation plain(cap, {"127.0.0.1", 52000}, {"127.0.0.1", 5432});
  plain.handshake(kEpoch + ms(10));
  plain.send(closewire::Side::client, kEpoch + ms(11), "not HTTP at all");
  plain.fin(closewire::Side::client, kEpoch + ms(12));
  plain.fin(closewire::Side::server, kEpoch + ms(13));
  return cap;
}

TEST(ReplayCommand, PcapngReplaysLikePcap) {
  const auto cap = websocket_and_plain_tcp();
  const std::string pcap = temp("both.pcap"), pcapng = temp("both.pcapng");
  cap.write(pcap);
  cap.write_pcapng(pcapng);
  const CommandResult a = run_closewire("replay --json " + pcap);
  const CommandResult b = run_closewire("replay --json " + pcapng);
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_NE(b.out.find("\"code\":4321"), std::string::npos) << b.out;
  // The same legs, events and verdicts; only the file name differs.
  auto without_name = [](std::string s, const std::string& name) {
    for (auto at = s.find(name); at != std::string::npos; at = s.find(name))
      s.erase(at, name.size());
    return s;
  };
  EXPECT_EQ(without_name(a.out, pcap), without_name(b.out, pcapng));
}

TEST(ReplayCommand, AllLegsShowsPlainTcpLegsToo) {
  const std::string pcap = temp("both-legs.pcap");
  websocket_and_plain_tcp().write(pcap);
  const CommandResult some = run_closewire("replay " + pcap);
  const CommandResult all = run_closewire("replay --all-legs " + pcap);
  ASSERT_EQ(some.status, 0) << some.err;
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_NE(some.out.find("→ 127.0.0.1:9900  WebSocket"), std::string::npos) << some.out;
  EXPECT_EQ(some.out.find("127.0.0.1:5432"), std::string::npos) << some.out;
  EXPECT_NE(all.out.find("127.0.0.1:52000 → 127.0.0.1:5432"), std::string::npos) << all.out;
}

namespace {

// A WebSocket over TLS 1.3 closed with 4321 by the server, as NAME.pcap; returns its key log.
std::string tls_capture(const std::string& pcap) {
  using closewire::Side;
  namespace test = closewire::test;
  namespace wire = closewire::wire;
  test::CaptureBuilder cap;
  test::Conversation conv(cap, {"127.0.0.1", 50100}, {"127.0.0.1", 8443});
  conv.handshake(test::kEpoch);
  closewire::Nanos t = test::kEpoch + test::ms(1);
  test::TlsPeers peers({}, [&](Side from, const std::string& bytes) {
    conv.send(from, t, bytes);
    t += test::ms(1);
  });
  EXPECT_TRUE(peers.handshake());
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  peers.send(Side::client, wire::upgrade_request("localhost", "/", key));
  peers.send(Side::server, wire::upgrade_response(key));
  const std::string close = wire::encode_close_payload(4321, "test");
  peers.send(Side::server, wire::encode_frame(wire::Opcode::close, close));
  peers.send(Side::client, wire::encode_frame(wire::Opcode::close, close, true,
                                              std::array<std::uint8_t, 4>{1, 2, 3, 4}));
  peers.close_notify(Side::server);
  conv.fin(Side::server, t);
  conv.fin(Side::client, t + test::ms(1));
  cap.write(pcap);
  return peers.key_log();
}

TEST(ReplayCommand, TlsCaptureWithItsKeysBesideIsDecrypted) {
  const std::string pcap = temp("wss.pcap");
  write_file(temp("wss.keys"), tls_capture(pcap));
  const CommandResult r = run_closewire("replay " + pcap);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("(TLS keys: " + temp("wss.keys") + ")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tls.handshake"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tls.close_notify"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ws.close 4321"), std::string::npos) << r.out;
}

TEST(ReplayCommand, KeylogOptionAndJsonTlsField) {
  const std::string pcap = temp("wss-opt.pcap");
  const std::string keys = temp("elsewhere.keylog");
  write_file(keys, "garbage line\n" + tls_capture(pcap));
  const CommandResult r = run_closewire("replay --json --keylog " + keys + " " + pcap);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "closewire: warning: " + keys + ":1: not LABEL <client random> <secret>\n");
  EXPECT_NE(r.out.find("\"tls\":{\"version\":\"TLS 1.3\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"decrypted\":true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"code\":4321"), std::string::npos) << r.out;
}

TEST(ReplayCommand, TlsWithoutKeysIsShownUndecided) {
  const std::string pcap = temp("wss-nokey.pcap");
  tls_capture(pcap);
  const CommandResult text = run_closewire("replay " + pcap);
  EXPECT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("TLS, not decrypted"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("no key for this TLS session"), std::string::npos) << text.out;
  EXPECT_TRUE(one_line(text.err)) << text.err;
  const CommandResult json = run_closewire("replay --json " + pcap);
  EXPECT_NE(json.out.find("\"decrypted\":false"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"undecided\":true"), std::string::npos) << json.out;
}

TEST(ReplayCommand, UnreadableKeylogIsOneLineAndExitTwo) {
  const CommandResult r =
      run_closewire("replay --keylog " + temp("missing.keys") + " " + kResetCapture);
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(one_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("missing.keys"), std::string::npos) << r.err;
}

}  // namespace
