// Client profiles: how a browser-like client behaves around the close and what it reports
// (docs/close-semantics.md §3).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/analysis/profile.h"
#include "harness/analysis/verdict.h"
#include "harness/endpoints/observation.h"

namespace closewire::endpoints {

// How long the client waits, after its Close reply, for the server to close TCP before closing it
// itself (the profile's close_timeout, analysis/profile.h); nullopt: it waits for the server.
std::optional<std::chrono::milliseconds> default_close_timeout(Profile p);
// Over TLS, whether the browser sends close_notify when it closes its socket: Chromium does not
// (SSLClientSocketImpl::Disconnect never calls SSL_shutdown, it just disconnects the transport);
// the others do here (NSS's ssl_SecureClose sends one; safari and rfc as a TLS stack would).
bool sends_close_notify(Profile p);

// What the client's close event says.
struct ClientOutcome {
  std::optional<std::uint16_t> code;
  std::string reason;
  bool was_clean = false;
  std::string why;  // the observation that decided it
  std::optional<bool> error_event;  // what a real browser fired; absent for the models
};

// Judges a client's own observations (its log, in order) under `profile`; nullopt while the
// client has not reached its close event yet. `over_h2`: the WebSocket was an h2 stream (RFC 8441),
// its eof an END_STREAM and its read_error a RST_STREAM (§6); the h2 connection's own
// observations (side "connection") say nothing about the WebSocket.
std::optional<ClientOutcome> judge_outcome(Profile profile, const std::vector<Observation>& log,
                                           bool over_h2 = false);

// Whether the client's close event (nullopt: it had none) is the one the capture's verdict
// predicts for its profile: both closed, with the same code and cleanliness.
bool agrees(const std::optional<ClientOutcome>& outcome, const Verdict& verdict);

}  // namespace closewire::endpoints
