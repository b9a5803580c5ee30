// Headless Chromium, started once per `closewire run` and shared by every scenario (each gets its
// own page); stopped, with its whole process group, on every exit path. Debian's build, or an old
// build unpacked by tools/legacy-chromium/fetch into the cache (`client: {real: chromium, build:
// 105}`).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "harness/real/process.h"
#include "harness/real/rpc_connection.h"

namespace closewire::real {

inline constexpr const char* kChromiumPath = "/usr/bin/chromium";
inline constexpr const char* kChromiumCacheDefault = "/var/cache/closewire/chromium";

// $CLOSEWIRE_CHROMIUM_CACHE or kChromiumCacheDefault: builds in BUILD/chromium.
std::string chromium_cache_dir();
// The binary of `build` ("" = Debian's): CACHE/BUILD/chromium.
std::string chromium_binary(const std::string& build);
// The major version of a build ("105" -> 105); 0 for Debian's ("") or one that is not a number.
int chromium_build_major(const std::string& build);
// Builds up to 105 close a WebSocket as legacy Chrome does (1006 on the close timeout): their
// close event is judged by the `chrome-legacy` verdict, later ones (and Debian's) by `chrome`.
bool chromium_build_is_legacy(const std::string& build);
// The command line: legacy builds run the old headless mode (`--headless`; they predate
// `--headless=new`), Debian's the new one. `trusted_spki` (base64 SHA-256 of a leaf's public key,
// TlsIdentity::leaf_spki_sha256): certificate errors for that key are ignored, so wss:// to the
// run's throw-away leaf works and every other certificate is still checked. `key_log_file`: where
// it writes its TLS secrets.
std::vector<std::string> chromium_command(const std::string& build, const std::string& binary,
                                          const std::string& user_data_dir,
                                          const std::string& trusted_spki = "",
                                          const std::string& key_log_file = "");

struct ChromiumPage {
  std::string target_id;
  std::string ws_url;  // the page's own DevTools endpoint
};

class Chromium {
 public:
  // Starts the browser and connects to its DevTools endpoint (the port it announces on stderr);
  // needs no /json endpoint (old builds have no /json/protocol). Throws EnvironmentError naming
  // the Debian package, or the fetch script for a build not in the cache, or a build whose
  // version is not the one asked for. `build`: "" for Debian's, or a major version ("105").
  // `trusted_spki`: as in chromium_command ("" trusts nothing more).
  static std::shared_ptr<Chromium> launch(
      const std::string& build, const std::string& trusted_spki = "",
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~Chromium();  // stops the browser, removes its profile folder
  Chromium(const Chromium&) = delete;
  Chromium& operator=(const Chromium&) = delete;

  // Thread-safe: a fresh about:blank page per scenario.
  ChromiumPage open_page();
  void close_page(const std::string& target_id);
  const std::string& version() const { return version_; }  // "Chrome/156.0.8078.108"
  const std::string& build() const { return build_; }      // "" (Debian's) or "105"
  const std::string& trusted_spki() const { return trusted_spki_; }
  // Where it writes its TLS secrets (--ssl-key-log-file, NSS key log format) when it trusts a
  // leaf; "" otherwise. A run copies them into NAME.keys: on a leg between the browser and a
  // real proxy, no closewire endpoint holds the session's secrets.
  const std::string& key_log_path() const { return key_log_path_; }

 private:
  Chromium() = default;
  std::string user_data_dir_;
  std::unique_ptr<ChildProcess> process_;
  std::unique_ptr<RpcConnection> browser_;  // the browser-level session
  std::string devtools_host_;               // "127.0.0.1:PORT"
  std::string version_;
  std::string build_;
  std::string trusted_spki_;
  std::string key_log_path_;
};

}  // namespace closewire::real
