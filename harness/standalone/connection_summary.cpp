#include "harness/standalone/connection_summary.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "harness/wire/frame.h"

namespace closewire::standalone {

using endpoints::Observation;
using K = endpoints::ObservationKind;

namespace {

std::string frame(const Observation& o) {
  std::string s(wire::opcode_name(o.opcode));
  if (o.code) s += fmt::format(" {}", *o.code);
  if (!o.reason.empty()) s += fmt::format(" \"{}\"", o.reason);
  return s;
}

std::string with_note(std::string_view what, const Observation& o) {
  return o.note.empty() ? std::string(what) : fmt::format("{} ({})", what, o.note);
}

std::string tcp_item(const Observation& o) {
  switch (o.kind) {
    case K::eof:
      return "peer FIN";
    case K::read_error:
      return o.error == ECONNRESET ? "peer RST"
                                   : fmt::format("read error: {}", std::strerror(o.error));
    case K::write_failed:
      return fmt::format("write failed: {}", std::strerror(o.error));
    case K::peer_gone_before_reply:
      return "peer gone before the Close reply";
    case K::half_closed:
      return "FIN sent (half-close)";
    case K::close_started:
      return with_note("closing", o);
    case K::delay_ended:
      return with_note("delay ended", o);
    case K::timeout:
      return with_note("timeout", o);
    case K::fault:
      return with_note("fault", o);
    case K::closed:
      return with_note("closed", o);
    default:
      return {};
  }
}

}  // namespace

std::string connection_summary(const std::vector<Observation>& log, std::size_t connection,
                               std::string_view side) {
  std::string frames, tcp;
  for (const auto& o : log) {
    if (o.connection != connection || (!side.empty() && o.side != side)) continue;
    std::string item;
    if (o.kind == K::frame_sent) {
      frames += (frames.empty() ? "" : ", ") + ("sent " + frame(o));
    } else if (o.kind == K::frame_received) {
      frames += (frames.empty() ? "" : ", ") + ("received " + frame(o));
    } else if (!(item = tcp_item(o)).empty()) {
      tcp += (tcp.empty() ? "" : ", ") + item;
    }
  }
  if (frames.empty()) frames = "no frames";
  return fmt::format("{}; tcp: {}", frames, tcp.empty() ? "open" : tcp);
}

double connection_ms(const std::vector<Observation>& log, std::size_t connection) {
  const Observation* first = nullptr;
  const Observation* last = nullptr;
  for (const auto& o : log) {
    if (o.connection != connection) continue;
    if (!first) first = &o;
    last = &o;
  }
  if (!first) return 0;
  return std::chrono::duration<double, std::milli>(last->at - first->at).count();
}

}  // namespace closewire::standalone
