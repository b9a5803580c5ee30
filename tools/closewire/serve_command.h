// `closewire serve --listen ADDR:PORT [--close CODE|empty|none] [--reason TEXT] [--after D]`:
// the built-in seed server (Node ws 8 behaviour) as a standalone process.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "harness/endpoints/server.h"
#include "tools/closewire/standalone_options.h"
#include "tools/closewire/tls_options.h"

namespace closewire::cli {

struct ServeOptions {
  std::string listen;
  std::string close = std::to_string(endpoints::kSeedCloseCode);
  std::string reason{endpoints::kSeedCloseReason};
  std::string after = "0";
  StandaloneOptions common;
  TlsOptions tls;
};

CLI::App* add_serve_command(CLI::App& app, ServeOptions& options);
int run_serve(const ServeOptions& options);

}  // namespace closewire::cli
