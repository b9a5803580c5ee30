// Browser profiles: the one list of the clients closewire judges (verdicts from packets) and
// imitates (endpoints' client models). Adding a profile: a row in kProfiles, its verdict rules
// (analysis/verdict.cpp), its client's behaviour (endpoints/client_profile.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/spec/duration.h"  // Nanos

namespace closewire {

enum class Profile : std::uint8_t { chrome, chrome_legacy, firefox, safari, rfc };

// Chromium websocket_channel.cc kUnderlyingConnectionCloseTimeoutSeconds: after the closing
// handshake it waits this long for the server to close TCP, then closes itself.
inline constexpr Nanos kChromeCloseTimeout = 2 * kNanosPerSecond;
// Gecko WebSocketChannel.cpp kLingeringCloseTimeout.
inline constexpr Nanos kFirefoxCloseTimeout = 1 * kNanosPerSecond;

struct ProfileInfo {
  Profile profile;
  std::string_view name;  // as written in scenarios, expectations, flags and output
  // How long the client waits, after its Close reply, for the server to close TCP before it
  // closes TCP itself; nullopt: it waits for the server (Safari, a plain RFC 6455 client).
  std::optional<Nanos> close_timeout;
};

inline constexpr std::array<ProfileInfo, 5> kProfiles = {{
    {Profile::chrome, "chrome", kChromeCloseTimeout},
    {Profile::chrome_legacy, "chrome-legacy", kChromeCloseTimeout},
    {Profile::firefox, "firefox", kFirefoxCloseTimeout},
    {Profile::safari, "safari", std::nullopt},
    {Profile::rfc, "rfc", std::nullopt},
}};

// Every profile, in kProfiles order (verdict tables, judge_all).
inline constexpr std::array<Profile, kProfiles.size()> kAllProfiles = [] {
  std::array<Profile, kProfiles.size()> all{};
  for (std::size_t i = 0; i < kProfiles.size(); ++i) all[i] = kProfiles[i].profile;
  return all;
}();

const ProfileInfo& info(Profile p);
std::string_view to_string(Profile p);  // "chrome", "chrome-legacy", ...
std::optional<Profile> profile_from_string(std::string_view name);
// "chrome, chrome-legacy, firefox, safari, rfc": for error messages and help.
std::string profile_names();

}  // namespace closewire
