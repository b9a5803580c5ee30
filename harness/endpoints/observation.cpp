#include "harness/endpoints/observation.h"

#include <array>
#include <cstring>
#include <sstream>

#include "harness/wire/frame.h"

namespace closewire::endpoints {

Observation observed(ObservationKind kind, std::string_view side, std::string note, int error) {
  Observation o;
  o.at = Clock::now();
  o.kind = kind;
  o.side = std::string(side);
  o.note = std::move(note);
  o.error = error;
  return o;
}

std::string_view to_string(ObservationKind kind) {
  static constexpr std::array<std::string_view, 18> kNames = {
      "connected",     "upgraded",          "frame_received",
      "frame_sent",    "write_failed",      "peer_gone_before_reply",
      "eof",           "read_error",        "timeout",
      "close_started", "half_closed",       "delay_ended",
      "closed",        "fault",             "http_head",
      "tls_handshake", "close_notify_received", "close_notify_sent"};
  auto i = static_cast<std::size_t>(kind);
  return i < kNames.size() ? kNames[i] : "unknown";
}

std::string describe(const Observation& o, Clock::time_point origin) {
  std::ostringstream out;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(o.at - origin).count();
  out << '+' << us / 1000 << '.' << (us % 1000 < 100 ? "0" : "") << (us % 1000 < 10 ? "0" : "")
      << us % 1000 << "ms";
  if (!o.side.empty()) out << ' ' << o.side;
  out << " #" << o.connection << ' ' << to_string(o.kind);
  if (o.kind == ObservationKind::frame_received || o.kind == ObservationKind::frame_sent)
    out << ' ' << wire::opcode_name(o.opcode);
  if (o.code) out << ' ' << *o.code;
  if (!o.reason.empty()) out << " '" << o.reason << '\'';
  if (o.error != 0) out << " errno " << o.error << " (" << std::strerror(o.error) << ')';
  if (!o.note.empty()) out << " [" << o.note << ']';
  return out.str();
}

void ObservationLog::add(Observation o) {
  entries_.push_back(std::move(o));
  // By index and by copy: a subscriber may add entries or subscribers while we iterate.
  const Observation latest = entries_.back();
  for (std::size_t i = 0; i < subscribers_.size(); ++i) {
    auto s = subscribers_[i];
    s(latest);
  }
}

const Observation* ObservationLog::first(ObservationKind kind, std::string_view side) const {
  for (const auto& e : entries_)
    if (e.kind == kind && (side.empty() || e.side == side)) return &e;
  return nullptr;
}

std::size_t ObservationLog::count(ObservationKind kind, std::string_view side) const {
  std::size_t n = 0;
  for (const auto& e : entries_)
    if (e.kind == kind && (side.empty() || e.side == side)) ++n;
  return n;
}

std::string ObservationLog::dump(Clock::time_point origin) const {
  std::string out;
  for (const auto& e : entries_) out += describe(e, origin) + '\n';
  return out;
}

}  // namespace closewire::endpoints
