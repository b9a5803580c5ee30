// closewire-gen-capture end to end: generate a capture, replay it with `closewire replay --json`,
// and check that every connection's verdicts match the close pattern it was generated with.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "tests/support/command.h"
#include "tools/gen_capture/generator.h"

namespace closewire::gen {
namespace {

namespace fs = std::filesystem;
using testing::program_from_env;
using testing::run_command;
using testing::slurp;
using testing::TempFolder;

struct Expected {
  int code;
  bool clean;
};

// What each profile reports for each pattern (docs/close-semantics.md §3), written out independently
// of harness/analysis/verdict.cpp.
std::map<std::string, Expected> expected_for(ClosePattern p) {
  const Expected ok{kCloseCode, true};
  switch (p) {
    case ClosePattern::clean:
      return {{"chrome", ok}, {"chrome-legacy", ok}, {"firefox", ok}, {"safari", ok}, {"rfc", ok}};
    case ClosePattern::no_status: {
      const Expected e{1005, true};
      return {{"chrome", e}, {"chrome-legacy", e}, {"firefox", e}, {"safari", e}, {"rfc", e}};
    }
    case ClosePattern::rst_after_reply:  // Chrome: RST after its reply was written
      return {{"chrome", {kCloseCode, false}},
              {"chrome-legacy", {kCloseCode, false}},
              {"firefox", ok},
              {"safari", ok},
              {"rfc", ok}};
    case ClosePattern::rst_before_reply:  // Chrome: the reply's write failed
      return {{"chrome", {1006, false}},
              {"chrome-legacy", {1006, false}},
              {"firefox", {kCloseCode, false}},
              {"safari", ok},
              {"rfc", {kCloseCode, false}}};
    case ClosePattern::client_timeout:  // closed by the 2 s timeout: 1006 up to Chrome 105
      return {{"chrome", ok},
              {"chrome-legacy", {1006, false}},
              {"firefox", ok},
              {"safari", ok},
              {"rfc", ok}};
  }
  return {};
}

// The same patterns over HTTP/2 (docs/close-semantics.md §6): a reset stream after the reply
// changes nothing, and HAProxy's Close + END_STREAM + RST_STREAM before it is 1006 in Firefox too.
std::map<std::string, Expected> expected_for_h2(ClosePattern p) {
  const Expected ok{kCloseCode, true};
  switch (p) {
    case ClosePattern::rst_after_reply:
      return {{"chrome", ok}, {"chrome-legacy", ok}, {"firefox", ok}, {"safari", ok}, {"rfc", ok}};
    case ClosePattern::rst_before_reply:
      return {{"chrome", {1006, false}},
              {"chrome-legacy", {1006, false}},
              {"firefox", {1006, false}},
              {"safari", ok},
              {"rfc", {kCloseCode, false}}};
    default:
      return expected_for(p);
  }
}

// `closewire replay --json` of a capture generated with `flags` (200 connections, seed 7): its
// capture object, or null after a failure was added.
nlohmann::json generate_and_replay(const std::string& flags) {
  const std::string gen = program_from_env("CLOSEWIRE_GEN_CAPTURE_EXE");
  const std::string closewire = program_from_env("CLOSEWIRE_EXE");
  if (gen.empty() || closewire.empty()) {
    ADD_FAILURE() << "CLOSEWIRE_GEN_CAPTURE_EXE or CLOSEWIRE_EXE is not set (run through meson "
                     "test)";
    return nullptr;
  }
  TempFolder dir;
  const fs::path pcap = dir / "gen.pcap";
  const auto made =
      run_command(gen, flags + " --connections 200 --seed 7 --quiet --out " + pcap.string());
  if (made.status != 0) {
    ADD_FAILURE() << "closewire-gen-capture " << flags << ": " << made.err;
    return nullptr;
  }
  const auto replayed = run_command(closewire, "replay --json " + pcap.string());
  if (replayed.status != 0) {
    ADD_FAILURE() << "closewire replay: " << replayed.err;
    return nullptr;
  }
  return nlohmann::json::parse(replayed.out).at("captures").at(0);
}

TEST(GenCapture, ReplayedVerdictsMatchEachConnectionsClosePattern) {
  GeneratorOptions options;
  options.connections = 200;
  options.seed = 7;
  const nlohmann::json capture = generate_and_replay("");
  ASSERT_FALSE(capture.is_null());
  const auto& legs = capture.at("connections");
  ASSERT_EQ(legs.size(), 200u);
  EXPECT_EQ(capture.at("summary").at("connections"), 200);
  EXPECT_EQ(capture.at("summary").at("websockets"), 200);

  std::set<ClosePattern> seen;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    const auto& leg = legs[i];
    const ClosePattern pattern = pattern_for(i, options.seed);
    seen.insert(pattern);
    SCOPED_TRACE("connection " + std::to_string(i) + " (" + std::string(to_string(pattern)) + ")");
    EXPECT_EQ(leg.at("client").get<std::string>(), client_for(i, options).str());
    EXPECT_EQ(leg.at("server").get<std::string>(), "127.0.0.1:8080");
    ASSERT_TRUE(leg.at("websocket").get<bool>());
    for (const auto& [profile, want] : expected_for(pattern)) {
      const auto& v = leg.at("verdicts").at(profile);
      EXPECT_EQ(v.at("code"), want.code) << profile << ": " << v.at("why");
      EXPECT_EQ(v.at("was_clean").get<bool>(), want.clean) << profile << ": " << v.at("why");
      EXPECT_TRUE(v.at("closed").get<bool>()) << profile;
      if (want.code == kCloseCode) {
        EXPECT_EQ(v.at("reason").get<std::string>(), kCloseReason) << profile;
      }
    }
  }
  EXPECT_EQ(seen.size(), kAllPatterns.size()) << "seed 7 should give every pattern in 200 legs";
}

// --h2: every connection is an h2 connection leg followed by its stream's WebSocket leg.
TEST(GenCapture, H2StreamsAreLegsWithTheH2Verdicts) {
  GeneratorOptions options;
  options.seed = 7;
  const nlohmann::json capture = generate_and_replay("--h2");
  ASSERT_FALSE(capture.is_null());
  const auto& legs = capture.at("connections");
  ASSERT_EQ(legs.size(), 400u);
  EXPECT_EQ(capture.at("summary").at("websockets"), 200);
  std::set<ClosePattern> seen;
  for (std::size_t i = 0; i < 200; ++i) {
    const auto& connection = legs[2 * i];
    const auto& stream = legs[2 * i + 1];
    const ClosePattern pattern = pattern_for(i, options.seed);
    seen.insert(pattern);
    SCOPED_TRACE("connection " + std::to_string(i) + " (" + std::string(to_string(pattern)) + ")");
    EXPECT_EQ(connection.at("transport"), "h2");
    EXPECT_FALSE(connection.at("websocket").get<bool>());
    EXPECT_FALSE(connection.contains("stream"));
    EXPECT_EQ(stream.at("transport"), "h2");
    EXPECT_EQ(stream.at("stream"), 1);
    EXPECT_EQ(stream.at("index"), connection.at("index"));
    EXPECT_EQ(stream.at("client").get<std::string>(), client_for(i, options).str());
    ASSERT_TRUE(stream.at("websocket").get<bool>());
    for (const auto& [profile, want] : expected_for_h2(pattern)) {
      const auto& v = stream.at("verdicts").at(profile);
      EXPECT_EQ(v.at("code"), want.code) << profile << ": " << v.at("why");
      EXPECT_EQ(v.at("was_clean").get<bool>(), want.clean) << profile << ": " << v.at("why");
    }
  }
  EXPECT_EQ(seen.size(), kAllPatterns.size());
}

TEST(GenCapture, SameSeedSameBytesOtherSeedOtherBytes) {
  TempFolder dir;
  GeneratorOptions options;
  options.connections = 50;
  const auto a = generate_capture(options, (dir / "a.pcap").string());
  const auto b = generate_capture(options, (dir / "b.pcap").string());
  options.seed = 2;
  generate_capture(options, (dir / "c.pcap").string());
  EXPECT_EQ(a.packets, b.packets);
  EXPECT_EQ(a.bytes, fs::file_size(dir / "a.pcap"));
  EXPECT_EQ(slurp(dir / "a.pcap"), slurp(dir / "b.pcap"));
  EXPECT_NE(slurp(dir / "a.pcap"), slurp(dir / "c.pcap"));
}

TEST(GenCapture, BadArgumentsExitWithStatus2) {
  const std::string gen = program_from_env("CLOSEWIRE_GEN_CAPTURE_EXE");
  ASSERT_FALSE(gen.empty());
  TempFolder dir;
  const std::string out = " --out " + (dir / "x.pcap").string();
  EXPECT_EQ(run_command(gen, "--connections 0" + out).status, 2);
  EXPECT_EQ(run_command(gen, "--connections 5 --spacing soon" + out).status, 2);
  EXPECT_EQ(run_command(gen, "--connections 5 --bogus" + out).status, 2);
  EXPECT_EQ(run_command(gen, "--out /nonexistent-dir/x.pcap --connections 5").status, 2);
  EXPECT_EQ(run_command(gen, "--help").status, 0);
}

TEST(GenCapture, ClientAddressesNeverCollideWhileOpen) {
  GeneratorOptions options;
  options.spacing = 1000;  // 1 us: a pass through the ports takes 28 ms, less than a 2 s timeout
  const auto first = client_for(0, options);
  const auto next_pass = client_for(kClientPorts, options);
  EXPECT_EQ(first.port, next_pass.port);
  EXPECT_NE(first.ip, next_pass.ip);
  options.spacing = kNanosPerMilli;  // 28 s per pass: 127.0.0.1 throughout
  EXPECT_EQ(client_for(kClientPorts, options).str(), "127.0.0.1:32768");
}

}  // namespace
}  // namespace closewire::gen
