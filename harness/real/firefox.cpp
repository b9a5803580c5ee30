#include "harness/real/firefox.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace closewire::real {

namespace {
constexpr std::chrono::milliseconds kCallTimeout{10000};
constexpr const char* kListening = "WebDriver BiDi listening on ";
}  // namespace

std::vector<std::string> firefox_command(const std::string& binary,
                                         const std::string& profile_dir,
                                         const std::string& key_log_file) {
  std::vector<std::string> command;
  if (!key_log_file.empty()) command = {"/usr/bin/env", "SSLKEYLOGFILE=" + key_log_file};
  for (const std::string& arg : {binary, std::string("--headless"), std::string("--no-remote"),
                                 std::string("--profile"), profile_dir,
                                 std::string("--remote-debugging-port=0")})
    command.push_back(arg);
  return command;
}

std::string firefox_user_js() {
  // The remote agent sets its own recommended prefs too, but only once it runs; these hold from
  // the first moment.
  return R"(// closewire: a throwaway profile for one run (harness/real/firefox.cpp).
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.startup.page", 0);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("app.update.disabledForTesting", true);
user_pref("app.update.auto", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.normandy.enabled", false);
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.proxy.type", 0);
)";
}

std::optional<std::string> bidi_listening_url(const std::string& line) {
  const std::size_t at = line.find(kListening);
  if (at == std::string::npos) return std::nullopt;
  std::string url = line.substr(at + std::string(kListening).size());
  while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) url.pop_back();
  if (!url.starts_with("ws://")) return std::nullopt;
  return url;
}

std::shared_ptr<Firefox> Firefox::launch(std::chrono::milliseconds timeout) {
  if (find_program(kFirefoxPath).empty()) {
    throw EnvironmentError(fmt::format("{} not found: install Debian's package '{}' (tools/setup)",
                                       kFirefoxPath, kFirefoxPackage));
  }
  std::shared_ptr<Firefox> f(new Firefox());
  std::string dir = (std::filesystem::temp_directory_path() / "closewire-firefox-XXXXXX").string();
  if (!mkdtemp(dir.data()))
    throw EnvironmentError("firefox: cannot create a profile folder in " + dir);
  f->profile_dir_ = dir;
  std::ofstream(std::filesystem::path(dir) / "user.js") << firefox_user_js();
  f->key_log_path_ = (std::filesystem::path(dir) / "ssl-keys.log").string();
  f->process_ = std::make_unique<ChildProcess>(kFirefoxPackage,
                                               firefox_command(kFirefoxPath, dir, f->key_log_path_));
  std::string line;
  try {
    line = f->process_->wait_for_line(
        [](const std::string& l) { return bidi_listening_url(l).has_value(); }, timeout);
  } catch (const EnvironmentError& e) {
    throw EnvironmentError(
        fmt::format("no '{}ws://...' line from {}: {}", kListening, kFirefoxPackage, e.what()));
  }
  // One connection, one session: BiDi has no endpoint per tab.
  f->bidi_ = std::make_shared<RpcConnection>("WebDriver BiDi",
                                             *bidi_listening_url(line) + "/session", kCallTimeout);
  // The first answer waits for the browser's first window: seconds on a busy machine.
  // acceptInsecureCerts: wss:// to the run's throw-away leaf (made per run, so no profile can
  // hold it beforehand). It waives certificate checks for the whole session; the browser only
  // ever reaches the run's own loopback endpoints.
  const nlohmann::json capabilities = {{"alwaysMatch", {{"acceptInsecureCerts", true}}}};
  const auto r = f->bidi_->call("session.new", {{"capabilities", capabilities}}, timeout);
  f->version_ =
      r.value("capabilities", nlohmann::json::object()).value("browserVersion", "unknown");
  return f;
}

Firefox::~Firefox() {
  if (bidi_) {
    try {
      bidi_->call("browser.close", nlohmann::json::object(), std::chrono::milliseconds(2000));
    } catch (const std::exception&) {
      // The process group is killed below in any case.
    }
    bidi_.reset();
  }
  if (process_) process_->stop(std::chrono::milliseconds(2000));
  std::error_code ignored;
  if (!profile_dir_.empty()) std::filesystem::remove_all(profile_dir_, ignored);
}

std::string Firefox::open_context() {
  const auto r = bidi_->call("browsingContext.create", {{"type", "tab"}}, kCallTimeout);
  const std::string context = r.value("context", "");
  if (context.empty())
    throw EnvironmentError("WebDriver BiDi browsingContext.create returned no context");
  return context;
}

void Firefox::close_context(const std::string& context) {
  try {
    bidi_->call("browsingContext.close", {{"context", context}}, kCallTimeout);
  } catch (const std::exception&) {
    // A tab that is gone already is closed.
  }
}

}  // namespace closewire::real
