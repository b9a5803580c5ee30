#include "harness/expect/expectation.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "harness/analysis/diagnosis.h"
#include "harness/spec/spec_error.h"
#include "harness/spec/yaml_fields.h"

namespace closewire {
namespace {

const std::set<std::string, std::less<>> kKnownKinds(kind::kAll.begin(), kind::kAll.end());

bool known_kind(std::string_view k) {
  if (k.ends_with(".*")) {
    const auto prefix = k.substr(0, k.size() - 1);
    for (const auto& known : kKnownKinds) {
      if (std::string_view(known).starts_with(prefix)) return true;
    }
    return false;
  }
  return kKnownKinds.contains(k);
}

void check_kind(const std::string& k, const YAML::Node& at, const std::string& file) {
  if (!known_kind(k)) {
    throw_spec_error(
        file, at,
        fmt::format("unknown event kind '{}' (known: {})", k, fmt::join(kKnownKinds, ", ")));
  }
}

using yaml::check_keys;
using yaml::scalar;

LegSelector parse_selector(const YAML::Node& n, const std::string& file) {
  LegSelector s;
  if (n.IsScalar()) {
    const std::string text = n.Scalar();
    s.text = text;
    if (text == "all" || text == "websocket") {
      s.by = LegSelector::By::all_websocket;
    } else if (text.starts_with("port ")) {
      auto port = yaml::parse_u16(text.substr(5));
      if (!port || *port == 0) throw_spec_error(file, n, fmt::format("bad port in '{}'", text));
      s.by = LegSelector::By::server_port;
      s.port = *port;
    } else if (auto port = yaml::parse_u16(text)) {
      s.by = LegSelector::By::server_port;
      s.port = *port;
      s.text = "port " + text;
    } else {
      s.by = LegSelector::By::name;
      s.name = text;
    }
    return s;
  }
  if (!n.IsMap())
    throw_spec_error(file, n, "'on' must be a leg name, 'port N', or a map {server_port, nth}");
  check_keys(n, {"server_port", "leg", "nth"}, file, "'on'");
  if (n["server_port"] && n["leg"])
    throw_spec_error(file, n, "'on' takes server_port or leg, not both");
  if (n["server_port"]) {
    s.by = LegSelector::By::server_port;
    s.port = yaml::code(n["server_port"], file);
    s.text = fmt::format("port {}", s.port);
  } else if (n["leg"]) {
    s.by = LegSelector::By::name;
    s.name = scalar(n["leg"], file, "leg");
    s.text = s.name;
  } else {
    s.by = LegSelector::By::all_websocket;
    s.text = "all";
  }
  if (n["nth"]) {
    auto nth = yaml::parse_u16(scalar(n["nth"], file, "nth"));
    if (!nth || *nth == 0) throw_spec_error(file, n["nth"], "nth counts from 1");
    s.nth = *nth;
    s.text += fmt::format(" #{}", *nth);
  }
  return s;
}

std::vector<EventMatcher> parse_matcher_list(const YAML::Node& n, const std::string& file) {
  std::vector<EventMatcher> out;
  if (n.IsSequence()) {
    if (n.size() == 0) throw_spec_error(file, n, "the list of events is empty");
    for (const auto& item : n) out.push_back(parse_event_matcher(item, file));
  } else {
    out.push_back(parse_event_matcher(n, file));
  }
  return out;
}

// is (with tolerance) or min/max, as gap and hold take them; returns the bound in words.
std::string parse_bounds(const YAML::Node& g, const std::string& file, std::string_view what,
                         Expectation& e) {
  if (g["is"]) e.is = yaml::duration(g["is"], file, "is");
  if (g["min"]) e.min = yaml::duration(g["min"], file, "min");
  if (g["max"]) e.max = yaml::duration(g["max"], file, "max");
  if (!e.is && !e.min && !e.max)
    throw_spec_error(file, g, fmt::format("{} needs 'is', 'min' or 'max'", what));
  if (e.is && (e.min || e.max))
    throw_spec_error(file, g,
                     fmt::format("{} takes 'is' (with tolerance) or 'min'/'max', not both", what));
  if (g["tolerance"]) {
    if (!e.is) throw_spec_error(file, g["tolerance"], "tolerance goes with 'is'");
    auto t = parse_tolerance(scalar(g["tolerance"], file, "tolerance"));
    if (!t)
      throw_spec_error(file, g["tolerance"], "tolerance must look like 50ms, 10% or 4ms+12.5%");
    e.tolerance = *t;
  }
  std::string bound;
  if (e.is)
    bound = fmt::format("{} (±{})", format_duration(*e.is),
                        format_duration(e.tolerance.for_value(*e.is, 1)));
  if (e.min) bound += fmt::format(">= {}", format_duration(*e.min));
  if (e.max) bound += fmt::format("{}<= {}", e.min ? ", " : "", format_duration(*e.max));
  return bound;
}

void parse_gap(const YAML::Node& g, const std::string& file, Expectation& e) {
  if (!g.IsMap()) throw_spec_error(file, g, "gap must be a map {from, to, is|min|max, tolerance}");
  check_keys(g, {"from", "to", "is", "min", "max", "tolerance"}, file, "gap");
  if (!g["from"] || !g["to"]) throw_spec_error(file, g, "gap needs 'from' and 'to'");
  e.events = {parse_event_matcher(g["from"], file), parse_event_matcher(g["to"], file)};
  if (e.events[0].leg.empty() != e.events[1].leg.empty())
    throw_spec_error(file, g, "a gap across legs names the leg of both events");
  const std::string bound = parse_bounds(g, file, "gap", e);
  e.text = fmt::format("gap from '{}' to '{}' is {}", e.events[0].text, e.events[1].text, bound);
}

// hold: {hop: gateway | 1, is: 1s, tolerance: 50ms} (or min/max)
void parse_hold(const YAML::Node& h, const std::string& file, Expectation& e) {
  if (!h.IsMap()) throw_spec_error(file, h, "hold must be a map {hop, is|min|max, tolerance}");
  check_keys(h, {"hop", "is", "min", "max", "tolerance"}, file, "hold");
  if (!h["hop"])
    throw_spec_error(file, h, "hold needs 'hop': its name, or its number from the client");
  e.hop = scalar(h["hop"], file, "hop");
  const std::string bound = parse_bounds(h, file, "hold", e);
  e.text =
      fmt::format("{}{} holds its close {}", yaml::parse_u16(e.hop) ? "hop " : "", e.hop, bound);
}

// mechanism: close-timeout | {is: close-timeout, origin: hop:0 | gateway | server | client}
void parse_mechanism(const YAML::Node& m, const std::string& file, Expectation& e) {
  const YAML::Node id = m.IsMap() ? m["is"] : m;
  if (m.IsMap()) {
    check_keys(m, {"is", "origin"}, file, "mechanism");
    if (!id) throw_spec_error(file, m, "mechanism needs 'is': a mechanism id");
    if (m["origin"]) e.origin = scalar(m["origin"], file, "origin");
  }
  e.mechanism = scalar(id, file, "mechanism");
  const auto ids = mechanism_ids();
  if (std::find(ids.begin(), ids.end(), e.mechanism) == ids.end()) {
    std::string all;
    for (auto i : ids) all += (all.empty() ? "" : ", ") + std::string(i);
    throw_spec_error(file, id, fmt::format("unknown mechanism '{}' ({})", e.mechanism, all));
  }
  e.text = fmt::format("mechanism {}{}", e.mechanism, e.origin.empty() ? "" : " from " + e.origin);
}

void parse_verdict(const YAML::Node& v, const std::string& file, Expectation& e) {
  if (!v.IsMap())
    throw_spec_error(file, v,
                     "verdict must be a map {profile, code, reason, was_clean, error_event}");
  check_keys(v, {"profile", "code", "reason", "was_clean", "error_event"}, file, "verdict");
  if (!v["profile"]) throw_spec_error(file, v, "verdict needs 'profile'");
  std::vector<YAML::Node> names;
  if (v["profile"].IsSequence()) {
    for (const auto& p : v["profile"]) names.push_back(p);
  } else {
    names.push_back(v["profile"]);
  }
  std::vector<std::string> written;
  for (const auto& p : names) {
    auto profile = profile_from_string(scalar(p, file, "profile"));
    if (!profile) {
      throw_spec_error(file, p,
                       fmt::format("unknown profile '{}' ({})", p.Scalar(), profile_names()));
    }
    e.profiles.push_back(*profile);
    written.push_back(p.Scalar());
  }
  std::string want;
  if (v["code"]) {
    e.check_code = true;
    if (!v["code"].IsNull() && v["code"].Scalar() != "null") e.code = yaml::code(v["code"], file);
    want += e.code ? fmt::format(" code {}", *e.code) : std::string(" still open");
  }
  if (v["reason"]) {
    e.reason = scalar(v["reason"], file, "reason");
    want += fmt::format(" reason '{}'", *e.reason);
  }
  if (v["was_clean"]) {
    e.was_clean = yaml::boolean(v["was_clean"], file, "was_clean");
    want += e.was_clean.value() ? " clean" : " not clean";
  }
  if (v["error_event"]) {
    e.error_event = yaml::boolean(v["error_event"], file, "error_event");
    want += e.error_event.value() ? ", error event" : ", no error event";
  }
  if (want.empty())
    throw_spec_error(file, v, "verdict needs at least one of code, reason, was_clean, error_event");
  e.text = fmt::format("verdict {}:{}", fmt::join(written, ", "), want);
}

std::string join_texts(const std::vector<EventMatcher>& ms, std::string_view sep) {
  std::string out;
  for (const auto& m : ms) out += (out.empty() ? "" : std::string(sep)) + m.text;
  return out;
}

}  // namespace

EventMatcher parse_event_matcher(const YAML::Node& node, const std::string& file) {
  EventMatcher m;
  if (node.IsMap()) {
    check_keys(node, {"on", "from", "kind", "code", "reason"}, file, "an event");
    if (node["on"]) m.leg = scalar(node["on"], file, "on");
    if (!node["kind"]) throw_spec_error(file, node, "an event needs 'kind'");
    m.kind = scalar(node["kind"], file, "kind");
    check_kind(m.kind, node["kind"], file);
    if (node["from"]) m.side = scalar(node["from"], file, "from");
    if (node["code"]) m.code = yaml::code(node["code"], file);
    if (node["reason"]) m.reason = scalar(node["reason"], file, "reason");
    m.text = fmt::format(
        "{}{}{}{}{}", m.leg.empty() ? "" : m.leg + ": ", m.side.empty() ? "" : m.side + " ", m.kind,
        m.code ? fmt::format(" {}", *m.code) : "", m.reason ? " reason=" + *m.reason : "");
    return m;
  }
  std::string text = scalar(node, file, "an event");
  m.text = text;
  // "gateway-sidecar: sidecar tcp.fin": the event is on that leg.
  if (const auto colon = text.find(": ");
      colon != std::string::npos && colon < text.find("reason=")) {
    m.leg = text.substr(0, colon);
    text = text.substr(colon + 2);
  }
  std::istringstream words(text);
  std::string word;
  std::vector<std::string> tokens;
  while (words >> word) tokens.push_back(word);
  std::size_t i = 0;
  if (i < tokens.size() && tokens[i].find('.') == std::string::npos) m.side = tokens[i++];
  if (i >= tokens.size())
    throw_spec_error(file, node, fmt::format("'{}' names no event kind", text));
  m.kind = tokens[i++];
  check_kind(m.kind, node, file);
  for (; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t.starts_with("reason=")) {
      // The reason runs to the end of the text, spaces included.
      m.reason = text.substr(text.find("reason=") + 7);
      break;
    }
    const std::string_view value = t.starts_with("code=") ? std::string_view(t).substr(5) : t;
    auto code = yaml::parse_u16(value);
    if (!code || m.code)
      throw_spec_error(file, node, fmt::format("cannot read '{}' in event '{}'", t, text));
    m.code = code;
  }
  return m;
}

std::vector<Expectation> parse_expectations(const YAML::Node& list, const std::string& file) {
  if (!list.IsSequence()) throw_spec_error(file, list, "expectations must be a YAML list");
  std::vector<Expectation> out;
  for (const auto& item : list) {
    if (!item.IsMap())
      throw_spec_error(file, item, "each expectation is a map (order, never, gap or verdict)");
    check_keys(item, {"on", "order", "never", "gap", "verdict", "hold", "mechanism", "why"}, file,
               "an expectation");
    Expectation e;
    e.where = fmt::format("{}:{}", file, item.Mark().line + 1);
    if (item["on"]) e.on = parse_selector(item["on"], file);
    int kinds = 0;
    if (item["order"]) {
      ++kinds;
      e.type = Expectation::Type::order;
      e.events = parse_matcher_list(item["order"], file);
      e.text = "order: " + join_texts(e.events, " → ");
    }
    if (item["never"]) {
      ++kinds;
      e.type = Expectation::Type::never;
      e.events = parse_matcher_list(item["never"], file);
      e.text = "never: " + join_texts(e.events, ", ");
    }
    if (item["gap"]) {
      ++kinds;
      e.type = Expectation::Type::gap;
      parse_gap(item["gap"], file, e);
    }
    if (item["verdict"]) {
      ++kinds;
      e.type = Expectation::Type::verdict;
      parse_verdict(item["verdict"], file, e);
    }
    if (item["hold"]) {
      ++kinds;
      e.type = Expectation::Type::hold;
      parse_hold(item["hold"], file, e);
    }
    if (item["mechanism"]) {
      ++kinds;
      e.type = Expectation::Type::mechanism;
      parse_mechanism(item["mechanism"], file, e);
    }
    if (kinds != 1) {
      throw_spec_error(file, item,
                       "an expectation has exactly one of order, never, gap, verdict, hold, "
                       "mechanism");
    }
    for (const auto& m : e.events) {
      if (!m.leg.empty() && e.type != Expectation::Type::gap)
        throw_spec_error(file, item, fmt::format("'{}': only a gap names a leg per event", m.text));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Expectation> load_expectations(const std::string& path) {
  const YAML::Node root = yaml::load_file(path);
  try {
    if (root.IsMap()) {
      check_keys(root, {"expect", "about"}, path, "an expectation file");
      if (!root["expect"])
        throw_spec_error(path, root, "an expectation file is a list, or a map with 'expect'");
      return parse_expectations(root["expect"], path);
    }
    if (!root.IsDefined() || root.IsNull())
      throw SpecError(fmt::format("{}: the file is empty", path));
    return parse_expectations(root, path);
  } catch (const YAML::Exception& e) {
    // Every read goes through a check that names the place; this is the net under them.
    throw_spec_error(path, e.mark, e.msg);
  }
}

}  // namespace closewire
