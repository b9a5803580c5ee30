// What Chromium's Runtime.evaluate answers are read as (no browser needed).
#include "harness/real/chromium_client.h"

#include <gtest/gtest.h>

namespace closewire::real {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(ChromiumClient_Outcome, ReadsTheValueOrTheException) {
  const json report = {{"open_ms", 2}, {"error_ms", -1},    {"code", 1006},
                       {"reason", ""}, {"wasClean", false}, {"close_ms", 9}};
  const json value = {{"result", {{"type", "object"}, {"value", report}}}};
  const auto o = chromium_evaluation_outcome(value, 1000ms);
  ASSERT_TRUE(o.code);
  EXPECT_EQ(*o.code, 1006);
  EXPECT_FALSE(o.was_clean);
  const json exception = {{"text", "Uncaught"}, {"exception", {{"description", "boom"}}}};
  const auto thrown = chromium_evaluation_outcome({{"exceptionDetails", exception}}, 1000ms);
  EXPECT_FALSE(thrown.code);
  EXPECT_EQ(thrown.error, "the page threw: Uncaught boom");
}

}  // namespace
}  // namespace closewire::real
