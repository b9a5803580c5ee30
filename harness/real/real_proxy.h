// A real proxy in a proxy slot: Debian's nginx or HAProxy with a WebSocket-proxying config from
// tools/real/*.in, or any command (`exec`), e.g. a real Envoy.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "harness/real/process.h"

namespace closewire::real {

struct RealProxyConfig {
  std::string kind;  // "nginx", "haproxy" or "exec"
  std::string name;  // the proxy's name in the scenario
  std::string host = "127.0.0.1";
  std::string upstream_host = "127.0.0.1";
  std::uint16_t upstream_port = 0;
  std::map<std::string, std::string> options;  // template knobs (see allowed_options)
  std::string command;          // exec: with {listen_port}, {upstream_port}, {config}, ...
  std::string config_template;  // exec: rendered into work_dir; its path is {config}
  std::string work_dir;         // config, pid, temp files and logs go here
  std::string tools_dir;        // tools/real
  // TLS on its listening side ("1.3" or "1.2"; empty: plain) with the run's leaf: the chain (leaf,
  // then CA) and its key, PEM. They are written into work_dir as tls-cert.pem, tls-key.pem and
  // tls.pem (both in one file, for HAProxy's `crt`).
  std::string tls_version;
  std::string tls_chain_pem, tls_key_pem;
  bool upstream_tls = false;  // its upstream hop listens with TLS (the certificate is not checked)
};

// The knobs a scenario may set for `kind`, with the value a template gets when unset.
const std::map<std::string, std::string>& allowed_options(const std::string& kind);

class RealProxy {
 public:
  // Writes the config, starts the program and returns once its port accepts connections.
  explicit RealProxy(const RealProxyConfig& config);
  std::uint16_t port() const { return port_; }
  void stop() { process_->stop(); }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace closewire::real
