// TLS legs end to end: real OpenSSL peers (tests/support/tls_peers.h) carry a WebSocket upgrade,
// frames and a Close; their bytes become a capture; the analyzer decrypts it with their key log.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/verdict.h"
#include "harness/wire/close_payload.h"
#include "harness/wire/frame_encoder.h"
#include "harness/wire/h2_frame_reader.h"
#include "harness/wire/handshake.h"
#include "tests/support/capture_builder.h"
#include "tests/support/h2_frames.h"
#include "tests/support/tls_peers.h"

namespace closewire {
namespace {

using test::CaptureBuilder;
using test::Conversation;
using test::kEpoch;
using test::ms;
using test::TlsPeers;
using test::TlsPeersOptions;

const std::string kKey = "dGhlIHNhbXBsZSBub25jZQ==";

// How the server side ends the leg after the closing handshake.
enum class Ending { close_notify_then_fin, fin_only, rst, truncated_record_then_fin };

struct Script {
  TlsPeersOptions tls;
  bool bytewise = false;  // every TLS byte in its own segment
  bool key_update = false;
  Ending ending = Ending::close_notify_then_fin;
};

// A capture of one TLS leg, written as TCP segments with 1 ms between flights.
class TlsCapture {
 public:
  TlsCapture() : conv_(cap_, {"127.0.0.1", 50000}, {"127.0.0.1", 8443}) {
    conv_.handshake(kEpoch);
    t_ = kEpoch + ms(1);
  }
  bool bytewise = false;
  void wire(Side from, const std::string& bytes) {
    if (bytewise) {
      for (char c : bytes) {
        conv_.send(from, t_, std::string(1, c));
        t_ += 1000;
      }
    } else {
      conv_.send(from, t_, bytes);
    }
    t_ += ms(1);
  }
  Conversation& conv() { return conv_; }
  Nanos now() const { return t_; }
  void advance(Nanos d) { t_ += d; }
  std::string write(std::string_view name) const {
    const std::string path = test::temp_path(name);
    cap_.write(path);
    return path;
  }
  // As pcapng with `key_log` in a Decryption Secrets Block after the interface, as `editcap
  // --inject-secrets tls,FILE` places it.
  std::string write_pcapng_with_secrets(std::string_view name, const std::string& key_log) const {
    const std::string path = test::temp_path(name);
    cap_.write_pcapng(path);
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto u32 = [&](std::size_t at) {
      std::uint32_t v;
      std::memcpy(&v, bytes.data() + at, 4);
      return v;
    };
    auto le32 = [](std::uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
    const std::size_t after_idb = u32(4) + u32(u32(4) + 4);  // SHB, then the IDB
    std::string padded = key_log;
    padded.resize((padded.size() + 3) / 4 * 4, '\0');
    const auto total = static_cast<std::uint32_t>(12 + 8 + padded.size());
    const std::string dsb = le32(10) + le32(total) + le32(0x544c534b) +
                            le32(static_cast<std::uint32_t>(key_log.size())) + padded + le32(total);
    bytes.insert(after_idb, dsb);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return path;
  }

 private:
  CaptureBuilder cap_;
  Conversation conv_;
  Nanos t_ = 0;
};

struct Result {
  std::vector<Connection> legs;
  std::string key_log;
};

Result analyze(const std::string& path, const std::string& key_log) {
  AnalyzerOptions options;
  std::vector<std::string> warnings;
  options.key_log.add_text(key_log, warnings);
  Result r;
  r.key_log = key_log;
  analyze_capture(
      path, [&](Connection&& c) { r.legs.push_back(std::move(c)); }, options);
  return r;
}

// Runs `script` over TLS: upgrade, a server text frame, the server's Close 4321 and the client's
// reply, then the ending. Returns the capture's path and the peers' key log.
std::pair<std::string, std::string> record(const Script& script, std::string_view name) {
  TlsCapture capture;
  capture.bytewise = script.bytewise;
  TlsPeers peers(script.tls, [&](Side from, const std::string& b) { capture.wire(from, b); });
  EXPECT_TRUE(peers.handshake());
  EXPECT_EQ(peers.send(Side::client, wire::upgrade_request("localhost", "/chat", kKey)).size(),
            wire::upgrade_request("localhost", "/chat", kKey).size());
  peers.send(Side::server, wire::upgrade_response(kKey));
  peers.send(Side::server, wire::encode_frame(wire::Opcode::text, "hello"));
  if (script.key_update) {
    peers.key_update(Side::server);
    peers.send(Side::server, wire::encode_frame(wire::Opcode::text, "after the update"));
    peers.key_update(Side::client);
    peers.send(Side::client, wire::encode_frame(wire::Opcode::text, "client updated too", true,
                                                std::array<std::uint8_t, 4>{9, 9, 9, 9}));
  }
  peers.send(Side::server,
             wire::encode_frame(wire::Opcode::close, wire::encode_close_payload(4321, "test")));
  peers.send(Side::client,
             wire::encode_frame(wire::Opcode::close, wire::encode_close_payload(4321, "test"), true,
                                std::array<std::uint8_t, 4>{1, 2, 3, 4}));
  switch (script.ending) {
    case Ending::close_notify_then_fin:
      peers.close_notify(Side::server);
      capture.conv().fin(Side::server, capture.now());
      capture.conv().fin(Side::client, capture.now() + ms(1));
      break;
    case Ending::fin_only:
      capture.conv().fin(Side::server, capture.now());
      capture.conv().fin(Side::client, capture.now() + ms(1));
      break;
    case Ending::rst:
      capture.conv().rst(Side::server, capture.now());
      break;
    case Ending::truncated_record_then_fin:
      capture.wire(Side::server, std::string("\x17\x03\x03\x00\x40"
                                             "abc",
                                             8));
      capture.conv().fin(Side::server, capture.now());
      capture.conv().fin(Side::client, capture.now() + ms(1));
      break;
  }
  return {capture.write(name), peers.key_log()};
}

const Event* find(const Connection& c, Side side, std::string_view kind) {
  for (const Event& e : c.events) {
    if (e.from == side && e.kind == kind) return &e;
  }
  return nullptr;
}

int count(const Connection& c, std::string_view kind) {
  int n = 0;
  for (const Event& e : c.events) n += e.kind == kind ? 1 : 0;
  return n;
}

std::string timeline(const Connection& c) {
  std::string out;
  for (const Event& e : c.events) {
    out += std::string(to_string(e.from)) + " " + e.kind + " " + e.text + " " + e.note + "\n";
  }
  return out;
}

// The decrypted leg reads like a plain one: upgrade, both Close frames, verdicts from them.
void expect_decoded_close(const Connection& leg) {
  SCOPED_TRACE(timeline(leg));
  EXPECT_TRUE(leg.websocket);
  ASSERT_TRUE(leg.tls);
  EXPECT_TRUE(leg.tls->decrypted);
  EXPECT_EQ(leg.tls->sni, "localhost");
  const Event* server_close = find(leg, Side::server, kind::close);
  ASSERT_NE(server_close, nullptr);
  EXPECT_EQ(server_close->code, 4321);
  EXPECT_EQ(server_close->reason, "test");
  const Event* client_close = find(leg, Side::client, kind::close);
  ASSERT_NE(client_close, nullptr);
  EXPECT_EQ(client_close->code, 4321);
  const Event* text = find(leg, Side::server, kind::text);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->text, "hello");
  EXPECT_EQ(count(leg, kind::tls_undecryptable), 0);
  EXPECT_EQ(count(leg, kind::protocol_error), 0);
}

struct SuiteCase {
  const char* name;
  TlsPeersOptions tls;
  std::string handshake_text;
};

class TlsSuites : public testing::TestWithParam<SuiteCase> {};

TEST_P(TlsSuites, DecryptsTheUpgradeFramesAndCloseAndJudgesThem) {
  const SuiteCase& c = GetParam();
  Script script;
  script.tls = c.tls;
  const auto [path, keys] = record(script, std::string("tls-") + c.name + ".pcap");
  const Result r = analyze(path, keys);
  ASSERT_EQ(r.legs.size(), 1u);
  const Connection& leg = r.legs[0];
  expect_decoded_close(leg);
  const Event* hello = find(leg, Side::server, kind::tls_handshake);
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->text, c.handshake_text);
  EXPECT_EQ(hello->note, "sni=localhost");
  EXPECT_EQ(leg.tls->version + " " + leg.tls->cipher, c.handshake_text);
  EXPECT_NE(find(leg, Side::server, kind::tls_close_notify), nullptr);
  const Verdict chrome = judge(leg, Profile::chrome);
  EXPECT_EQ(chrome.code, 4321);
  EXPECT_TRUE(chrome.was_clean);
  EXPECT_FALSE(chrome.undecided);
}

INSTANTIATE_TEST_SUITE_P(
    Suites, TlsSuites,
    testing::Values(
        SuiteCase{"tls13_aes128",
                  {0, "TLS_AES_128_GCM_SHA256", "", "", "localhost"},
                  "TLS 1.3 TLS_AES_128_GCM_SHA256"},
        SuiteCase{"tls13_aes256",
                  {0, "TLS_AES_256_GCM_SHA384", "", "", "localhost"},
                  "TLS 1.3 TLS_AES_256_GCM_SHA384"},
        SuiteCase{"tls13_chacha",
                  {0, "TLS_CHACHA20_POLY1305_SHA256", "", "", "localhost"},
                  "TLS 1.3 TLS_CHACHA20_POLY1305_SHA256"},
        SuiteCase{"tls12_aes128",
                  {TLS1_2_VERSION, "", "ECDHE-ECDSA-AES128-GCM-SHA256", "", "localhost"},
                  "TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
        SuiteCase{"tls12_aes256",
                  {TLS1_2_VERSION, "", "ECDHE-ECDSA-AES256-GCM-SHA384", "", "localhost"},
                  "TLS 1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
        SuiteCase{"tls12_chacha",
                  {TLS1_2_VERSION, "", "ECDHE-ECDSA-CHACHA20-POLY1305", "", "localhost"},
                  "TLS 1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}),
    [](const testing::TestParamInfo<SuiteCase>& info) { return std::string(info.param.name); });

TEST(TlsLeg, KeyUpdateIsFollowedBothWays) {
  Script script;
  script.key_update = true;
  const auto [path, keys] = record(script, "tls-key-update.pcap");
  const Result r = analyze(path, keys);
  ASSERT_EQ(r.legs.size(), 1u);
  expect_decoded_close(r.legs[0]);
  EXPECT_EQ(count(r.legs[0], kind::text), 3);
}

TEST(TlsLeg, RecordsSplitOneBytePerSegment) {
  Script script;
  script.bytewise = true;
  const auto [path, keys] = record(script, "tls-bytewise.pcap");
  const Result r = analyze(path, keys);
  ASSERT_EQ(r.legs.size(), 1u);
  expect_decoded_close(r.legs[0]);
}

// HTTP/2 inside TLS, every plaintext byte its own record (one SSL_write each): the preface, the
// CONNECT's HEADERS, the 200 and HAProxy's Close + END_STREAM + RST_STREAM are cut across
// records at every byte, and the stream leg is still found whole.
TEST(TlsLeg, H2FramesSplitAcrossRecordsAtEveryByte) {
  TlsCapture capture;
  TlsPeers peers({}, [&](Side from, const std::string& b) { capture.wire(from, b); });
  ASSERT_TRUE(peers.handshake());
  const auto bytewise = [&](Side from, const std::string& bytes) {
    for (char c : bytes) peers.send(from, std::string(1, c));
  };
  test::HpackEncoder client_hpack;
  test::HpackEncoder server_hpack;
  bytewise(Side::client,
           std::string(wire::kH2Preface) + test::h2_frame(0x4, 0, 0, "") +
               test::h2_frame(0x1, 0x4, 1, client_hpack.block(test::websocket_connect("/chat"))));
  bytewise(Side::server, test::h2_settings_enable_connect() +
                             test::h2_frame(0x1, 0x4, 1, server_hpack.block({{":status", "200"}})));
  bytewise(Side::server,
           test::h2_frame(
               0x0, 0, 1,
               wire::encode_frame(wire::Opcode::close, wire::encode_close_payload(4321, "test"))) +
               test::h2_frame(0x0, 0x1, 1, "") + test::h2_frame(0x3, 0, 1, test::h2_u32(8)));
  const Result r = analyze(capture.write("tls-h2-bytewise.pcap"), peers.key_log());
  ASSERT_EQ(r.legs.size(), 2u);
  EXPECT_TRUE(r.legs[0].h2_connection);
  EXPECT_TRUE(r.legs[0].tls && r.legs[0].tls->decrypted);
  const Connection& stream = r.legs[1];
  EXPECT_EQ(stream.h2_stream, 1u);
  EXPECT_TRUE(stream.websocket);
  EXPECT_TRUE(stream.tls.has_value());
  std::vector<std::string> kinds;
  for (const Event& e : stream.events)
    kinds.push_back(std::string(to_string(e.from)) + " " + e.kind);
  const std::vector<std::string> want = {"client http.upgrade", "server http.upgrade",
                                         "server ws.close", "server h2.end_stream",
                                         "server h2.rst_stream"};
  EXPECT_EQ(kinds, want) << timeline(stream);
  EXPECT_EQ(stream.events[2].code, 4321);
  EXPECT_EQ(judge(stream, Profile::chrome).code, 1006);
}

TEST(TlsLeg, FinWithoutCloseNotify) {
  Script script;
  script.ending = Ending::fin_only;
  const auto [path, keys] = record(script, "tls-fin-only.pcap");
  const Result r = analyze(path, keys);
  ASSERT_EQ(r.legs.size(), 1u);
  const Connection& leg = r.legs[0];
  expect_decoded_close(leg);
  EXPECT_EQ(count(leg, kind::tls_close_notify), 0);
  EXPECT_NE(find(leg, Side::server, kind::fin), nullptr);
  // close_notify does not change a verdict (for now): the FIN after the handshake is clean.
  const Verdict chrome = judge(leg, Profile::chrome);
  EXPECT_EQ(chrome.code, 4321);
  EXPECT_TRUE(chrome.was_clean);
}

TEST(TlsLeg, TruncatedRecordAtFinIsNotedOnTheFin) {
  Script script;
  script.ending = Ending::truncated_record_then_fin;
  const auto [path, keys] = record(script, "tls-truncated.pcap");
  const Result r = analyze(path, keys);
  ASSERT_EQ(r.legs.size(), 1u);
  const Connection& leg = r.legs[0];
  expect_decoded_close(leg);
  const Event* fin = find(leg, Side::server, kind::fin);
  ASSERT_NE(fin, nullptr);
  EXPECT_NE(fin->note.find("TLS record cut off by the FIN: 8 of 69 bytes"), std::string::npos)
      << fin->note;
}

TEST(TlsLeg, RstAfterTheCloseIsJudgedLikeAPlainLeg) {
  Script script;
  script.ending = Ending::rst;
  const auto [path, keys] = record(script, "tls-rst.pcap");
  const Result r = analyze(path, keys);
  ASSERT_EQ(r.legs.size(), 1u);
  expect_decoded_close(r.legs[0]);
  const Verdict chrome = judge(r.legs[0], Profile::chrome);
  EXPECT_EQ(chrome.code, 4321);
  EXPECT_FALSE(chrome.was_clean);
}

TEST(TlsLeg, NoKeyLogLeavesTheLegUndecidedWithItsTcpEvents) {
  const auto [path, keys] = record(Script{}, "tls-no-keys.pcap");
  (void)keys;
  const Result r = analyze(path, "");
  ASSERT_EQ(r.legs.size(), 1u);
  const Connection& leg = r.legs[0];
  SCOPED_TRACE(timeline(leg));
  EXPECT_FALSE(leg.websocket);
  ASSERT_TRUE(leg.tls);
  EXPECT_FALSE(leg.tls->decrypted);
  EXPECT_EQ(leg.tls->version, "TLS 1.3");
  EXPECT_EQ(count(leg, kind::tls_undecryptable), 2);  // once per direction
  const Event* why = find(leg, Side::server, kind::tls_undecryptable);
  ASSERT_NE(why, nullptr);
  EXPECT_EQ(why->note, "no key for this TLS session");
  EXPECT_NE(find(leg, Side::server, kind::fin), nullptr);
  EXPECT_EQ(count(leg, kind::close), 0);
  for (const Verdict& v : judge_all(leg)) {
    EXPECT_TRUE(v.undecided);
    EXPECT_FALSE(v.closed);
    EXPECT_FALSE(v.code);
    EXPECT_EQ(v.why, "no key for this TLS session");
  }
}

TEST(TlsLeg, KeyLogOfAnotherSessionIsNoKey) {
  const auto [path, keys] = record(Script{}, "tls-this.pcap");
  const auto [other_path, other_keys] = record(Script{}, "tls-other.pcap");
  (void)keys;
  (void)other_path;
  const Result r = analyze(path, other_keys);
  ASSERT_EQ(r.legs.size(), 1u);
  const Event* why = find(r.legs[0], Side::client, kind::tls_undecryptable);
  ASSERT_NE(why, nullptr);
  EXPECT_EQ(why->note, "no key for this TLS session");
  EXPECT_TRUE(judge(r.legs[0], Profile::firefox).undecided);
}

TEST(TlsLeg, SecretsThatDoNotDecryptAreSaidSo) {
  const auto [path, keys] = record(Script{}, "tls-wrong.pcap");
  // Same client random, other secrets: every secret's first hex digit changed.
  std::string wrong;
  std::size_t start = 0;
  while (start < keys.size()) {
    std::size_t end = keys.find('\n', start);
    std::string line = keys.substr(start, end - start);
    const std::size_t last = line.rfind(' ');
    if (last != std::string::npos) line[last + 1] = line[last + 1] == '0' ? '1' : '0';
    wrong += line + "\n";
    start = end + 1;
  }
  const Result r = analyze(path, wrong);
  ASSERT_EQ(r.legs.size(), 1u);
  const Event* why = find(r.legs[0], Side::server, kind::tls_undecryptable);
  ASSERT_NE(why, nullptr);
  EXPECT_EQ(why->note, "the key log's secrets do not decrypt this session");
  EXPECT_EQ(judge(r.legs[0], Profile::chrome).why, why->note);
}

TEST(TlsLeg, OnlyApplicationSecretsFindTheirFirstRecord) {
  const auto [path, keys] = record(Script{}, "tls-app-only.pcap");
  std::string app_only;
  std::size_t start = 0;
  while (start < keys.size()) {
    const std::size_t end = keys.find('\n', start);
    const std::string line = keys.substr(start, end - start);
    if (line.find("HANDSHAKE") == std::string::npos) app_only += line + "\n";
    start = end + 1;
  }
  const Result r = analyze(path, app_only);
  ASSERT_EQ(r.legs.size(), 1u);
  expect_decoded_close(r.legs[0]);
}

TEST(TlsLeg, PcapngDecryptionSecretsBlockIsUsed) {
  TlsCapture capture;
  TlsPeers peers(TlsPeersOptions{},
                 [&](Side from, const std::string& b) { capture.wire(from, b); });
  ASSERT_TRUE(peers.handshake());
  peers.send(Side::client, wire::upgrade_request("localhost", "/chat", kKey));
  peers.send(Side::server, wire::upgrade_response(kKey));
  peers.send(Side::server, wire::encode_frame(wire::Opcode::text, "hello"));
  peers.send(Side::server,
             wire::encode_frame(wire::Opcode::close, wire::encode_close_payload(4321, "test")));
  peers.send(Side::client,
             wire::encode_frame(wire::Opcode::close, wire::encode_close_payload(4321, "test"), true,
                                std::array<std::uint8_t, 4>{1, 2, 3, 4}));
  const Result r =
      analyze(capture.write_pcapng_with_secrets("tls-dsb.pcapng", peers.key_log()), "");
  ASSERT_EQ(r.legs.size(), 1u);
  expect_decoded_close(r.legs[0]);
}

TEST(TlsLeg, HandshakeFailureAlert) {
  TlsCapture capture;
  TlsPeersOptions options;
  options.ciphersuites = "TLS_AES_128_GCM_SHA256";
  options.server_ciphersuites = "TLS_AES_256_GCM_SHA384";
  TlsPeers peers(options, [&](Side from, const std::string& b) { capture.wire(from, b); });
  EXPECT_FALSE(peers.handshake());
  capture.conv().fin(Side::server, capture.now());
  const Result r = analyze(capture.write("tls-alert.pcap"), peers.key_log());
  ASSERT_EQ(r.legs.size(), 1u);
  const Event* alert = find(r.legs[0], Side::server, kind::tls_alert);
  ASSERT_NE(alert, nullptr) << timeline(r.legs[0]);
  EXPECT_EQ(alert->text, "fatal handshake_failure");
  EXPECT_TRUE(r.legs[0].tls);
}

}  // namespace
}  // namespace closewire
