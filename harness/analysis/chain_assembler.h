// Chains while a capture is read: legs arrive in SYN order (analyze_capture's promise), a chain is
// handed out as soon as no later leg can join it, so memory is bounded by the chains open at one
// time, not by the capture's size.
#pragma once

#include <functional>
#include <vector>

#include "harness/analysis/chain.h"
#include "harness/analysis/connection.h"

namespace closewire {

struct AssembledChain {
  std::vector<Connection> legs;  // the chain's legs, client-facing first
  Chain chain;                   // chain.legs index `legs` (0, 1, ...)
};

class ChainAssembler {
 public:
  using Sink = std::function<void(AssembledChain&&)>;
  explicit ChainAssembler(Sink sink) : sink_(std::move(sink)) {}

  // The next leg in SYN order; a WebSocket leg is kept until its chain goes out.
  void add(const Connection& leg);
  void add(Connection&& leg);
  // The capture ended: every chain still open goes out.
  void finish();

 private:
  // Hands out the chains no leg starting at `cursor` or later can join: an upstream leg starts
  // before its downstream's 101, so once the cursor passes every 101 of a chain it is whole.
  void flush(Nanos cursor);

  // Before a leg is kept: hands out what the cursor (its SYN) closed, now and then.
  void advance(Nanos cursor);

  Sink sink_;
  std::vector<Connection> pending_;
  Nanos earliest_response_ = 0;  // the earliest 101 among pending legs: nothing to flush before
  std::size_t added_since_flush_ = 0;
};

}  // namespace closewire
