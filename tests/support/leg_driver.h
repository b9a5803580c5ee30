// Drives a LegBuilder as the TcpTracker would, for the analyzer's leg tests (leg_builder_test,
// h2_legs_test): each call is one packet, numbered from 1, at t = n µs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/analysis/event.h"
#include "harness/analysis/leg_builder.h"
#include "tests/support/capture_builder.h"

namespace closewire::test {

inline std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// "server ws.close 4321 test #4" per event.
inline std::vector<std::string> event_lines(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    std::string line = std::string(to_string(e.from)) + " " + e.kind;
    if (e.code) line += " " + std::to_string(*e.code);
    if (!e.reason.empty() || !e.text.empty()) line += " " + e.reason + e.text;
    line += " #" + std::to_string(e.packet);
    out.push_back(line);
  }
  return out;
}

class LegDriver {
 public:
  explicit LegDriver(Connection identity = {}) : builder_(std::move(identity)) {}

  LegDriver& data(Side from, std::string_view bytes) {
    ++packet_;
    builder_.on_data(from, bytes_of(bytes), t(), packet_);
    return *this;
  }
  LegDriver& tcp(Side from, std::string_view kind) {
    ++packet_;
    return tcp_same_packet(from, kind);
  }
  // A tcp.* event riding in the packet that delivered the last bytes.
  LegDriver& tcp_same_packet(Side from, std::string_view kind) {
    builder_.on_tcp_event(make_event(kind, from, t(), packet_));
    return *this;
  }
  // The HTTP/1.1 upgrade: test::upgrade_request, then test::upgrade_response.
  LegDriver& upgrade() {
    data(Side::client, upgrade_request());
    return data(Side::server, upgrade_response());
  }
  Connection finish() { return builder_.finish(t()); }
  // The connection's leg first, then its h2 stream legs.
  std::vector<Connection> finish_with_streams() {
    std::vector<Connection> legs;
    legs.push_back(builder_.finish(t()));
    for (Connection& c : builder_.take_h2_streams()) legs.push_back(std::move(c));
    return legs;
  }
  const std::vector<Event>& events() const { return builder_.connection().events; }
  std::vector<std::string> lines() const { return event_lines(events()); }
  const Event& last() const { return events().back(); }

 private:
  Nanos t() const { return static_cast<Nanos>(packet_) * 1000; }
  LegBuilder builder_;
  std::uint64_t packet_ = 0;
};

}  // namespace closewire::test
