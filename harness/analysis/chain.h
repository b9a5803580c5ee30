// Chains: the legs of one end-to-end WebSocket connection (client-facing leg first, then each leg a
// proxy opened upstream for it), stitched from packets alone, and the facts of each hop between
// two legs (docs/diagnosis.md §1, §2).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "harness/analysis/connection.h"

namespace closewire {

// A proxy between legs[i] (its downstream, where it is the server side) and legs[i + 1] (its
// upstream, where it is the client side).
struct Hop {
  // From the first FIN/RST it received from upstream (the server side of legs[i + 1]) to the
  // first FIN/RST it sent downstream (the server side of legs[i]); nullopt when either is missing
  // or it closed downstream first.
  std::optional<Nanos> hold;
  // How it closed downstream: "fin", "rst", "fin+rst" (an abortive close after its FIN) or
  // "rst-on-data" (its FIN, then an RST answering bytes the client sent after it); empty: it did
  // not close downstream in the capture.
  std::string closed_with;
  // What it sent downstream with no counterpart from upstream before it: "close" (a Close frame),
  // "fin", "rst". An idle timeout or an abortive close shows here; a forwarded close does not.
  std::vector<std::string> originated;
  // For an originated close: the time since the last byte on either leg.
  std::optional<Nanos> idle;
  // The product, when the packets say it ("envoy", "istio-envoy", "nginx"), and how it was
  // recognised ("Server: nginx/1.22.1 in its 101"); empty when they do not.
  std::string product;
  std::string product_evidence;
};

struct Chain {
  // Indices into the capture's legs (the vector find_chains was given), client-facing leg first.
  std::vector<std::size_t> legs;
  std::vector<Hop> hops;  // hops[i] joins legs[i] and legs[i + 1]
  // How the legs were linked: "key" (the same Sec-WebSocket-Key), "timing" (request windows,
  // target and relayed frames), "topology" (given by the scenario); empty for a chain of one.
  std::string linked_by;
  // What keeps the chain from being certain, in words: an ambiguity (a leg that could follow more
  // than one), a leg cut by the capture's start or end, a gap (a missing leg between two).
  std::vector<std::string> notes;
};

// When a leg's upgrade request and its 101 went by (the leg's start where the capture has none).
struct UpgradeWindow {
  Nanos request = 0;
  Nanos response = 0;
};
UpgradeWindow upgrade_window(const Connection& leg);

// The chains of a capture's legs: every WebSocket leg in exactly one chain (a lone leg is a chain
// of one), plain TCP legs in none. Chains are ordered by their first leg.
std::vector<Chain> find_chains(const std::vector<Connection>& legs);

// The chain of a known topology (a scenario run: legs[i] joins hop i-1 and hop i), with its
// hop facts; `legs` are indices into `all`.
Chain chain_of(const std::vector<Connection>& all, std::vector<std::size_t> legs);

// Hop facts of the proxy between `downstream` and `upstream`.
Hop hop_facts(const Connection& downstream, const Connection& upstream);

}  // namespace closewire
