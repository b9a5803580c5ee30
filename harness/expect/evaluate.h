// Checks expectations against legs.
#pragma once

#include <string>
#include <vector>

#include "harness/analysis/chain.h"
#include "harness/analysis/connection.h"
#include "harness/analysis/diagnosis.h"
#include "harness/expect/expectation.h"

namespace closewire {

// A leg as expectations see it: its name and what its two sides are called.
struct LegView {
  std::string name;  // "client-gateway" in a scenario, "port 9800 #1" in a replay
  const Connection* connection = nullptr;
  std::string client_name = "client";
  std::string server_name = "server";
};

// A chain as expectations see it: its legs (client-facing first), its hops' facts and names, and
// its diagnoses.
struct ChainView {
  std::vector<std::size_t> legs;  // indices into EvalContext::legs
  Chain chain;                    // chain.legs index the analysed connections
  std::vector<Diagnosis> diagnoses;
  std::vector<std::string> hop_names;  // hops[i]'s name in a scenario; empty in a replay
};

struct EvalContext {
  std::vector<LegView> legs;              // in SYN order
  std::vector<std::size_t> default_legs;  // indices into legs for expectations without `on`
  std::vector<ChainView> chains;          // for hold and mechanism
  double tolerance_scale = 1.0;
};

struct Outcome {
  const Expectation* expectation = nullptr;
  bool passed = false;
  const LegView* leg = nullptr;    // the leg judged (absent when none matched)
  std::string expected;            // failed ones: what was expected ...
  std::string found;               // ... and what the leg showed
  std::vector<std::size_t> marks;  // event indices the finding is about
  // gap expectations with `is`: what was scripted and what the capture showed (timing fidelity)
  std::optional<Nanos> gap_expected;
  std::optional<Nanos> gap_measured;
};

// One outcome per expectation and leg it applies to, in the order of the expectations.
std::vector<Outcome> evaluate(const std::vector<Expectation>& expectations,
                              const EvalContext& context);

bool matches(const EventMatcher& m, const Event& e, const LegView& leg);

}  // namespace closewire
