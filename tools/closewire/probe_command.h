// `closewire probe URL --profile P [--count N] [--interval D]`: connects like a browser profile,
// prints what it observed and, from its own capture, the timeline and every profile's verdict;
// exit 0 when its observed outcome equals the analyzer's verdict for its profile.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "tools/closewire/standalone_options.h"
#include "tools/closewire/tls_options.h"

namespace closewire::cli {

struct ProbeOptions {
  std::string url;
  std::string profile;
  unsigned count = 1;
  std::string interval = "1s";  // from one connection's end to the next one's start
  std::string timeout = "30s";  // a connection with no close event by then is abandoned
  bool h2 = false;               // WebSocket over HTTP/2 (RFC 8441): wss only
  StandaloneOptions common;
  TlsOptions tls;
};

CLI::App* add_probe_command(CLI::App& app, ProbeOptions& options);
int run_probe(const ProbeOptions& options);

}  // namespace closewire::cli
