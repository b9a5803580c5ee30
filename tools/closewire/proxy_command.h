// `closewire proxy --listen ADDR:PORT --upstream ADDR:PORT --model envoy|tcp ...`: the proxy models
// (harness/endpoints/proxy_model.h) standalone; chain two for gateway -> sidecar.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "tools/closewire/standalone_options.h"
#include "tools/closewire/tls_options.h"

namespace closewire::cli {

struct ProxyOptions {
  std::string listen;
  std::string upstream;
  std::string model;
  std::string latency = "0";
  // envoy (unset: the model's defaults, 1s and true)
  std::optional<std::string> delayed_close_timeout;
  std::optional<std::string> no_delay_close_for_upgrades;
  // tcp (unset: fin, 1s)
  std::optional<std::string> close_mode;
  std::optional<std::string> close_delay;
  bool reset_behind_close = false;
  bool reset_on_upstream_reset = false;
  std::optional<std::string> idle_timeout;
  std::optional<std::string> on_idle;
  std::optional<std::uint64_t> reset_after_bytes;
  bool h2 = false;                      // --h2: WebSockets over HTTP/2 on the TLS listening side
  bool h2_end_stream_only = false;      // --h2-end-stream-only: no RST_STREAM after END_STREAM
  StandaloneOptions common;
  TlsOptions tls;
};

CLI::App* add_proxy_command(CLI::App& app, ProxyOptions& options);
int run_proxy(const ProxyOptions& options);

}  // namespace closewire::cli
