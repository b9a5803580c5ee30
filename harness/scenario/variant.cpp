#include "harness/scenario/variant.h"

#include <fmt/format.h>

#include <stdexcept>

namespace closewire {
namespace {

std::string action_name(const Action& a) {
  switch (a.kind) {
    case Action::Kind::text:
      return "send a text frame on cue";
    case Action::Kind::binary:
      return "send a binary frame on cue";
    case Action::Kind::ping:
      return "send a ping (browsers have no ping API)";
    case Action::Kind::pong:
      return "send a pong (browsers have no pong API)";
    case Action::Kind::close:
      return "send a Close on cue";
    case Action::Kind::close_socket:
      return "close its TCP socket directly";
    case Action::Kind::stop_reading:
      return "stop reading its socket";
    case Action::Kind::wait:
      return "wait";
    case Action::Kind::raw:
      return "send raw bytes";
  }
  return "act";
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_real_client(const std::string& name) {
  if (name == "chromium" || name == "firefox") return std::pair<std::string, std::string>{name, ""};
  const std::string prefix = "chromium-";
  if (!name.starts_with(prefix)) return std::nullopt;
  const std::string build = name.substr(prefix.size());
  if (real::chromium_build_major(build) == 0) return std::nullopt;
  return std::pair<std::string, std::string>{"chromium", build};
}

Scenario make_variant(const Scenario& s, const VariantRequest& r) {
  Scenario v = s;
  std::string label;
  if (!r.client.empty()) {
    const auto real_client = parse_real_client(r.client);
    if (!real_client) throw std::invalid_argument("not a real client: " + r.client);
    v.client.real = real_client->first;
    v.client.build = real_client->second;
    label = r.client;
  }
  if (!r.server.empty()) {
    v.server.real = r.server;
    label += (label.empty() ? "" : "+") + r.server;
  }
  if (!label.empty()) {
    v.variant = label;
    v.name = s.name + "@" + label;
  }
  return v;
}

std::string node_ws_unsupported(const ServerSpec& server) {
  if (server.on_open.size() != 1 || server.on_open[0].kind != Action::Kind::close) {
    return "the node-ws server only closes on open (close with a code and reason, or without a "
           "code)";
  }
  if (server.after_closing_handshake != endpoints::CloseMode::half_close ||
      server.close_timeout != endpoints::kWsCloseTimeout || !server.answer_close ||
      server.on_open[0].again) {
    return "the node-ws server ends its socket as ws 8 does (half-close, 30 s close timeout, a "
           "Close answered once): after_closing_handshake, close_timeout and answer_close cannot "
           "be changed";
  }
  return "";
}

namespace {

// A client step a page can take: a Close it may send, on a timer from onopen.
bool page_can_take(const Step& st) {
  return st.when.at && st.action.kind == Action::Kind::close && !st.action.again &&
         real::page_may_close_with(st.action.code);
}

}  // namespace

std::optional<real::PageClose> page_close(const Scenario& s) {
  for (const auto& st : s.steps) {
    if (st.endpoint == "client" && page_can_take(st))
      return real::PageClose{*st.when.at + st.when.delay, st.action.code, st.action.reason};
  }
  return std::nullopt;
}

std::string skip_reason(const Scenario& s) {
  // The file's own rules first: they say why by nature, which beats a mechanical reason.
  for (const auto& [variant, why] : s.variant_skips) {
    // `chromium` covers every build, `chromium-105` that build only; `firefox` is Debian's ESR.
    const bool applied = (!s.client.real.empty() && variant == s.client.real) ||
                         (s.client.real == "chromium" && !s.client.build.empty() &&
                          variant == "chromium-" + s.client.build) ||
                         (variant == "node-ws" && s.server.real == "node-ws");
    if (applied && !s.variant.empty())
      return fmt::format("skipped for {} by the scenario: {}", variant, why);
  }
  // Browsers trust the run's leaf (Chromium's SPKI flag, Firefox's acceptInsecureCerts); the real
  // node-ws server is still plain.
  if (!s.server.real.empty() && s.server.tls)
    return "not applicable to real node-ws: it does not speak TLS here yet";
  if (!s.client.real.empty()) {
    if (!s.client.auto_reply)
      return fmt::format(
          "not applicable to real {}: a browser answers a Close itself (the "
          "scenario's client has auto_reply: false)",
          s.client.real);
    std::size_t page_closes = 0;
    for (const auto& st : s.steps) {
      // The page takes the first such step (page_close); a second is a step it cannot take.
      if (st.endpoint == "client" && page_can_take(st) && page_closes++ == 0) continue;
      if (st.endpoint == "client") {
        return fmt::format("not applicable to real {}: the browser cannot {} ({}: {})",
                           s.client.real, action_name(st.action), st.where, st.when.text);
      }
      if (!st.when.at && st.when.after_endpoint == "client") {
        return fmt::format(
            "not applicable to real {}: a step waits for 'client {}', which a page does not see "
            "({})",
            s.client.real, to_string(st.when.after), st.where);
      }
    }
  }
  if (!s.server.real.empty()) {
    if (auto why = node_ws_unsupported(s.server); !why.empty())
      return "not applicable to real node-ws: " + why;
    for (const auto& st : s.steps) {
      if (st.endpoint == "server" || (!st.when.at && st.when.after_endpoint == "server")) {
        return fmt::format(
            "not applicable to real node-ws: the server takes no scripted steps ({})", st.where);
      }
    }
  }
  return "";
}

}  // namespace closewire
