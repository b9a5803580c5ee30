// Diagnosis: why a chain's close went the way it did — the mechanism (a stable id from the
// catalogue in docs/diagnosis.md §3), where it started, what each browser reports because of it,
// and the knob that fixes it per product (§4).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/analysis/chain.h"
#include "harness/analysis/profile.h"
#include "harness/analysis/verdict.h"

namespace closewire {

// The catalogue's ids: clean, close-timeout, reset-before-reply, reset-after-reply,
// fin-before-reply, no-close-frame, frame-after-close, protocol-error, no-status-code, open.
std::vector<std::string_view> mechanism_ids();

struct Diagnosis {
  std::string mechanism;  // a catalogue id
  std::string origin;     // "client", "server" or "hop:N" (N indexes Chain::hops)
  // The profiles whose report this mechanism makes other than (the server's code, clean), with
  // what they report; in kProfiles order.
  std::vector<std::pair<Profile, Verdict>> affects;
  std::string summary;       // one or two sentences in plain words, with the times that show it
  std::vector<std::string> fix;  // what to change, per product where known
  // Public reports with the same mechanism and origin (known_reports.h): "istio/istio#29172".
  std::vector<std::string> known_reports;
};

// The mechanisms of `chain` (legs are indices into `legs`), judged on its client-facing leg and
// attributed along the chain; the one that decides the browsers' report first. Never empty for
// a WebSocket chain.
std::vector<Diagnosis> diagnose(const std::vector<Connection>& legs, const Chain& chain);

}  // namespace closewire
