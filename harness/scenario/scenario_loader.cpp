// Loads scenario files: every key checked, every error located as FILE:LINE:COLUMN.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "harness/real/real_proxy.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/variant.h"
#include "harness/spec/spec_error.h"
#include "harness/spec/yaml_fields.h"

namespace closewire {
namespace {

using endpoints::CloseMode;

Millis millis(const YAML::Node& n, const std::string& file, std::string_view what) {
  const Nanos d = yaml::duration(n, file, what);
  if (d % kNanosPerMilli != 0)
    throw_spec_error(file, n, fmt::format("{} is counted in whole milliseconds", what));
  return Millis(d / kNanosPerMilli);
}

CloseMode close_mode(const YAML::Node& n, const std::string& file) {
  const std::string name = yaml::scalar(n, file, "close mode");
  auto mode = endpoints::close_mode_from_string(name);
  if (!mode) {
    throw_spec_error(
        file, n,
        fmt::format("unknown close mode '{}' (fin, half-close, rst, close-unread, delayed)", name));
  }
  return *mode;
}

// tls: true | false | {version: 1.2 | 1.3}
std::optional<TlsSpec> parse_tls(const YAML::Node& n, const std::string& file) {
  if (n.IsMap()) {
    yaml::check_keys(n, {"version"}, file, "tls");
    TlsSpec t;
    if (n["version"]) {
      const std::string v = yaml::scalar(n["version"], file, "version");
      const auto version = endpoints::tls_version_from_string(v);
      if (!version)
        throw_spec_error(file, n["version"], fmt::format("TLS version '{}' is not 1.2 or 1.3", v));
      t.version = *version;
    }
    return t;
  }
  if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
    if (n.Scalar() == "true") return TlsSpec{};
    return std::nullopt;
  }
  throw_spec_error(file, n, "tls is true, false or {version: 1.2|1.3}");
}

// The argument of `close`: {code, reason}, or nothing for a Close without a code.
Action parse_close(const YAML::Node& arg, const std::string& file) {
  Action a = Action::close();
  if (arg && arg.IsMap()) {
    yaml::check_keys(arg, {"code", "reason", "again"}, file, "close");
    if (arg["again"]) a.again = yaml::boolean(arg["again"], file, "again");
    if (arg["code"] && !arg["code"].IsNull()) a.code = yaml::code(arg["code"], file);
    if (arg["reason"]) {
      if (!a.code) throw_spec_error(file, arg["reason"], "a close reason needs a code");
      a.reason = yaml::scalar(arg["reason"], file, "reason");
    }
  } else if (arg && !arg.IsNull()) {
    throw_spec_error(file, arg,
                     "close takes {code, reason}, or nothing for a Close without a code");
  }
  return a;
}

// One action: {close: {code, reason}} | close | {close: {}} | {text: S} | {binary: S} | ping |
// {ping: S} | pong | {close_socket: MODE} | {close_socket: {mode, delay}} | stop_reading |
// {wait: D}.
Action parse_action(const YAML::Node& n, const std::string& file) {
  std::string verb;
  YAML::Node arg;
  if (n.IsScalar()) {
    verb = n.Scalar();
  } else if (n.IsMap() && n.size() == 1) {
    verb = yaml::key(n.begin()->first, file);
    arg = n.begin()->second;
  } else {
    throw_spec_error(file, n,
                     "an action is one of close, text, binary, ping, pong, close_socket, "
                     "stop_reading, wait, raw");
  }
  auto payload = [&] {
    return arg && !arg.IsNull() ? yaml::scalar(arg, file, verb) : std::string();
  };
  Action a;
  if (verb == "close") {
    a = parse_close(arg, file);
  } else if (verb == "text" || verb == "binary" || verb == "ping" || verb == "pong") {
    a = Action::frame(verb == "text"     ? Action::Kind::text
                      : verb == "binary" ? Action::Kind::binary
                      : verb == "ping"   ? Action::Kind::ping
                                         : Action::Kind::pong,
                      payload());
    if ((a.kind == Action::Kind::ping || a.kind == Action::Kind::pong) && a.payload.size() > 125) {
      throw_spec_error(file, arg, "a control frame carries at most 125 bytes");
    }
  } else if (verb == "close_socket") {
    if (!arg)
      throw_spec_error(file, n,
                       "close_socket needs a mode: fin, half-close, rst, close-unread, delayed");
    if (arg.IsMap()) {
      yaml::check_keys(arg, {"mode", "delay", "close_notify"}, file, "close_socket");
      if (!arg["mode"]) throw_spec_error(file, arg, "close_socket needs 'mode'");
      a = Action::close_socket(close_mode(arg["mode"], file));
      if (arg["delay"]) a.duration = millis(arg["delay"], file, "delay");
      if (arg["close_notify"])
        a.close_notify = yaml::boolean(arg["close_notify"], file, "close_notify");
    } else {
      a = Action::close_socket(close_mode(arg, file));
    }
  } else if (verb == "raw") {
    a = Action::frame(Action::Kind::raw, payload());
    if (a.payload.empty()) throw_spec_error(file, n, "raw needs the bytes to send");
  } else if (verb == "stop_reading") {
    a.kind = Action::Kind::stop_reading;
  } else if (verb == "wait") {
    if (!arg) throw_spec_error(file, n, "wait needs a duration");
    a = Action::wait(millis(arg, file, "wait"));
  } else {
    throw_spec_error(
        file, n,
        fmt::format("unknown action '{}' (close, text, binary, ping, pong, close_socket, "
                    "stop_reading, wait, raw)",
                    verb));
  }
  return a;
}

// `client: {h2: true}`: the first hop must offer HTTP/2 over TLS. HAProxy is told to (ALPN h2,
// unless the file sets `alpn`), a model offers it (runner.cpp); nginx 1.22 has no RFC 8441.
void check_h2_first_hop(Scenario& s, const YAML::Node& at, const std::string& path) {
  if (!s.first_hop_tls()) {
    throw_spec_error(path, at,
                     "h2: true needs a first hop that listens with TLS (tls: true): browsers speak "
                     "HTTP/2 only over TLS");
  }
  if (!s.proxies.empty() && s.proxies[0].model()) return;  // envoy or tcp, with tls
  RealProxySpec* real =
      s.proxies.empty() ? nullptr : std::get_if<RealProxySpec>(&s.proxies[0].kind);
  if (real == nullptr || real->kind != "haproxy") {
    throw_spec_error(path, at,
                     "h2: true needs real HAProxy or a proxy model as the first hop (nginx 1.22 "
                     "has no WebSockets over HTTP/2)");
  }
  real->options.try_emplace("alpn", "h2,http/1.1");
}

ClientSpec parse_client(const YAML::Node& n, const std::string& file) {
  ClientSpec c;
  if (!n.IsMap())
    throw_spec_error(file, n,
                     "client must be a map {profile, close_timeout, target, auto_reply, h2}, {real: "
                     "chromium, build: "
                     "105} or {real: firefox}");
  yaml::check_keys(n, {"real", "build", "profile", "close_timeout", "target", "auto_reply", "h2"},
                   file, "client");
  if (n["real"]) {
    c.real = yaml::scalar(n["real"], file, "real");
    if (c.real != "chromium" && c.real != "firefox")
      throw_spec_error(file, n["real"],
                       fmt::format("unknown real client '{}' (chromium, firefox)", c.real));
  }
  if (n["build"]) {
    if (c.real != "chromium")
      throw_spec_error(file, n["build"],
                       "build goes with real: chromium (a Chromium major version, e.g. 105)");
    c.build = yaml::scalar(n["build"], file, "build");
    if (real::chromium_build_major(c.build) == 0)
      throw_spec_error(
          file, n["build"],
          fmt::format("build '{}' is not a Chromium major version (e.g. 105)", c.build));
  }
  if (n["profile"]) {
    const std::string name = yaml::scalar(n["profile"], file, "profile");
    auto p = profile_from_string(name);
    if (!p)
      throw_spec_error(file, n["profile"],
                       fmt::format("unknown profile '{}' ({})", name, profile_names()));
    c.profile = *p;
  }
  if (n["close_timeout"]) c.close_timeout = millis(n["close_timeout"], file, "close_timeout");
  if (n["target"]) c.target = yaml::scalar(n["target"], file, "target");
  if (n["auto_reply"]) {
    c.auto_reply = yaml::boolean(n["auto_reply"], file, "auto_reply");
    if (!c.real.empty() && !c.auto_reply)
      throw_spec_error(file, n["auto_reply"], "a real browser always answers a Close itself");
  }
  if (n["h2"]) c.h2 = yaml::boolean(n["h2"], file, "h2");
  return c;
}

endpoints::DirectionFaults parse_faults(const YAML::Node& n, const std::string& file,
                                        std::string_view what) {
  endpoints::DirectionFaults f;
  if (!n.IsMap())
    throw_spec_error(
        file, n,
        fmt::format("{} must be a map {{latency, reset_after_bytes, reset_behind_close}}", what));
  yaml::check_keys(n, {"latency", "reset_after_bytes", "reset_behind_close"}, file, what);
  if (n["latency"]) f.latency = millis(n["latency"], file, "latency");
  if (n["reset_after_bytes"])
    f.reset_after_bytes = yaml::count(n["reset_after_bytes"], file, "reset_after_bytes");
  if (n["reset_behind_close"])
    f.reset_behind_close = yaml::boolean(n["reset_behind_close"], file, "reset_behind_close");
  return f;
}

// {name, real: nginx|haproxy, KNOB: VALUE...} or {name, exec: COMMAND, config, vars, ready: tcp}
ProxySpec parse_real_proxy(const YAML::Node& n, const std::string& file) {
  ProxySpec p;
  RealProxySpec& r = p.kind.emplace<RealProxySpec>();
  if (n["model"])
    throw_spec_error(file, n["model"],
                     "a real proxy has no model: 'real: nginx|haproxy' or 'exec'");
  if (n["real"] && n["exec"]) throw_spec_error(file, n, "a proxy is 'real' or 'exec', not both");
  if (n["exec"]) {
    r.kind = "exec";
    yaml::check_keys(n, {"name", "exec", "config", "vars", "ready", "tls"}, file, "an exec proxy");
    r.exec = yaml::scalar(n["exec"], file, "exec");
    if (n["config"]) r.exec_config = yaml::scalar(n["config"], file, "config");
    if (n["vars"]) {
      if (!n["vars"].IsMap()) throw_spec_error(file, n["vars"], "vars is a map of template values");
      for (const auto& kv : n["vars"])
        r.options[yaml::key(kv.first, file)] = yaml::scalar(kv.second, file, "a var");
    }
    if (n["ready"] && yaml::scalar(n["ready"], file, "ready") != "tcp") {
      throw_spec_error(file, n["ready"],
                       "ready: tcp (a connect probe on {listen_port}) is the only readiness check");
    }
  } else {
    r.kind = yaml::scalar(n["real"], file, "real");
    const auto& knobs = real::allowed_options(r.kind);
    if (knobs.empty())
      throw_spec_error(file, n["real"],
                       fmt::format("unknown real proxy '{}' (nginx, haproxy; or exec)", r.kind));
    std::vector<std::string> keys{"name", "real", "tls"};
    for (const auto& [k, v] : knobs) keys.push_back(k);
    for (const auto& kv : n) {
      const std::string key = yaml::key(kv.first, file);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        throw_spec_error(file, kv.first,
                         fmt::format("unknown key '{}' in a {} proxy (allowed: {})", key, r.kind,
                                     fmt::join(keys, ", ")));
      }
    }
    for (const auto& [k, v] : knobs) {
      if (!n[k]) continue;
      const std::string value = yaml::scalar(n[k], file, k);
      bool ok = false;
      std::string wanted;
      if (k == "nolinger" || k == "h2_workaround_bogus_websocket_clients") {
        ok = value == "true" || value == "false";
        wanted = "true or false";
      } else if (k == "lingering_close") {
        ok = value == "on" || value == "off" || value == "always";
        wanted = "on, off or always";
      } else if (k == "alpn") {
        // ALPN protocol ids, comma-separated, as HAProxy's `alpn` takes them.
        ok = !value.empty() && value.front() != ',' && value.back() != ',' &&
             value.find(",,") == std::string::npos &&
             value.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789/.-,") ==
                 std::string::npos;
        wanted = "a list of ALPN protocols like h2,http/1.1";
      } else {
        ok = value.find_first_not_of("0123456789") != 0 &&
             value.find_first_not_of("0123456789mshd") == std::string::npos;
        wanted = "a duration like 100ms or 5s";
      }
      if (!ok) throw_spec_error(file, n[k], fmt::format("{}: '{}' is not {}", k, value, wanted));
      r.options[k] = value;
    }
  }
  p.name = n["name"] ? yaml::scalar(n["name"], file, "name") : r.kind == "exec" ? "proxy" : r.kind;
  // TLS on its listening side: nginx and HAProxy get the run's leaf in their config, an exec
  // command the files as {tls_cert}, {tls_key} and {tls_pem}.
  if (n["tls"]) p.tls = parse_tls(n["tls"], file);
  return p;
}

ProxySpec parse_proxy(const YAML::Node& n, const std::string& file) {
  ProxySpec p;
  if (!n.IsMap()) throw_spec_error(file, n, "a proxy is a map {name, model, ...}");
  if (n["real"] || n["exec"]) return parse_real_proxy(n, file);
  if (!n["name"]) throw_spec_error(file, n, "a proxy needs a 'name'");
  if (!n["model"])
    throw_spec_error(
        file, n, "a proxy needs a 'model' (envoy or tcp), or 'real' (nginx, haproxy) or 'exec'");
  p.name = yaml::scalar(n["name"], file, "name");
  const std::string model = yaml::scalar(n["model"], file, "model");
  if (model == "envoy") {
    auto& m = p.kind.emplace<endpoints::EnvoyModel>();
    yaml::check_keys(n,
                     {"name", "model", "delayed_close_timeout", "no_delay_close_for_upgrades",
                      "reset_on_upstream_reset", "latency", "tls", "h2_reset_after_end_stream"},
                     file, "an envoy proxy");
    if (n["delayed_close_timeout"])
      m.delayed_close_timeout = millis(n["delayed_close_timeout"], file, "delayed_close_timeout");
    if (n["no_delay_close_for_upgrades"]) {
      m.no_delay_close_for_upgrades =
          yaml::boolean(n["no_delay_close_for_upgrades"], file, "no_delay_close_for_upgrades");
    }
    if (n["reset_on_upstream_reset"]) {
      m.reset_on_upstream_reset =
          yaml::boolean(n["reset_on_upstream_reset"], file, "reset_on_upstream_reset");
    }
    if (n["latency"]) m.latency = millis(n["latency"], file, "latency");
  } else if (model == "tcp") {
    auto& m = p.kind.emplace<endpoints::TcpModel>();
    yaml::check_keys(n,
                     {"name", "model", "on_upstream_close", "on_downstream_close", "close_delay",
                      "to_client", "to_server", "tls", "close_notify", "idle_timeout", "on_idle",
                      "h2_reset_after_end_stream"},
                     file, "a tcp proxy");
    if (n["close_notify"]) m.close_notify = yaml::boolean(n["close_notify"], file, "close_notify");
    if (n["on_upstream_close"]) m.on_upstream_close = close_mode(n["on_upstream_close"], file);
    if (n["on_downstream_close"])
      m.on_downstream_close = close_mode(n["on_downstream_close"], file);
    if (n["close_delay"]) m.close_delay = millis(n["close_delay"], file, "close_delay");
    if (n["to_client"]) m.to_client = parse_faults(n["to_client"], file, "to_client");
    if (n["to_server"]) m.to_server = parse_faults(n["to_server"], file, "to_server");
    if (n["idle_timeout"]) m.idle_timeout = millis(n["idle_timeout"], file, "idle_timeout");
    if (n["on_idle"]) m.on_idle = close_mode(n["on_idle"], file);
    if (n["on_idle"] && m.idle_timeout.count() <= 0)
      throw_spec_error(file, n["on_idle"], "on_idle needs an idle_timeout above 0");
  } else {
    throw_spec_error(file, n["model"], fmt::format("unknown proxy model '{}' (envoy, tcp)", model));
  }
  if (n["tls"]) p.tls = parse_tls(n["tls"], file);
  if (n["h2_reset_after_end_stream"]) {
    p.h2_reset_after_end_stream =
        yaml::boolean(n["h2_reset_after_end_stream"], file, "h2_reset_after_end_stream");
  }
  return p;
}

ServerSpec parse_server(const YAML::Node& n, const std::string& file) {
  ServerSpec s;  // the seed's server by default
  if (n.IsNull()) return s;
  if (!n.IsMap())
    throw_spec_error(file, n,
                     "server must be a map {on_open, after_closing_handshake, close_timeout}");
  yaml::check_keys(n,
                   {"real", "close", "on_open", "after_closing_handshake", "close_timeout",
                    "answer_close", "tls"},
                   file, "server");
  if (n["tls"]) {
    s.tls = parse_tls(n["tls"], file);
    if (s.tls && n["real"])
      throw_spec_error(file, n["tls"], "tls is for the server model, not a real server (yet)");
  }
  if (n["real"]) {
    s.real = yaml::scalar(n["real"], file, "real");
    if (s.real != "node-ws")
      throw_spec_error(file, n["real"], fmt::format("unknown real server '{}' (node-ws)", s.real));
    if (n["on_open"] && n["close"])
      throw_spec_error(file, n["close"], "give 'close' or 'on_open', not both");
  } else if (n["close"]) {
    throw_spec_error(file, n["close"],
                     "'close' belongs to a real server (real: node-ws); the model takes on_open");
  }
  if (n["close"]) {
    // close: 4321 | close: {code, reason} | close: null (conn.close() without a code)
    const YAML::Node& c = n["close"];
    Action a = Action::close();
    if (c.IsScalar() && c.Scalar() != "none") {
      a = Action::close(yaml::code(c, file), std::string(endpoints::kSeedCloseReason));
    } else if (c.IsMap()) {
      a = parse_close(c, file);
    }
    s.on_open = {a};
  }
  if (n["on_open"]) {
    s.on_open.clear();
    const YAML::Node& list = n["on_open"];
    if (!list.IsSequence()) throw_spec_error(file, list, "on_open is a list of actions");
    for (const auto& a : list) s.on_open.push_back(parse_action(a, file));
  }
  if (n["after_closing_handshake"]) {
    const YAML::Node& m = n["after_closing_handshake"];
    if (m.IsScalar() && m.Scalar() == "none") {
      s.after_closing_handshake.reset();
    } else {
      s.after_closing_handshake = close_mode(m, file);
    }
  }
  if (n["close_timeout"]) s.close_timeout = millis(n["close_timeout"], file, "close_timeout");
  if (n["answer_close"]) s.answer_close = yaml::boolean(n["answer_close"], file, "answer_close");
  if (!s.real.empty()) {
    if (auto why = node_ws_unsupported(s); !why.empty()) throw_spec_error(file, n, why);
  }
  return s;
}

StepTrigger parse_trigger(const YAML::Node& step, const std::string& file) {
  StepTrigger t;
  if (step["at"] && step["after"])
    throw_spec_error(file, step, "a step has 'at' or 'after', not both");
  if (step["at"]) {
    t.at = millis(step["at"], file, "at");
    t.text = "at " + step["at"].Scalar();
  } else if (step["after"]) {
    const std::string text = yaml::scalar(step["after"], file, "after");
    const auto space = text.find(' ');
    t.after_endpoint = text.substr(0, space);
    const auto event = step_event_from_string(
        space == std::string::npos ? "" : std::string_view(text).substr(space + 1));
    if ((t.after_endpoint != "client" && t.after_endpoint != "server") || !event) {
      throw_spec_error(
          file, step["after"],
          fmt::format("cannot read 'after: {}': write '<client|server> <receives ws.KIND | sends "
                      "ws.close | sees fin | sees rst | times out | is upgraded>'",
                      text));
    }
    t.after = *event;
    t.text = "after " + text;
  } else {
    throw_spec_error(file, step,
                     "a step needs 'at' (after the WebSocket opened) or 'after' (an event)");
  }
  if (step["delay"]) {
    t.delay = millis(step["delay"], file, "delay");
    t.text += " + " + step["delay"].Scalar();
  }
  return t;
}

// owner/repo#N: a GitHub issue or pull request as the zoo cites it.
std::string report_ref(const YAML::Node& n, const std::string& file, std::string_view what) {
  const std::string ref = yaml::scalar(n, file, what);
  static const std::regex kRef(R"([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[0-9]+)");
  if (!std::regex_match(ref, kRef))
    throw_spec_error(file, n, fmt::format("{} '{}' is not owner/repo#NUMBER", what, ref));
  return ref;
}

// report: {ref, see_also, symptom, cause, fix, status}: the public report a zoo scenario
// reproduces.
ZooReport parse_report(const YAML::Node& n, const std::string& file) {
  if (!n.IsMap())
    throw_spec_error(file, n, "report is a map {ref, see_also, symptom, cause, fix, status}");
  yaml::check_keys(n, {"ref", "see_also", "symptom", "cause", "fix", "status"}, file, "report");
  ZooReport r;
  for (const char* key : {"ref", "symptom", "cause", "fix", "status"}) {
    if (!n[key]) throw_spec_error(file, n, fmt::format("a report needs '{}'", key));
  }
  r.ref = report_ref(n["ref"], file, "ref");
  if (n["see_also"]) {
    if (!n["see_also"].IsSequence())
      throw_spec_error(file, n["see_also"], "see_also is a list of owner/repo#NUMBER");
    for (const auto& ref : n["see_also"]) r.see_also.push_back(report_ref(ref, file, "see_also"));
  }
  r.symptom = yaml::scalar(n["symptom"], file, "symptom");
  r.cause = yaml::scalar(n["cause"], file, "cause");
  r.fix = yaml::scalar(n["fix"], file, "fix");
  r.status = yaml::scalar(n["status"], file, "status");
  if (std::find(kZooStatuses.begin(), kZooStatuses.end(), r.status) == kZooStatuses.end()) {
    throw_spec_error(
        file, n["status"],
        fmt::format("status '{}' is not one of {}", r.status, fmt::join(kZooStatuses, ", ")));
  }
  return r;
}

Step parse_step(const YAML::Node& n, const std::string& file) {
  if (!n.IsMap())
    throw_spec_error(file, n, "a step is a map {at|after, delay, client|server: ACTION}");
  yaml::check_keys(n, {"at", "after", "delay", "client", "server"}, file, "a step");
  Step s;
  s.where = fmt::format("{}:{}", file, n.Mark().line + 1);
  s.when = parse_trigger(n, file);
  if (n["client"] && n["server"])
    throw_spec_error(file, n, "a step acts on one endpoint: client or server");
  if (!n["client"] && !n["server"])
    throw_spec_error(file, n, "a step needs 'client: ACTION' or 'server: ACTION'");
  s.endpoint = n["client"] ? "client" : "server";
  s.action = parse_action(n[s.endpoint], file);
  if (s.action.kind == Action::Kind::wait)
    throw_spec_error(file, n[s.endpoint], "use 'delay' on a step rather than 'wait'");
  return s;
}

// `sweep_point`: a point of a sweep (sweep.h): the `sweep` block is allowed and `expect` may be
// absent, since the sweep's rules add expectations.
Scenario parse_scenario(const YAML::Node& root, const std::string& path, bool sweep_point) {
  if (!root.IsMap())
    throw_spec_error(
        path, root,
        "a scenario is a YAML map (name, about, client, proxies, server, steps, expect)");
  if (!sweep_point && root["sweep"]) {
    throw_spec_error(path, root["sweep"],
                     fmt::format("this file is a sweep: run it with 'closewire sweep {}'", path));
  }
  yaml::check_keys(root,
                   {"name", "about", "ipv6", "client", "proxies", "server", "steps", "run_for",
                    "timeout", "expect", "variants", "sweep", "report", "finding"},
                   path, "a scenario");
  Scenario s;
  s.file = path;
  // By default "FOLDER-STEM" (scenarios/seed/bug.yaml -> seed-bug): unique across the folders.
  const std::filesystem::path fp(path);
  const std::string folder = fp.parent_path().filename().string();
  s.name = root["name"] ? yaml::scalar(root["name"], path, "name")
                        : (folder.empty() ? "" : folder + "-") + fp.stem().string();
  if (!root["about"])
    throw_spec_error(path, root, "a scenario needs 'about': one sentence saying what it shows");
  s.about = yaml::scalar(root["about"], path, "about");
  if (root["ipv6"]) s.ipv6 = yaml::boolean(root["ipv6"], path, "ipv6");
  if (root["report"]) s.report = parse_report(root["report"], path);
  if (root["finding"]) s.finding = yaml::scalar(root["finding"], path, "finding");
  if (!root["client"]) throw_spec_error(path, root, "a scenario needs a 'client'");
  s.client = parse_client(root["client"], path);
  if (root["proxies"]) {
    if (!root["proxies"].IsSequence())
      throw_spec_error(path, root["proxies"], "proxies is a list, client side first");
    std::set<std::string> names{"client", "server"};
    for (const auto& p : root["proxies"]) {
      s.proxies.push_back(parse_proxy(p, path));
      if (!names.insert(s.proxies.back().name).second) {
        throw_spec_error(path, p["name"],
                         fmt::format("the name '{}' is taken", s.proxies.back().name));
      }
    }
  }
  if (!root["server"])
    throw_spec_error(path, root, "a scenario needs a 'server' ({} for the seed's ws server)");
  s.server = parse_server(root["server"], path);
  if (root["steps"]) {
    if (!root["steps"].IsSequence()) throw_spec_error(path, root["steps"], "steps is a list");
    for (const auto& st : root["steps"]) s.steps.push_back(parse_step(st, path));
  }
  if (s.client.h2) check_h2_first_hop(s, root["client"]["h2"], path);
  if (root["run_for"]) s.run_for = millis(root["run_for"], path, "run_for");
  if (root["timeout"]) s.timeout = millis(root["timeout"], path, "timeout");
  if (!root["expect"] && !sweep_point)
    throw_spec_error(path, root, "a scenario needs 'expect': what must hold on the wire");
  if (root["expect"]) {
    s.expectations = parse_expectations(root["expect"], path);
    if (s.expectations.empty()) throw_spec_error(path, root["expect"], "'expect' is empty");
  }
  if (root["variants"]) {
    const YAML::Node& v = root["variants"];
    if (!v.IsMap())
      throw_spec_error(path, v,
                       "variants is a map {chromium: {skip: WHY}, firefox: {skip: WHY}, node-ws: "
                       "{skip: WHY}}");
    for (const auto& kv : v) {
      const std::string name = yaml::key(kv.first, path);
      if (name != "chromium" && name != "firefox" && name != "node-ws") {
        throw_spec_error(path, kv.first,
                         fmt::format("unknown variant '{}' (chromium, firefox, node-ws)", name));
      }
      if (!kv.second.IsMap() || !kv.second["skip"])
        throw_spec_error(path, kv.second, "a variant takes {skip: \"why\"}");
      yaml::check_keys(kv.second, {"skip"}, path, "a variant");
      s.variant_skips[name] = yaml::scalar(kv.second["skip"], path, "skip");
    }
  }
  check_expectation_names(s);
  return s;
}

}  // namespace

void check_expectation_names(const Scenario& s) {
  // Legs and sides named in expectations must exist in this chain. A client that speaks h2 has
  // its WebSocket on a stream: the TCP connection under it is a leg too (runner.cpp name_legs).
  auto legs = s.leg_names();
  if (s.client.h2) legs.insert(legs.begin() + 1, legs.front() + ".tcp");
  const auto names = s.chain();
  for (const auto& x : s.expectations) {
    if (x.on.by == LegSelector::By::name &&
        std::find(legs.begin(), legs.end(), x.on.name) == legs.end()) {
      throw SpecError(fmt::format("{}: no leg '{}' in this scenario (legs: {})", x.where, x.on.name,
                                  fmt::join(legs, ", ")));
    }
    for (const auto& m : x.events) {
      if (!m.side.empty() && std::find(names.begin(), names.end(), m.side) == names.end()) {
        throw SpecError(fmt::format("{}: no endpoint '{}' in this scenario ({})", x.where, m.side,
                                    fmt::join(names, ", ")));
      }
    }
  }
}

Scenario load_scenario(const std::string& path) {
  const YAML::Node root = yaml::load_file(path);
  try {
    return parse_scenario(root, path, false);
  } catch (const YAML::Exception& e) {
    // Every read above goes through a check that names the place; this is the net under them.
    throw_spec_error(path, e.mark, e.msg);
  }
}

Scenario parse_sweep_point(const YAML::Node& root, const std::string& path) {
  try {
    return parse_scenario(root, path, true);
  } catch (const YAML::Exception& e) {
    throw_spec_error(path, e.mark, e.msg);
  }
}

}  // namespace closewire
