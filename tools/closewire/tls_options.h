// TLS flags of the standalone commands: --tls / --tls-version on a listening side, --upstream-tls
// on a proxy, --keylog everywhere; and what they make.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "harness/endpoints/key_log.h"
#include "harness/endpoints/tls_context.h"
#include "harness/endpoints/tls_identity.h"

namespace closewire::cli {

struct TlsOptions {
  bool listen = false;          // --tls: the listening side speaks TLS
  std::string version = "1.3";  // --tls-version
  bool upstream = false;        // proxy --upstream-tls
  std::string keylog;           // --keylog FILE
};

// --tls and --tls-version (serve, proxy), --keylog (all three).
void add_listen_tls_options(CLI::App& cmd, TlsOptions& o);
void add_keylog_option(CLI::App& cmd, TlsOptions& o);

// Where the key log goes: --keylog FILE, else NAME.keys beside --capture NAME.pcap, else nowhere.
std::string key_log_path(const std::string& keylog, const std::string& capture);

// What a standalone command's TLS sides need, made once: a throw-away identity (when it listens
// with TLS) and the key log file (when it has a path).
struct TlsSetup {
  std::shared_ptr<const endpoints::TlsIdentity> identity;
  std::shared_ptr<endpoints::KeyLogFile> key_log;
  std::optional<endpoints::TlsVersion> version;

  // Empty, or the one-line error (a bad version, a key log that cannot be written).
  std::string make(const TlsOptions& o, bool uses_tls, const std::string& capture);
  std::shared_ptr<endpoints::TlsContext> listening() const;
  // Any server certificate is accepted (like curl -k): the peer is not this run's identity.
  std::shared_ptr<endpoints::TlsContext> connecting(const std::string& server_name) const;
  // "tls 1.3, leaf SPKI sha256 B64 (Chromium: --ignore-certificate-errors-spki-list=B64); key log
  // FILE" for the listening line.
  std::string describe() const;
};

}  // namespace closewire::cli
