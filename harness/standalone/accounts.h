// One account per connection of a standalone endpoint, printed as it ends: what it sent and saw,
// how TCP closed and, with a capture, the verdicts of its legs. `closewire serve` accounts for
// the server's connections, `closewire proxy` for each relayed pair of legs.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "harness/analysis/connection.h"
#include "harness/endpoints/proxy_listener.h"
#include "harness/endpoints/server.h"
#include "harness/standalone/session.h"

namespace closewire::standalone {

class ServerAccounts {
 public:
  // Watches `server` (listening on `bound`) from now on; both outlive this.
  ServerAccounts(Session& session, endpoints::Server& server, Endpoint bound);
  // The stop: closes the server and accounts for the connections it closed.
  void stop();
  std::string summary() const;  // "3 connections"

 private:
  void report(std::size_t i, const std::string& extra);

  Session& session_;
  endpoints::Server& server_;
  Endpoint bound_;
  std::map<std::size_t, Endpoint> peers_;  // accept index -> the client's address
  std::map<std::size_t, bool> reported_;
};

class RelayAccounts {
 public:
  // Watches `proxy` (listening on `bound`, relaying to `upstream`); both outlive this.
  RelayAccounts(Session& session, endpoints::ProxyListener& proxy, Endpoint bound,
                Endpoint upstream);
  void stop();
  std::string summary() const;  // "3 connections relayed"

 private:
  // What one relayed connection has done so far.
  struct Relayed {
    bool down_closed = false;
    bool up_connected = false;
    bool up_closed = false;
    std::size_t up_order = 0;  // among the connections that reached the upstream (SYN order)
    bool reported = false;
  };
  void report(std::size_t i, const std::string& extra);

  Session& session_;
  endpoints::ProxyListener& proxy_;
  Endpoint bound_;
  Endpoint upstream_;
  std::map<std::size_t, Relayed> relayed_;
  std::size_t upstream_connections_ = 0;
};

}  // namespace closewire::standalone
