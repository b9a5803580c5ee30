// Client profiles: how a browser-like client behaves around the close and what it reports
// (close-semantics.md §3).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/endpoints/observation.h"

namespace closewire::endpoints {

// Same names as the analyzer's verdict profiles.
enum class ClientProfile : std::uint8_t { chrome, chrome_legacy, firefox, safari, rfc };

std::string_view to_string(ClientProfile p);  // "chrome", "chrome-legacy", "firefox", ...
std::optional<ClientProfile> client_profile_from_string(std::string_view name);

// How long the client waits, after its Close reply, for the server to close TCP before closing it
// itself: Chromium kUnderlyingConnectionCloseTimeoutSeconds = 2 s, Gecko kLingeringCloseTimeout =
// 1 s; Safari and a plain RFC 6455 client wait for the server (nullopt).
std::optional<std::chrono::milliseconds> default_close_timeout(ClientProfile p);

// What the client's close event says.
struct ClientOutcome {
  std::optional<std::uint16_t> code;
  std::string reason;
  bool was_clean = false;
  std::string why;  // the observation that decided it
};

// Judges a client's own observations (its log, in order) under `profile`; nullopt while the
// client has not reached its close event yet.
std::optional<ClientOutcome> judge_outcome(ClientProfile profile,
                                           const std::vector<Observation>& log);

}  // namespace closewire::endpoints
