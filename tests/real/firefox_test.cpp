// How Firefox is started and where its WebDriver BiDi endpoint is found (no browser needed).
#include "harness/real/firefox.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace closewire::real {
namespace {

TEST(Firefox_Command, HeadlessWithTheRunsProfileAndBiDiOnAFreePort) {
  const auto cmd = firefox_command(kFirefoxPath, "/tmp/closewire-firefox-x");
  EXPECT_EQ(cmd,
            (std::vector<std::string>{kFirefoxPath, "--headless", "--no-remote", "--profile",
                                      "/tmp/closewire-firefox-x", "--remote-debugging-port=0"}));
  EXPECT_STREQ(kFirefoxPath, "/usr/bin/firefox-esr");
  EXPECT_STREQ(kFirefoxPackage, "firefox-esr");
}

TEST(Firefox_Command, WritesItsTlsSecretsWhereAsked) {
  const auto cmd = firefox_command(kFirefoxPath, "/tmp/p", "/tmp/p/ssl-keys.log");
  ASSERT_GE(cmd.size(), 3u);
  EXPECT_EQ(cmd[0], "/usr/bin/env");
  EXPECT_EQ(cmd[1], "SSLKEYLOGFILE=/tmp/p/ssl-keys.log");
  EXPECT_EQ(cmd[2], kFirefoxPath);
  EXPECT_EQ(cmd.back(), "--remote-debugging-port=0");
}

TEST(Firefox_ListeningLine, GivesTheEndpoint) {
  EXPECT_EQ(bidi_listening_url("WebDriver BiDi listening on ws://127.0.0.1:41879"),
            "ws://127.0.0.1:41879");
  EXPECT_EQ(bidi_listening_url("WebDriver BiDi listening on ws://127.0.0.1:41879\r"),
            "ws://127.0.0.1:41879");
  EXPECT_EQ(bidi_listening_url("WebDriver BiDi listening on ws://[::1]:9222 "), "ws://[::1]:9222");
}

TEST(Firefox_ListeningLine, IgnoresEveryOtherLine) {
  EXPECT_FALSE(bidi_listening_url("*** You are running in headless mode."));
  EXPECT_FALSE(bidi_listening_url("DevTools listening on ws://127.0.0.1:9222/devtools/browser/x"));
  EXPECT_FALSE(bidi_listening_url("WebDriver BiDi listening on "));
  EXPECT_FALSE(bidi_listening_url("1796418361729\tRemoteAgent\tINFO\tPerform WebSocket upgrade"));
}

TEST(Firefox_Profile, UserJsIsOnlyPrefsAndComments) {
  const std::string js = firefox_user_js();
  EXPECT_NE(js.find("user_pref(\"app.update.disabledForTesting\", true);"), std::string::npos);
  EXPECT_NE(js.find("user_pref(\"network.proxy.type\", 0);"), std::string::npos);
  std::istringstream lines(js);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_TRUE(line.starts_with("user_pref(\"") || line.starts_with("//")) << line;
    if (line.starts_with("user_pref")) {
      EXPECT_TRUE(line.ends_with(");")) << line;
    }
  }
}

}  // namespace
}  // namespace closewire::real
