// What Firefox's script.evaluate answers are read as (no browser needed).
#include "harness/real/firefox_client.h"

#include <gtest/gtest.h>

namespace closewire::real {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json success(const std::string& report) {
  return {
      {"realm", "r1"}, {"type", "success"}, {"result", {{"type", "string"}, {"value", report}}}};
}

TEST(FirefoxClient_Expression, TheProbeWithItsReportAsJsonText) {
  const std::string e = firefox_probe_expression("ws://127.0.0.1:9/", 3000ms);
  EXPECT_TRUE(e.starts_with("(" + websocket_probe_script("ws://127.0.0.1:9/", 3000ms) + ")"));
  EXPECT_TRUE(e.ends_with(".then((r) => JSON.stringify(r))"));
}

TEST(FirefoxClient_Outcome, ReadsTheCloseEvent) {
  const auto o = firefox_evaluation_outcome(
      success(R"({"open_ms":-1,"error_ms":55,"code":4321,"reason":"test","wasClean":false,)"
              R"("close_ms":56})"),
      3000ms);
  ASSERT_TRUE(o.code);
  EXPECT_EQ(*o.code, 4321);
  EXPECT_EQ(o.reason, "test");
  EXPECT_FALSE(o.was_clean);
  EXPECT_TRUE(o.error_event);
  EXPECT_EQ(o.open_ms, -1);  // Firefox may close before onopen fires
  EXPECT_EQ(o.close_ms, 56);
  EXPECT_EQ(describe(o), "4321 'test' not clean + error event (open -1.0 ms, close 56.0 ms)");
}

TEST(FirefoxClient_Outcome, NoCloseEventIsAnError) {
  EXPECT_EQ(
      firefox_evaluation_outcome(success(R"({"open_ms":3,"error_ms":-1,"timedOut":true})"), 3000ms)
          .error,
      "the browser reported no close event within 3000 ms");
  const json thrown = {{"realm", "r1"},
                       {"type", "exception"},
                       {"exceptionDetails", {{"text", "SyntaxError: bad URL"}}}};
  const auto o = firefox_evaluation_outcome(thrown, 3000ms);
  EXPECT_FALSE(o.code);
  EXPECT_EQ(o.error, "the page threw: SyntaxError: bad URL");
  const json object = {{"type", "success"},
                       {"result", {{"type", "object"}, {"value", json::array()}}}};
  EXPECT_NE(firefox_evaluation_outcome(object, 3000ms).error.find("did not return the probe's"),
            std::string::npos);
}

}  // namespace
}  // namespace closewire::real
