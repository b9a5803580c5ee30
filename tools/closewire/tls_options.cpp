#include "tools/closewire/tls_options.h"

#include <fmt/format.h>

#include "harness/analysis/key_log_file.h"

namespace closewire::cli {

namespace ep = endpoints;

void add_listen_tls_options(CLI::App& cmd, TlsOptions& o) {
  cmd.add_flag("--tls", o.listen,
               "Speak TLS on the listening side, with a throw-away CA and leaf for localhost, "
               "127.0.0.1 and ::1 made at start");
  cmd.add_option("--tls-version", o.version, "With --tls: 1.3 or 1.2")->capture_default_str();
}

void add_keylog_option(CLI::App& cmd, TlsOptions& o) {
  cmd.add_option("--keylog", o.keylog,
                 "Write every TLS session's secrets here (NSS key log, as SSLKEYLOGFILE); default "
                 "NAME.keys beside --capture NAME.pcap");
}

std::string key_log_path(const std::string& keylog, const std::string& capture) {
  if (!keylog.empty()) return keylog;
  if (capture.empty()) return "";
  return key_log_path_for(capture);
}

std::string TlsSetup::make(const TlsOptions& o, bool uses_tls, const std::string& capture) {
  if (o.listen || o.version != "1.3") {
    version = ep::tls_version_from_string(o.version);
    if (!version) return fmt::format("--tls-version '{}': expected 1.3 or 1.2", o.version);
    if (!o.listen) return "--tls-version needs --tls";
  }
  if (!o.keylog.empty() && !uses_tls) return "--keylog needs a TLS side";
  try {
    if (o.listen) identity = ep::TlsIdentity::make();
    if (const std::string path = key_log_path(o.keylog, capture); uses_tls && !path.empty())
      key_log = std::make_shared<ep::KeyLogFile>(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::shared_ptr<ep::TlsContext> TlsSetup::listening() const {
  if (!identity) return nullptr;
  return ep::TlsContext::server(identity, version.value_or(ep::TlsVersion::tls1_3), key_log);
}

std::shared_ptr<ep::TlsContext> TlsSetup::connecting(const std::string& server_name) const {
  return ep::TlsContext::client(nullptr, key_log, server_name);
}

std::string TlsSetup::describe() const {
  std::string out;
  if (identity) {
    const std::string spki = identity->leaf_spki_sha256();
    out = fmt::format(
        "tls {}, leaf SPKI sha256 {} (Chromium: --ignore-certificate-errors-spki-list={})",
        ep::to_string(version.value_or(ep::TlsVersion::tls1_3)), spki, spki);
  }
  if (key_log) out += fmt::format("{}key log {}", out.empty() ? "" : "; ", key_log->path());
  return out;
}

}  // namespace closewire::cli
