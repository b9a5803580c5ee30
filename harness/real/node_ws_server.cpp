#include "harness/real/node_ws_server.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

namespace closewire::real {

NodeWsServer::NodeWsServer(const NodeWsServerConfig& c) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(c.tools_dir) / "node-ws-server";
  if (find_program("node").empty()) {
    throw EnvironmentError(
        "node not found: install Node.js (Debian's package 'nodejs'; tools/setup)");
  }
  if (!fs::exists(dir / "node_modules" / "ws" / "package.json")) {
    throw EnvironmentError(fmt::format(
        "{}: the ws package is not installed (run tools/setup, or npm ci there)", dir.string()));
  }
  std::vector<std::string> argv{"node", (dir / "server.js").string(), "--host", c.host, "--port",
                                "0"};
  if (c.code) {
    argv.insert(argv.end(), {"--code", std::to_string(*c.code), "--reason", c.reason});
  } else {
    argv.push_back("--no-code");
  }
  process_ = std::make_unique<ChildProcess>("node-ws", std::move(argv));
  const std::string line = process_->wait_for_line(
      [](const std::string& l) { return l.starts_with("listening "); }, std::chrono::seconds(10));
  port_ = static_cast<std::uint16_t>(std::stoul(line.substr(std::string("listening ").size())));
}

}  // namespace closewire::real
