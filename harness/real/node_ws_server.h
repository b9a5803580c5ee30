// The seed report's Node `ws` 8 server (tools/real/node-ws-server) in the server slot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "harness/endpoints/server.h"
#include "harness/real/process.h"

namespace closewire::real {

struct NodeWsServerConfig {
  std::string host = "127.0.0.1";
  // The seed's close; absent code: conn.close() without one.
  std::optional<std::uint16_t> code = endpoints::kSeedCloseCode;
  std::string reason{endpoints::kSeedCloseReason};
  std::string tools_dir;  // tools/real
};

class NodeWsServer {
 public:
  // Starts node on port 0 and returns once it printed the port it listens on. Throws
  // EnvironmentError when node or the installed `ws` package is missing.
  explicit NodeWsServer(const NodeWsServerConfig& config);
  std::uint16_t port() const { return port_; }
  void stop() { process_->stop(); }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace closewire::real
