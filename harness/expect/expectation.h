// The expectation language shared by `closewire replay --expect` and scenario files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "harness/analysis/event.h"
#include "harness/analysis/verdict.h"
#include "harness/spec/duration.h"

namespace closewire {

// One event as written: "[LEG: ][side] kind [code] [reason=TEXT]", e.g. "gateway ws.close 4321",
// "client tcp.fin", "tcp.rst", "ws.*", or a map {on: LEG, from: server, kind: ws.close, code: 4321}.
struct EventMatcher {
  std::string leg;   // gap only: the leg the event is on ("gateway-sidecar: sidecar tcp.fin")
  std::string side;  // empty: either side
  std::string kind;  // exact kind, or a prefix ending in ".*"
  std::optional<std::uint16_t> code;
  std::optional<std::string> reason;
  std::string text;  // as written, for messages
};

// Which legs an expectation looks at.
struct LegSelector {
  enum class By { default_legs, name, server_port, all_websocket };
  By by = By::default_legs;
  std::string name;
  std::uint16_t port = 0;
  std::optional<std::size_t> nth;  // 1-based among the legs matched, in SYN order
  std::string text;                // as written
};

struct Expectation {
  enum class Type { order, never, gap, verdict, hold, mechanism };
  Type type = Type::order;
  LegSelector on;
  std::string where;  // "FILE:LINE" of the item
  std::string text;   // one-line restatement for reports

  std::vector<EventMatcher> events;  // order: in sequence; never: none of them; gap: from, to

  // gap: time from `from` to the first `to` after it (on another leg when they name one);
  // hold: a hop's close hold.
  std::optional<Nanos> is, min, max;
  Tolerance tolerance;

  // verdict
  std::vector<Profile> profiles;
  bool check_code = false;
  std::optional<std::uint16_t> code;  // with check_code: nullopt means "still open" (null)
  std::optional<std::string> reason;
  std::optional<bool> was_clean;
  std::optional<bool> error_event;  // the profile's error event must be known and equal

  // hold: the hop, by its name in a scenario ("gateway") or its number from the client (1, 2..)
  std::string hop;
  // mechanism: the chain's deciding mechanism (a docs/diagnosis.md §3 id) and, when given, its
  // origin: client, server, hop:N (0-based) or a hop's name
  std::string mechanism;
  std::string origin;
};

// Parses a YAML sequence of expectations; throws SpecError naming file:line:column.
std::vector<Expectation> parse_expectations(const YAML::Node& list, const std::string& file);
// Reads an expectation file (a YAML list, or a map with an `expect:` list).
std::vector<Expectation> load_expectations(const std::string& path);

EventMatcher parse_event_matcher(const YAML::Node& node, const std::string& file);

}  // namespace closewire
