// Variants: a scenario run once more with a real peer in a slot (`closewire run --client chromium
// --server node-ws`), named NAME@VARIANT, and the rules that make a variant not applicable.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "harness/real/chromium.h"  // chromium_build_major: what a build name is
#include "harness/real/websocket_probe.h"
#include "harness/scenario/scenario.h"

namespace closewire {

struct VariantRequest {
  // "", "chromium" (Debian's), "chromium-105" (a build from the cache) or "firefox" (Debian's ESR)
  std::string client;
  std::string server;  // "" or "node-ws"
};

// The scenario with the requested real peers in its slots; its name gains "@chromium",
// "@chromium-105", "@firefox", "@node-ws" or "@chromium+node-ws". The scenario's own real peers
// stay where none is requested. A client that parse_real_client rejects throws
// std::invalid_argument (callers validate it first, as `closewire run --client` does).
Scenario make_variant(const Scenario& s, const VariantRequest& request);

// "chromium" -> {"chromium", ""}, "chromium-105" -> {"chromium", "105"}, "firefox" ->
// {"firefox", ""}; nullopt for anything else (a real client's name on the command line).
std::optional<std::pair<std::string, std::string>> parse_real_client(const std::string& name);

// Why the node-ws server cannot play `server` (it only closes on open, with or without a code,
// and then behaves as ws 8 does); empty when it can.
std::string node_ws_unsupported(const ServerSpec& server);

// The close a real browser's page starts itself: the scenario's one client step `at: T` whose
// action is a Close a page may send (real::page_may_close_with). nullopt when there is none.
std::optional<real::PageClose> page_close(const Scenario& s);

// Why this scenario cannot run with its real peers: the file's own skip rule for the variant, or
// a step a real peer cannot take. Empty when it can run.
std::string skip_reason(const Scenario& s);

}  // namespace closewire
