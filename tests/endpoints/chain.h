// Test helpers: a server, proxies and clients on one io_context, and log look-ups.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/endpoints/client.h"
#include "harness/endpoints/server.h"
#include "harness/wire/frame.h"
#include "tests/endpoints/loop.h"

namespace closewire::endpoints::testing {

inline const Observation* find(const ObservationLog& log, ObservationKind kind,
                               std::string_view side = {}, std::string_view note = {}) {
  for (const auto& o : log.entries())
    if (o.kind == kind && (side.empty() || o.side == side) &&
        (note.empty() || o.note.find(note) != std::string::npos))
      return &o;
  return nullptr;
}

inline const Observation* find_close_frame(const ObservationLog& log, ObservationKind kind,
                                           std::string_view side = {}) {
  for (const auto& o : log.entries())
    if (o.kind == kind && o.opcode == static_cast<std::uint8_t>(wire::Opcode::close) &&
        (side.empty() || o.side == side))
      return &o;
  return nullptr;
}

inline std::unique_ptr<Client> start_client(boost::asio::io_context& io, std::uint16_t port,
                                            Profile profile = Profile::chrome) {
  ClientConfig cc;
  cc.profile = profile;
  cc.port = port;
  auto c = std::make_unique<Client>(io, cc);
  c->start();
  return c;
}

}  // namespace closewire::endpoints::testing
