// A sweep: one scenario file with a `sweep:` block, expanded into points (one full live scenario
// each, with its own capture and the scenario's own expectations, plus the `when` rules' ones).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "harness/expect/expectation.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/sweep_key.h"
#include "harness/scenario/variant.h"

namespace closewire {

struct SweepValue {
  std::string text;  // as shown in tables ("1.1s", "chrome-legacy")
  YAML::Node node;   // what is put into the scenario
};

struct SweepDimension {
  SweepKey key;
  std::vector<SweepValue> values;
  std::string where;  // FILE:LINE:COL of the key, or "--vary KEY"
};

// One condition of a `when`: the dimension's value equals one of `values`, or compares to
// `operand` (durations or numbers).
struct SweepCondition {
  enum class Op { any_of, lt, le, gt, ge, ne };
  std::size_t dimension = 0;
  Op op = Op::any_of;
  std::vector<std::string> values;  // any_of
  std::string operand;              // the others
  std::string text;                 // as written, for messages
};

struct SweepRule {
  std::vector<SweepCondition> when;  // all must hold
  Expectation expectation;
};

struct SweepPoint {
  std::size_t index = 0;              // 0-based, in matrix order (the last key varies fastest)
  std::vector<std::size_t> value_of;  // per dimension: the index of its value
  Scenario scenario;                  // named BASE-pNN
};

struct Sweep {
  std::string file;
  std::string name;  // the base scenario's
  std::string about;
  std::vector<SweepDimension> dimensions;
  std::vector<SweepRule> rules;
  std::size_t total_points = 0;    // before sharding
  std::vector<SweepPoint> points;  // this shard's
};

struct SweepOptions {
  std::vector<std::string> vary;  // "KEY=VALUES" from the command line: adds or replaces a key
  std::size_t max_points = 10'000;
  VariantRequest variant;
  std::size_t shard = 1, shards = 1;  // the shard-th of `shards` slices (1-based)
};

inline constexpr std::size_t kSweepMaxPointsDefault = 10'000;

// Whether a scenario file has a `sweep:` block (a file that does not parse is not one).
bool is_sweep_file(const std::string& path);

// Loads the sweep and every point of this shard; every key, value and rule is checked before
// anything runs. Throws SpecError naming FILE:LINE:COL (or the --vary argument).
Sweep load_sweep(const std::string& path, const SweepOptions& options);

// The values of a dimension written as a range "A..B/STEP" (durations or integers, both ends
// included when the steps land on B); throws std::invalid_argument.
std::vector<std::string> expand_sweep_range(const std::string& text);

// Whether the point's values satisfy every condition.
bool sweep_rule_applies(const Sweep& sweep, const SweepRule& rule, const SweepPoint& point);

// "proxies[*].delayed_close_timeout=1s, client.profile=chrome"
std::string sweep_point_label(const Sweep& sweep, const SweepPoint& point);

}  // namespace closewire
