// Sweeps: dimensions, ranges, `when` rules and points; every bad input an error with its place.
#include "harness/scenario/sweep.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/spec/spec_error.h"

namespace closewire {
namespace {

const std::string kBase = R"(about: two envoys
client: { profile: chrome-legacy }
proxies:
  - { name: gateway, model: envoy, delayed_close_timeout: 1s, no_delay_close_for_upgrades: false }
  - { name: sidecar, model: envoy, delayed_close_timeout: 1s, no_delay_close_for_upgrades: false }
server: {}
expect:
  - verdict: { profile: safari, code: 4321 }
)";

std::string write(const std::string& text) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "sweeps";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "sw.yaml").string();
  std::ofstream(path) << text;
  return path;
}

Sweep load(const std::string& sweep_block, SweepOptions options = {}) {
  return load_sweep(write(kBase + sweep_block), options);
}

std::string error_of(const std::string& sweep_block, SweepOptions options = {}) {
  try {
    load(sweep_block, options);
  } catch (const SpecError& e) {
    const std::string msg = e.what();
    const auto at = msg.find("sw.yaml");
    return at == std::string::npos ? msg : msg.substr(at);
  }
  return "no error";
}

TEST(Sweep, ExpandsEveryCombinationLastKeyFastest) {
  const Sweep s = load(R"(sweep:
  vary:
    "proxies[*].delayed_close_timeout": [0s, 1s]
    client.profile: [chrome, chrome-legacy, firefox]
)");
  ASSERT_EQ(s.points.size(), 6u);
  EXPECT_EQ(s.total_points, 6u);
  EXPECT_EQ(s.points[1].value_of, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(s.points[3].value_of, (std::vector<std::size_t>{1, 0}));
  EXPECT_EQ(s.points[3].scenario.client.profile, Profile::chrome);
  const auto& gateway = std::get<endpoints::EnvoyModel>(s.points[3].scenario.proxies[0].kind);
  const auto& sidecar = std::get<endpoints::EnvoyModel>(s.points[0].scenario.proxies[1].kind);
  EXPECT_EQ(gateway.delayed_close_timeout, Millis(1000));
  EXPECT_EQ(sidecar.delayed_close_timeout, Millis(0));
  EXPECT_EQ(s.points[0].scenario.name, "sweeps-sw-p1");
  EXPECT_EQ(sweep_point_label(s, s.points[5]),
            "proxies[*].delayed_close_timeout=1s, client.profile=firefox");
  EXPECT_EQ(s.points[0].scenario.expectations.size(), 1u);  // the file's own
}

TEST(Sweep, RangesIncludeBothEnds) {
  EXPECT_EQ(expand_sweep_range("0s..1s/250ms"),
            (std::vector<std::string>{"0ms", "250ms", "500ms", "750ms", "1s"}));
  EXPECT_EQ(expand_sweep_range("1..3/1"), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(expand_sweep_range("0ms..10ms/4ms"), (std::vector<std::string>{"0ms", "4ms", "8ms"}));
  EXPECT_THROW(expand_sweep_range("0s..1s/0s"), std::invalid_argument);
  EXPECT_THROW(expand_sweep_range("0s..1s/-1ms"), std::invalid_argument);
  EXPECT_THROW(expand_sweep_range("1s..0s/1ms"), std::invalid_argument);
  EXPECT_THROW(expand_sweep_range("0s..1/1"), std::invalid_argument);
  EXPECT_THROW(expand_sweep_range("0s..1s"), std::invalid_argument);
  EXPECT_THROW(expand_sweep_range("0s..100s/1ms"), std::invalid_argument);  // 100,001 values
}

TEST(Sweep, WhenRulesAddExpectationsToTheirPointsOnly) {
  const Sweep s = load(R"(sweep:
  vary:
    "proxies[*].delayed_close_timeout": "0s..1s/500ms"
    client.profile: [chrome, chrome-legacy]
  expect:
    - when: { "proxies[*].delayed_close_timeout": ">= 1000ms", client.profile: chrome-legacy }
      verdict: { profile: chrome-legacy, code: 1006 }
    - when: { client.profile: [chrome] }
      verdict: { profile: chrome, code: 4321 }
    - verdict: { profile: firefox, code: 4321 }
)");
  ASSERT_EQ(s.points.size(), 6u);
  ASSERT_EQ(s.rules.size(), 3u);
  // (0s, chrome) (0s, legacy) (500ms, chrome) (500ms, legacy) (1s, chrome) (1s, legacy)
  const std::vector<std::size_t> expected = {3, 2, 3, 2, 3, 3};
  for (std::size_t i = 0; i < s.points.size(); ++i)
    EXPECT_EQ(s.points[i].scenario.expectations.size(), expected[i]) << i;
  EXPECT_EQ(s.points[5].scenario.expectations[1].code, 1006);
  EXPECT_NE(s.points[5].scenario.expectations[1].text.find("when proxies[*].delayed_close_timeout"),
            std::string::npos);
}

TEST(Sweep, TheCommandLineAddsAndReplacesDimensionsAndShardsSplitThePoints) {
  SweepOptions o;
  o.vary = {"client.profile=chrome,firefox", "proxies[gateway].latency=[0ms, 5ms, 10ms]"};
  const Sweep s = load(R"(sweep:
  vary:
    client.profile: [safari]
)",
                       o);
  ASSERT_EQ(s.dimensions.size(), 2u);
  EXPECT_EQ(s.dimensions[0].values.size(), 2u);
  EXPECT_EQ(s.dimensions[0].where, "--vary client.profile");
  EXPECT_EQ(s.points.size(), 6u);
  o.shard = 2;
  o.shards = 4;
  const Sweep shard = load("sweep: { vary: { client.profile: [safari] } }\n", o);
  EXPECT_EQ(shard.total_points, 6u);
  ASSERT_EQ(shard.points.size(), 2u);  // points 1 and 5 (0-based)
  EXPECT_EQ(shard.points[0].index, 1u);
  EXPECT_EQ(shard.points[1].index, 5u);
}

TEST(Sweep, BadInputIsAnErrorAtItsPlace) {
  EXPECT_EQ(error_of("sweep:\n  vary:\n    client.profile: []\n"),
            "sw.yaml:11:21: client.profile: an empty dimension (no values)");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    \"proxies[*].latency\": \"0ms..10ms/0ms\"\n"),
            "sw.yaml:11:27: proxies[*].latency: '0ms..10ms/0ms': the step must be more than zero");
  EXPECT_EQ(
      error_of("sweep:\n  vary:\n    \"proxies[*].delay_close\": [1s]\n"),
      "sw.yaml:11:5: key 'proxies[*].delay_close' = 1s: unknown key 'delay_close' in an envoy "
      "proxy (allowed: name, model, delayed_close_timeout, no_delay_close_for_upgrades, "
      "reset_on_upstream_reset, latency, tls, h2_reset_after_end_stream)");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    \"proxies[edge].latency\": [1s]\n"),
            "sw.yaml:11:5: key 'proxies[edge].latency': no item named 'edge' in 'proxies' (names: "
            "gateway, sidecar)");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    client.profile: [chrome, chrom]\n"),
            "sw.yaml:11:30: client.profile = chrom: unknown profile 'chrom' (chrome, "
            "chrome-legacy, firefox, safari, rfc)");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    client.profile: [chrome]\n  expect:\n    - when: { "
                     "client.close_timeout: 1s }\n      verdict: { code: 1006 }\n"),
            "sw.yaml:13:15: 'client.close_timeout' is not varied (varied: client.profile)");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    client.profile: [chrome]\n  expect:\n    - when: { "
                     "client.profile: firefox }\n      verdict: { code: 1006 }\n"),
            "sw.yaml:13:31: 'firefox' is not a value of client.profile (chrome)");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    client.profile: [chrome]\n  expect:\n    - when: { "
                     "client.profile: \">= 1s\" }\n      verdict: { code: 1006 }\n"),
            "sw.yaml:13:31: client.profile: >= 1s cannot compare client.profile's value 'chrome' "
            "with 1s");
  EXPECT_EQ(error_of("sweep:\n  vary:\n    \"proxies[*].latency\": \"0ms..99ms/1ms\"\n    "
                     "\"proxies[gateway].delayed_close_timeout\": \"0ms..101ms/1ms\"\n"),
            "sw.yaml: the sweep has 10200 points, more than 10000 (raise --max-points to run it)");
  SweepOptions bad_vary;
  bad_vary.vary = {"client.profile="};
  EXPECT_EQ(error_of("sweep: { vary: { client.profile: [chrome] } }\n", bad_vary),
            "--vary client.profile=: an empty dimension (no values)");
  EXPECT_EQ(error_of("sweep: { vary: {} }\n"),
            "sw.yaml:9:8: a sweep varies at least one key (vary: {KEY: [VALUES]})");
}

TEST(Sweep, ASweepFileIsNotAScenarioForRun) {
  const std::string path = write(kBase + "sweep: { vary: { client.profile: [chrome] } }\n");
  EXPECT_TRUE(is_sweep_file(path));
  try {
    load_scenario(path);
    FAIL() << "loaded";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("this file is a sweep: run it with 'closewire sweep"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(is_sweep_file(write(kBase)));
}

}  // namespace
}  // namespace closewire
