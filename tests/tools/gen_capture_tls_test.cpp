// closewire-gen-capture --tls end to end: the same seed generated plain and over TLS 1.3 must
// replay (`closewire replay --json`, the key log found beside the capture) to the same WebSocket
// closes and verdicts on every connection, every TLS leg decrypted; without the key log every
// leg is undecryptable and every verdict undecided.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "harness/analysis/key_log_file.h"
#include "tests/support/command.h"
#include "tools/gen_capture/generator.h"

namespace closewire::gen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::program_from_env;
using testing::run_command;
using testing::slurp;
using testing::TempFolder;

constexpr int kConnections = 300;
constexpr int kSeed = 11;

// `closewire replay --json FILE` (NAME.keys beside it is read when present): its one capture.
json replay(const fs::path& pcap) {
  const auto r = run_command(program_from_env("CLOSEWIRE_EXE"), "replay --json " + pcap.string());
  EXPECT_EQ(r.status, 0) << r.err;
  return json::parse(r.out).at("captures").at(0);
}

// What closes the WebSocket: every frame (Close frames with their code and reason), FIN and RST,
// in order, by side. Text frames are included: both modes draw the same messages.
using Step = std::tuple<std::string, std::string, json, json, json>;
std::vector<Step> close_steps(const json& leg) {
  std::vector<Step> steps;
  for (const json& e : leg.at("events")) {
    const std::string kind = e.at("kind");
    if (kind.rfind("ws.", 0) != 0 && kind != "tcp.fin" && kind != "tcp.rst") continue;
    steps.emplace_back(e.at("from"), kind, e.value("code", json()), e.value("reason", json()),
                       e.value("text", json()));
  }
  return steps;
}

std::vector<std::string> kinds_from(const json& leg, const std::string& kind) {
  std::vector<std::string> sides;
  for (const json& e : leg.at("events"))
    if (e.at("kind") == kind) sides.push_back(e.at("from"));
  return sides;
}

class GenCaptureTls : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string gen = program_from_env("CLOSEWIRE_GEN_CAPTURE_EXE");
    ASSERT_FALSE(gen.empty()) << "CLOSEWIRE_GEN_CAPTURE_EXE is not set (run through meson test)";
    ASSERT_FALSE(program_from_env("CLOSEWIRE_EXE").empty()) << "CLOSEWIRE_EXE is not set";
    const std::string common = "--connections " + std::to_string(kConnections) + " --seed " +
                               std::to_string(kSeed) + " --quiet --out ";
    ASSERT_EQ(run_command(gen, common + (dir_ / "plain.pcap").string()).status, 0);
    ASSERT_EQ(run_command(gen, common + (dir_ / "tls.pcap").string() + " --tls").status, 0);
    ASSERT_TRUE(fs::exists(dir_ / "tls.keys")) << "the key log goes beside the capture";
    ASSERT_FALSE(fs::exists(dir_ / "plain.keys"));
    fs::create_directory(dir_ / "no-keys");
    fs::copy_file(dir_ / "tls.pcap", dir_ / "no-keys" / "tls.pcap");
    plain_ = replay(dir_ / "plain.pcap");
    tls_ = replay(dir_ / "tls.pcap");
    no_keys_ = replay(dir_ / "no-keys" / "tls.pcap");
  }

  TempFolder dir_;
  json plain_, tls_, no_keys_;
};

TEST_F(GenCaptureTls, DecryptedLegsCloseExactlyAsThePlainOnes) {
  const json& plain = plain_.at("connections");
  const json& tls = tls_.at("connections");
  ASSERT_EQ(plain.size(), std::size_t{kConnections});
  ASSERT_EQ(tls.size(), std::size_t{kConnections});
  EXPECT_EQ(tls_.at("summary").at("websockets"), kConnections);
  EXPECT_GT(tls_.at("summary").at("packets").get<int>(),
            plain_.at("summary").at("packets").get<int>());
  int close_notifies = 0;
  for (int i = 0; i < kConnections; ++i) {
    const json& p = plain[i];
    const json& t = tls[i];
    const ClosePattern pattern = pattern_for(i, kSeed);
    SCOPED_TRACE("connection " + std::to_string(i) + " (" + std::string(to_string(pattern)) + ")");
    EXPECT_EQ(t.at("client"), p.at("client"));
    EXPECT_EQ(t.at("server"), p.at("server"));
    ASSERT_TRUE(t.at("websocket").get<bool>());
    ASSERT_TRUE(p.at("websocket").get<bool>());
    ASSERT_TRUE(t.contains("tls"));
    EXPECT_FALSE(p.contains("tls"));
    EXPECT_EQ(t.at("tls").at("version"), "TLS 1.3");
    EXPECT_EQ(t.at("tls").at("cipher"), "TLS_AES_128_GCM_SHA256");
    EXPECT_TRUE(t.at("tls").at("decrypted").get<bool>());
    EXPECT_TRUE(kinds_from(t, "tls.undecryptable").empty());
    EXPECT_EQ(kinds_from(t, "tls.handshake").size(), 1u);
    EXPECT_EQ(close_steps(t), close_steps(p));
    // The clean pattern shuts TLS down before the server's FIN; no other pattern does.
    const auto notifies = kinds_from(t, "tls.close_notify");
    if (pattern == ClosePattern::clean) {
      EXPECT_EQ(notifies, std::vector<std::string>{"server"});
      ++close_notifies;
    } else {
      EXPECT_TRUE(notifies.empty());
    }
    for (const auto& [profile, pv] : p.at("verdicts").items()) {
      const json& tv = t.at("verdicts").at(profile);
      for (const char* field : {"code", "reason", "was_clean", "closed"}) {
        EXPECT_EQ(tv.at(field), pv.at(field))
            << profile << " " << field << ": " << tv.at("why") << " / " << pv.at("why");
      }
      EXPECT_FALSE(tv.contains("undecided"));
    }
  }
  EXPECT_GT(close_notifies, 0) << "seed " << kSeed << " should have clean connections";
}

TEST_F(GenCaptureTls, WithoutTheKeyLogEveryLegIsUndecryptableAndUndecided) {
  const json& legs = no_keys_.at("connections");
  ASSERT_EQ(legs.size(), std::size_t{kConnections});
  EXPECT_EQ(no_keys_.at("summary").at("websockets"), 0);
  for (int i = 0; i < kConnections; ++i) {
    const json& leg = legs[i];
    SCOPED_TRACE("connection " + std::to_string(i));
    EXPECT_FALSE(leg.at("websocket").get<bool>());
    ASSERT_TRUE(leg.contains("tls"));
    EXPECT_FALSE(leg.at("tls").at("decrypted").get<bool>());
    EXPECT_EQ(leg.at("tls").at("version"), "TLS 1.3");  // the hellos are in the clear
    // Each direction once, at its first encrypted record: the server's flight comes first.
    EXPECT_EQ(kinds_from(leg, "tls.undecryptable"), (std::vector<std::string>{"server", "client"}));
    ASSERT_TRUE(leg.at("verdicts").is_object());
    for (const auto& [profile, v] : leg.at("verdicts").items()) {
      EXPECT_TRUE(v.value("undecided", false)) << profile;
      EXPECT_FALSE(v.at("closed").get<bool>()) << profile;
      EXPECT_TRUE(v.at("code").is_null()) << profile;
    }
  }
}

TEST(GenCaptureTlsFiles, SameOptionsSameCaptureAndKeyLog) {
  TempFolder dir;
  GeneratorOptions options;
  options.connections = 40;
  options.tls = true;
  const auto a = generate_capture(options, (dir / "a.pcap").string());
  generate_capture(options, (dir / "b.pcap").string());
  EXPECT_EQ(key_log_beside((dir / "a.pcap").string()), (dir / "a.keys").string());
  EXPECT_EQ(a.bytes, fs::file_size(dir / "a.pcap"));
  EXPECT_EQ(slurp(dir / "a.pcap"), slurp(dir / "b.pcap"));
  EXPECT_EQ(slurp(dir / "a.keys"), slurp(dir / "b.keys"));
  // Four secrets per connection, NSS key log lines.
  const std::string keys = slurp(dir / "a.keys");
  EXPECT_EQ(std::count(keys.begin(), keys.end(), '\n'), 4 * 40);
  EXPECT_EQ(keys.rfind("CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 0), 0u);
}

TEST(GenCaptureTlsFiles, ACaptureNamedLikeItsOwnKeyLogIsRefusedBeforeAnythingIsWritten) {
  const std::string gen = program_from_env("CLOSEWIRE_GEN_CAPTURE_EXE");
  ASSERT_FALSE(gen.empty());
  TempFolder dir;
  const auto r = run_command(gen, "-n 5 --tls --out " + (dir / "x.keys").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("cannot be named *.keys"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.keys"));
}

}  // namespace
}  // namespace closewire::gen
