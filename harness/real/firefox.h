// Headless Firefox (Debian's firefox-esr), started once per `closewire run` or `closewire sweep`
// and shared by every scenario, each in its own tab; driven over WebDriver BiDi, whose one
// connection and one session serve every tab. Stopped, with its whole process group, on every
// exit path.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/real/process.h"
#include "harness/real/rpc_connection.h"

namespace closewire::real {

inline constexpr const char* kFirefoxPath = "/usr/bin/firefox-esr";
inline constexpr const char* kFirefoxPackage = "firefox-esr";

// The command line: headless, the run's own profile, no remote instance, WebDriver BiDi on a
// port the system picks; with `key_log_file`, NSS writes its TLS secrets there (SSLKEYLOGFILE,
// set through env(1): the child inherits closewire's environment otherwise).
std::vector<std::string> firefox_command(const std::string& binary, const std::string& profile_dir,
                                         const std::string& key_log_file = "");
// The profile's user.js: no first-run pages, updates, telemetry, studies or connectivity probes
// (noise in its output and connections nobody asked for); direct connections, whatever proxy the
// machine has.
std::string firefox_user_js();
// "WebDriver BiDi listening on ws://127.0.0.1:PORT" -> "ws://127.0.0.1:PORT"; nullopt for any
// other line.
std::optional<std::string> bidi_listening_url(const std::string& line);

class Firefox {
 public:
  // Starts the browser, connects to its BiDi endpoint (the port it announces) and opens the
  // session (session.new). Throws EnvironmentError naming the Debian package when the binary is
  // missing, when no listening line comes within `timeout`, or on an error answer.
  static std::shared_ptr<Firefox> launch(
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~Firefox();  // browser.close, stops the process group, removes the profile folder
  Firefox(const Firefox&) = delete;
  Firefox& operator=(const Firefox&) = delete;

  // Thread-safe: a fresh tab per scenario (browsingContext.create); its context id.
  std::string open_context();
  void close_context(const std::string& context);
  const std::shared_ptr<RpcConnection>& connection() const { return bidi_; }
  const std::string& version() const { return version_; }  // "153.8.0": browserVersion
  // Where NSS writes its TLS secrets (SSLKEYLOGFILE); see Chromium::key_log_path.
  const std::string& key_log_path() const { return key_log_path_; }

 private:
  Firefox() = default;
  std::string profile_dir_;
  std::unique_ptr<ChildProcess> process_;
  std::shared_ptr<RpcConnection> bidi_;
  std::string version_;
  std::string key_log_path_;
};

}  // namespace closewire::real
