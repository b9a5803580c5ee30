// A chain as the user reads it: its legs on one clock, then a short block in plain words (the
// hops with their holds, the mechanisms, who reports what, the fix), and as JSON beside the
// capture's connections (docs/diagnosis.md §5).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/analysis/chain.h"
#include "harness/analysis/diagnosis.h"
#include "harness/report/text_report.h"

namespace closewire::report {

// The endpoints of a chain in order: "client", each hop, "server". A scenario names its hops
// (gateway, sidecar); a replay says what the packets tell ("hop 1 (nginx)").
std::vector<std::string> endpoint_names(const std::vector<Connection>& legs, const Chain& chain);

// "chain 1  client → gateway (envoy) → sidecar → server", the hops' facts, each diagnosis with
// who reports what and the fix, and the chain's notes. `legs` indexed by chain.legs.
std::string chain_block(std::size_t number, const std::vector<Connection>& legs,
                        const Chain& chain, const std::vector<Diagnosis>& diagnoses,
                        const std::vector<std::string>& names, const TextStyle& style);

// Every leg of the chain on the chain's clock (ms from its first SYN), the browser verdicts on the
// client-facing leg only (`all_verdicts`: on every leg), then chain_block.
std::string chain_text(std::size_t number, const std::vector<Connection>& legs, const Chain& chain,
                       const std::vector<Diagnosis>& diagnoses,
                       const std::vector<std::string>& names, const TextStyle& style,
                       bool all_verdicts);

// {"legs": [Connection::index...], "linked_by", "notes", "hops": [...], "diagnosis": [...]}.
nlohmann::json chain_json(const std::vector<Connection>& legs, const Chain& chain,
                          const std::vector<Diagnosis>& diagnoses);

}  // namespace closewire::report
