// Verdicts: what a browser (profile) would report for a WebSocket leg, judged from its packets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/analysis/connection.h"

namespace closewire {

enum class Profile : std::uint8_t { chrome, chrome_legacy, firefox, safari, rfc };
inline constexpr std::array<Profile, 5> kAllProfiles = {
    Profile::chrome, Profile::chrome_legacy, Profile::firefox, Profile::safari, Profile::rfc};

std::string_view to_string(Profile p);  // "chrome", "chrome-legacy", ...
std::optional<Profile> profile_from_string(std::string_view name);

// Chromium's kUnderlyingConnectionCloseTimeoutSeconds: after the closing handshake it waits this
// long for the server to close TCP, then closes itself.
inline constexpr Nanos kChromeCloseTimeout = 2 * kNanosPerSecond;
// A client FIN/RST this close to the 2 s mark is the real client's own close timeout firing
// (Chromium fires at ~2003 ms): then the packets' order, not the nominal mark, decides.
inline constexpr Nanos kClientTimeoutSlack = 50 * kNanosPerMilli;

struct Verdict {
  std::optional<std::uint16_t> code;  // the close event's code; absent while the leg is still open
  std::string reason;
  bool was_clean = false;
  bool closed = true;  // false: the capture ends before this client would have reported a close
  std::string why;     // one phrase: which packets decided it
};

// Judges `leg` from its own events only (close-semantics.md §3). The leg's client side is the
// browser, its server side the proxy or server it talks to.
Verdict judge(const Connection& leg, Profile profile);
// judge() for every profile, in kAllProfiles order, reading the leg's events once.
std::array<Verdict, kAllProfiles.size()> judge_all(const Connection& leg);

}  // namespace closewire
