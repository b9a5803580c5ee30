#include "harness/scenario/scenario.h"

namespace closewire {
namespace {

using W = StepEvent::What;
using wire::Opcode;
// What `after:` may wait for, as written.
constexpr std::pair<std::string_view, StepEvent> kStepEvents[] = {
    {"receives ws.text", {W::receives_frame, Opcode::text}},
    {"receives ws.binary", {W::receives_frame, Opcode::binary}},
    {"receives ws.ping", {W::receives_frame, Opcode::ping}},
    {"receives ws.pong", {W::receives_frame, Opcode::pong}},
    {"receives ws.close", {W::receives_frame, Opcode::close}},
    {"sends ws.close", {W::sends_close, Opcode::close}},
    {"sees fin", {W::sees_fin, Opcode::close}},
    {"sees rst", {W::sees_rst, Opcode::close}},
    {"times out", {W::times_out, Opcode::close}},
    {"is upgraded", {W::is_upgraded, Opcode::close}},
};

}  // namespace

std::optional<StepEvent> step_event_from_string(std::string_view text) {
  for (const auto& [name, event] : kStepEvents) {
    if (name == text) return event;
  }
  return std::nullopt;
}

std::string_view to_string(const StepEvent& e) {
  for (const auto& [name, event] : kStepEvents) {
    if (event.what == e.what && (e.what != W::receives_frame || event.opcode == e.opcode))
      return name;
  }
  return "?";
}

std::optional<endpoints::ProxyModel> ProxySpec::model() const {
  if (const auto* m = std::get_if<endpoints::EnvoyModel>(&kind)) return *m;
  if (const auto* m = std::get_if<endpoints::TcpModel>(&kind)) return *m;
  return std::nullopt;
}

bool matches(const StepEvent& e, const endpoints::Observation& o) {
  using K = endpoints::ObservationKind;
  switch (e.what) {
    case StepEvent::What::receives_frame:
      return o.kind == K::frame_received && o.opcode == static_cast<std::uint8_t>(e.opcode);
    case StepEvent::What::sends_close:
      return o.kind == K::frame_sent &&
             o.opcode == static_cast<std::uint8_t>(wire::Opcode::close);
    case StepEvent::What::sees_fin:
      return o.kind == K::eof;
    case StepEvent::What::sees_rst:
      return o.kind == K::read_error || o.kind == K::write_failed;
    case StepEvent::What::times_out:
      return o.kind == K::timeout;
    case StepEvent::What::is_upgraded:
      return o.kind == K::upgraded;
  }
  return false;
}

bool Scenario::uses_tls() const {
  if (server.tls) return true;
  for (const auto& p : proxies)
    if (p.tls) return true;
  return false;
}

bool Scenario::hop_tls(std::size_t hop) const {
  return hop < proxies.size() ? proxies[hop].tls.has_value() : server.tls.has_value();
}

std::vector<std::string> Scenario::chain() const {
  std::vector<std::string> names{"client"};
  for (const auto& p : proxies) names.push_back(p.name);
  names.push_back("server");
  return names;
}

std::vector<std::string> Scenario::leg_names() const {
  const auto names = chain();
  std::vector<std::string> legs;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) legs.push_back(names[i] + "-" + names[i + 1]);
  return legs;
}

}  // namespace closewire
