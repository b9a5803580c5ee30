// Which Chromium build a name means, where it is found and how it is started.
#include "harness/real/chromium.h"

#include <algorithm>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace closewire::real {
namespace {

TEST(Chromium_Builds, BuildsUpTo105AreLegacy) {
  EXPECT_TRUE(chromium_build_is_legacy("92"));
  EXPECT_TRUE(chromium_build_is_legacy("105"));
  EXPECT_FALSE(chromium_build_is_legacy("106"));
  EXPECT_FALSE(chromium_build_is_legacy(""));  // Debian's
  EXPECT_FALSE(chromium_build_is_legacy("x"));
  EXPECT_EQ(chromium_build_major("105"), 105);
  EXPECT_EQ(chromium_build_major("12345"), 0);
  EXPECT_EQ(chromium_build_major("10a"), 0);
}

TEST(Chromium_Builds, OldBuildsRunTheOldHeadlessModeFromTheCache) {
  ::setenv("CLOSEWIRE_CHROMIUM_CACHE", "/tmp/cw-cache", 1);
  EXPECT_EQ(chromium_binary("105"), "/tmp/cw-cache/105/chromium");
  EXPECT_EQ(chromium_binary(""), kChromiumPath);
  ::unsetenv("CLOSEWIRE_CHROMIUM_CACHE");
  EXPECT_EQ(chromium_binary("106"), std::string(kChromiumCacheDefault) + "/106/chromium");
  const auto old_cmd = chromium_command("105", "/c/105/chromium", "/tmp/p");
  EXPECT_EQ(old_cmd[1], "--headless");
  const auto new_cmd = chromium_command("", kChromiumPath, "/tmp/p");
  EXPECT_EQ(new_cmd[1], "--headless=new");
}

TEST(Chromium_Builds, TrustsOnlyTheLeafItIsGiven) {
  const auto plain = chromium_command("", kChromiumPath, "/tmp/p");
  for (const auto& arg : plain) EXPECT_FALSE(arg.starts_with("--ignore-certificate-errors")) << arg;
  const auto wss = chromium_command("", kChromiumPath, "/tmp/p", "AbC+/=");
  EXPECT_EQ(std::count(wss.begin(), wss.end(), "--ignore-certificate-errors-spki-list=AbC+/="), 1);
  EXPECT_EQ(std::count_if(wss.begin(), wss.end(),
                          [](const std::string& a) { return a.starts_with("--ssl-key-log-file"); }),
            0);
  const auto logged = chromium_command("", kChromiumPath, "/tmp/p", "AbC+/=", "/tmp/p/keys.log");
  EXPECT_EQ(std::count(logged.begin(), logged.end(), "--ssl-key-log-file=/tmp/p/keys.log"), 1);
  // Never the blanket switch, which would also accept any other certificate.
  EXPECT_EQ(std::count(wss.begin(), wss.end(), "--ignore-certificate-errors"), 0);
}

}  // namespace
}  // namespace closewire::real
