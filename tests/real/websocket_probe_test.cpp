// The page's probe and its report, whichever browser runs it.
#include "harness/real/websocket_probe.h"

#include <gtest/gtest.h>

namespace closewire::real {
namespace {

using namespace std::chrono_literals;

TEST(WebSocketProbe, TheScriptQuotesTheUrlAndGivesUp) {
  const std::string js = websocket_probe_script("ws://[::1]:9/a\"b", 2500ms);
  EXPECT_NE(js.find(R"(new WebSocket("ws://[::1]:9/a\"b"))"), std::string::npos) << js;
  EXPECT_NE(js.find("{ timedOut: true })), 2500)"), std::string::npos) << js;
}

// A scenario's `at: 100ms, client: { close: ... }` step, taken by the page itself.
TEST(WebSocketProbe, ThePageClosesOnCueWhenTold) {
  const std::string plain = websocket_probe_script("ws://127.0.0.1:1/", 1000ms);
  EXPECT_EQ(plain.find("ws.close("), std::string::npos);
  const std::string coded =
      websocket_probe_script("ws://127.0.0.1:1/", 1000ms, PageClose{100ms, 4000, "bye \"now\""});
  EXPECT_NE(coded.find("setTimeout(() => ws.close(4000, \"bye \\\"now\\\"\"), 100);"),
            std::string::npos)
      << coded;
  const std::string bare = websocket_probe_script("ws://127.0.0.1:1/", 1000ms, PageClose{20ms});
  EXPECT_NE(bare.find("setTimeout(() => ws.close(), 20);"), std::string::npos) << bare;
  EXPECT_TRUE(page_may_close_with(std::nullopt));
  EXPECT_TRUE(page_may_close_with(1000));
  EXPECT_TRUE(page_may_close_with(4999));
  EXPECT_FALSE(page_may_close_with(1001));
  EXPECT_FALSE(page_may_close_with(5000));
}

TEST(WebSocketProbe, ReadsTheReport) {
  const auto o = probe_outcome({{"open_ms", 1.5},
                                {"error_ms", -1},
                                {"code", 1005},
                                {"reason", ""},
                                {"wasClean", true},
                                {"close_ms", 4}},
                               1000ms);
  ASSERT_TRUE(o.code);
  EXPECT_EQ(*o.code, 1005);
  EXPECT_TRUE(o.was_clean);
  EXPECT_FALSE(o.error_event);
  EXPECT_EQ(describe(o), "1005 '' clean (open 1.5 ms, close 4.0 ms)");
}

TEST(WebSocketProbe, NoReportIsNoCloseEvent) {
  EXPECT_FALSE(probe_outcome(nlohmann::json(), 1000ms).code);
  EXPECT_NE(probe_outcome(nlohmann::json(), 1000ms).error.find("not an object"), std::string::npos);
  const auto o = probe_outcome({{"open_ms", 2}, {"timedOut", true}}, 1000ms);
  EXPECT_FALSE(o.code);
  EXPECT_EQ(describe(o), "the browser reported no close event within 1000 ms");
}

}  // namespace
}  // namespace closewire::real
