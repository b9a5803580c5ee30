#include "harness/expect/evaluate.h"

#include <fmt/format.h>

#include <cstdlib>

namespace closewire {
namespace {

bool kind_matches(std::string_view pattern, std::string_view k) {
  if (pattern.ends_with(".*")) return k.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == k;
}

std::string describe(const Event& e, const LegView& leg) {
  std::string out =
      fmt::format("{} {}", e.from == Side::client ? leg.client_name : leg.server_name, e.kind);
  if (e.code) out += fmt::format(" {}", *e.code);
  if (!e.reason.empty() && e.kind == kind::close) out += fmt::format(" '{}'", e.reason);
  return out;
}

std::string rel(const Event& e, const LegView& leg) {
  return fmt::format("{:.3f} ms",
                     static_cast<double>(e.t - leg.connection->start) / kNanosPerMilli);
}

// The first event at or after `from` that `m` matches; npos when none.
std::size_t find_from(const EventMatcher& m, const LegView& leg, std::size_t from) {
  const auto& events = leg.connection->events;
  for (std::size_t i = from; i < events.size(); ++i) {
    if (matches(m, events[i], leg)) return i;
  }
  return std::string::npos;
}

std::vector<const LegView*> select(const LegSelector& on, const EvalContext& ctx) {
  std::vector<const LegView*> legs;
  if (on.by == LegSelector::By::default_legs) {
    for (auto i : ctx.default_legs) legs.push_back(&ctx.legs[i]);
  } else {
    for (const auto& leg : ctx.legs) {
      const bool hit =
          (on.by == LegSelector::By::name && leg.name == on.name) ||
          (on.by == LegSelector::By::server_port && leg.connection->server.port == on.port) ||
          (on.by == LegSelector::By::all_websocket && leg.connection->websocket);
      if (hit) legs.push_back(&leg);
    }
  }
  if (on.nth) {
    if (*on.nth > legs.size()) return {};
    return {legs[*on.nth - 1]};
  }
  return legs;
}

// A side named in a matcher must be one of the leg's two.
std::string unknown_side(const Expectation& x, const LegView& leg) {
  for (const auto& m : x.events) {
    if (!m.side.empty() && m.side != leg.client_name && m.side != leg.server_name) {
      return fmt::format("'{}' is not a side of leg {} (its sides: {}, {})", m.side, leg.name,
                         leg.client_name, leg.server_name);
    }
  }
  return {};
}

void check_order(const Expectation& x, const LegView& leg, Outcome& o) {
  std::size_t at = 0;
  for (std::size_t k = 0; k < x.events.size(); ++k) {
    const std::size_t i = find_from(x.events[k], leg, at);
    if (i == std::string::npos) {
      o.expected = fmt::format("'{}'{}", x.events[k].text,
                               k == 0 ? "" : fmt::format(" after '{}'", x.events[k - 1].text));
      const std::size_t anywhere = find_from(x.events[k], leg, 0);
      o.found = anywhere == std::string::npos
                    ? "no such event on the leg"
                    : fmt::format("'{}' only at {}, before '{}'",
                                  describe(leg.connection->events[anywhere], leg),
                                  rel(leg.connection->events[anywhere], leg), x.events[k - 1].text);
      if (anywhere != std::string::npos) o.marks.push_back(anywhere);
      if (at > 0) o.marks.push_back(at - 1);
      return;
    }
    o.marks.push_back(i);
    at = i + 1;
  }
  o.passed = true;
}

void check_never(const Expectation& x, const LegView& leg, Outcome& o) {
  for (const auto& m : x.events) {
    const std::size_t i = find_from(m, leg, 0);
    if (i != std::string::npos) {
      const Event& e = leg.connection->events[i];
      o.expected = fmt::format("no '{}'", m.text);
      o.found = fmt::format("{} at {}{}", describe(e, leg), rel(e, leg),
                            e.note.empty() ? "" : " (" + e.note + ")");
      o.marks.push_back(i);
      return;
    }
  }
  o.passed = true;
}

void check_gap(const Expectation& x, const LegView& leg, double scale, Outcome& o) {
  const std::size_t a = find_from(x.events[0], leg, 0);
  const std::size_t b = a == std::string::npos ? a : find_from(x.events[1], leg, a);
  if (a == std::string::npos || b == std::string::npos) {
    o.expected = x.text;
    o.found = a == std::string::npos
                  ? fmt::format("no '{}' on the leg", x.events[0].text)
                  : fmt::format("no '{}' after '{}'", x.events[1].text, x.events[0].text);
    if (a != std::string::npos) o.marks.push_back(a);
    return;
  }
  const auto& events = leg.connection->events;
  const Nanos gap = events[b].t - events[a].t;
  o.marks = {a, b};
  o.gap_measured = gap;
  o.gap_expected = x.is;
  bool ok = true;
  std::string want;
  if (x.is) {
    const Nanos tol = x.tolerance.for_value(*x.is, scale);
    ok = std::llabs(gap - *x.is) <= tol;
    want = fmt::format("{} ± {}", format_duration(*x.is), format_duration(tol));
  } else {
    // A slow machine makes gaps longer, never shorter: the scale widens `max` only.
    const std::optional<Nanos> max =
        x.max ? std::optional<Nanos>(static_cast<Nanos>(static_cast<double>(*x.max) * scale))
              : std::nullopt;
    if (x.min) ok = ok && gap >= *x.min;
    if (max) ok = ok && gap <= *max;
    want = fmt::format("{}{}{}", x.min ? ">= " + format_duration(*x.min) : "",
                       x.min && max ? " and " : "", max ? "<= " + format_duration(*max) : "");
  }
  o.passed = ok;
  if (!ok) {
    o.expected = fmt::format("gap {}", want);
    o.found = fmt::format("{:.3f} ms from {} to {}", static_cast<double>(gap) / kNanosPerMilli,
                          describe(events[a], leg), describe(events[b], leg));
  }
}

std::string describe(const Verdict& v) {
  if (!v.closed) return "still open";
  return fmt::format("{} '{}' {}", v.code ? std::to_string(*v.code) : "none", v.reason,
                     v.was_clean ? "clean" : "not clean");
}

void check_verdict(const Expectation& x, const LegView& leg, Outcome& o) {
  o.passed = true;
  for (Profile p : x.profiles) {
    const Verdict v = judge(*leg.connection, p);
    bool ok = true;
    if (x.check_code) ok = ok && (x.code ? v.closed && v.code == x.code : !v.closed);
    if (x.reason) ok = ok && v.reason == *x.reason;
    if (x.was_clean) ok = ok && v.closed && v.was_clean == *x.was_clean;
    if (!ok) {
      o.passed = false;
      o.expected = x.text;
      o.found = fmt::format("{}: {} ({})", to_string(p), describe(v), v.why);
      return;
    }
  }
}

}  // namespace

bool matches(const EventMatcher& m, const Event& e, const LegView& leg) {
  if (!kind_matches(m.kind, e.kind)) return false;
  if (!m.side.empty()) {
    const std::string& name = e.from == Side::client ? leg.client_name : leg.server_name;
    if (name != m.side) return false;
  }
  if (m.code && e.code != m.code) return false;
  if (m.reason && e.reason != *m.reason) return false;
  return true;
}

std::vector<Outcome> evaluate(const std::vector<Expectation>& expectations,
                              const EvalContext& ctx) {
  std::vector<Outcome> out;
  for (const auto& x : expectations) {
    const auto legs = select(x.on, ctx);
    if (legs.empty()) {
      Outcome o;
      o.expectation = &x;
      o.expected =
          fmt::format("a leg matching '{}'", x.on.text.empty() ? "the default legs" : x.on.text);
      o.found = fmt::format("no such leg among the {} in the capture", ctx.legs.size());
      out.push_back(std::move(o));
      continue;
    }
    for (const LegView* leg : legs) {
      Outcome o;
      o.expectation = &x;
      o.leg = leg;
      if (auto bad = unknown_side(x, *leg); !bad.empty()) {
        o.expected = x.text;
        o.found = bad;
      } else {
        switch (x.type) {
          case Expectation::Type::order:
            check_order(x, *leg, o);
            break;
          case Expectation::Type::never:
            check_never(x, *leg, o);
            break;
          case Expectation::Type::gap:
            check_gap(x, *leg, ctx.tolerance_scale, o);
            break;
          case Expectation::Type::verdict:
            check_verdict(x, *leg, o);
            break;
        }
      }
      out.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace closewire
