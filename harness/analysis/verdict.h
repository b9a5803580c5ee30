// Verdicts: what a browser (profile) would report for a WebSocket leg, judged from its packets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/analysis/connection.h"
#include "harness/analysis/profile.h"

namespace closewire {

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

// Judges `leg` from its own events only (docs/close-semantics.md §3). The leg's client side is the
// browser, its server side the proxy or server it talks to.
Verdict judge(const Connection& leg, Profile profile);
// judge() for every profile, in kAllProfiles order, reading the leg's events once.
std::array<Verdict, kAllProfiles.size()> judge_all(const Connection& leg);

}  // namespace closewire
