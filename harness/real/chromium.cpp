#include "harness/real/chromium.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>

#include <filesystem>

namespace closewire::real {

namespace {
constexpr std::chrono::milliseconds kCallTimeout{10000};
}

std::string chromium_cache_dir() {
  const char* env = std::getenv("CLOSEWIRE_CHROMIUM_CACHE");
  return env && *env ? env : kChromiumCacheDefault;
}

std::string chromium_binary(const std::string& build) {
  if (build.empty()) return kChromiumPath;
  return (std::filesystem::path(chromium_cache_dir()) / build / "chromium").string();
}

int chromium_build_major(const std::string& build) {
  if (build.empty() || build.size() > 4) return 0;
  int major = 0;
  for (char ch : build) {
    if (ch < '0' || ch > '9') return 0;
    major = major * 10 + (ch - '0');
  }
  return major;
}

bool chromium_build_is_legacy(const std::string& build) {
  const int major = chromium_build_major(build);
  return major > 0 && major <= 105;
}

std::vector<std::string> chromium_command(const std::string& build, const std::string& binary,
                                          const std::string& user_data_dir,
                                          const std::string& trusted_spki,
                                          const std::string& key_log_file) {
  // Old builds (npm's @sparticuz packages) need no --single-process or --no-zygote here; the
  // GPU is off since nothing is drawn.
  std::vector<std::string> command{binary,
          build.empty() ? "--headless=new" : "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + user_data_dir,
          "--remote-debugging-port=0"};
  // The flag is honoured only with a --user-data-dir (always given here).
  if (!trusted_spki.empty())
    command.push_back("--ignore-certificate-errors-spki-list=" + trusted_spki);
  if (!key_log_file.empty()) command.push_back("--ssl-key-log-file=" + key_log_file);
  return command;
}

std::shared_ptr<Chromium> Chromium::launch(const std::string& build,
                                           const std::string& trusted_spki,
                                           std::chrono::milliseconds timeout) {
  const std::string binary = chromium_binary(build);
  if (build.empty() && find_program(kChromiumPath).empty()) {
    throw EnvironmentError(fmt::format(
        "{} not found: install Debian's package 'chromium' (tools/setup)", kChromiumPath));
  }
  if (!build.empty() && chromium_build_major(build) == 0)
    throw EnvironmentError(fmt::format("chromium build '{}' is not a major version", build));
  if (!build.empty() && access(binary.c_str(), X_OK) != 0) {
    throw EnvironmentError(fmt::format(
        "Chromium {} not found at {}: run tools/legacy-chromium/fetch {} (needs the npm registry)",
        build, binary, build));
  }
  std::shared_ptr<Chromium> c(new Chromium());
  c->build_ = build;
  c->trusted_spki_ = trusted_spki;
  std::string dir = (std::filesystem::temp_directory_path() / "closewire-chromium-XXXXXX").string();
  if (!mkdtemp(dir.data()))
    throw EnvironmentError("chromium: cannot create a profile folder in " + dir);
  c->user_data_dir_ = dir;
  if (!trusted_spki.empty())
    c->key_log_path_ = (std::filesystem::path(dir) / "ssl-keys.log").string();
  c->process_ = std::make_unique<ChildProcess>(build.empty() ? "chromium" : "chromium-" + build,
                                               chromium_command(build, binary, dir, trusted_spki, c->key_log_path_));
  const std::string prefix = "DevTools listening on ";
  const std::string line = c->process_->wait_for_line(
      [&](const std::string& l) { return l.starts_with(prefix); }, timeout);
  const std::string url = line.substr(prefix.size());
  const WsUrl u = parse_ws_url(url);
  c->devtools_host_ = u.host + ":" + u.port;
  c->browser_ = std::make_unique<RpcConnection>("DevTools", url, kCallTimeout);
  const auto v = c->browser_->call("Browser.getVersion", nlohmann::json::object(), kCallTimeout);
  c->version_ = v.value("product", "");
  // "HeadlessChrome/105.0.5173.0": the cache must hold the build it is named after.
  if (!build.empty()) {
    const auto slash = c->version_.find('/');
    const std::string version = slash == std::string::npos ? "" : c->version_.substr(slash + 1);
    if (!version.starts_with(build + ".")) {
      throw EnvironmentError(fmt::format(
          "{} reports '{}', not Chromium {}: run tools/legacy-chromium/fetch {} again after "
          "removing {}",
          binary, c->version_, build, build, std::filesystem::path(binary).parent_path().string()));
    }
  }
  return c;
}

Chromium::~Chromium() {
  if (browser_) {
    try {
      browser_->call("Browser.close", nlohmann::json::object(), std::chrono::milliseconds(2000));
    } catch (const std::exception&) {
      // The process group is killed below in any case.
    }
    browser_.reset();
  }
  if (process_) process_->stop(std::chrono::milliseconds(2000));
  std::error_code ignored;
  if (!user_data_dir_.empty()) std::filesystem::remove_all(user_data_dir_, ignored);
}

ChromiumPage Chromium::open_page() {
  const auto r = browser_->call("Target.createTarget", {{"url", "about:blank"}}, kCallTimeout);
  ChromiumPage page;
  page.target_id = r.value("targetId", "");
  if (page.target_id.empty())
    throw EnvironmentError("chromium: Target.createTarget returned no targetId");
  page.ws_url = fmt::format("ws://{}/devtools/page/{}", devtools_host_, page.target_id);
  return page;
}

void Chromium::close_page(const std::string& target_id) {
  try {
    browser_->call("Target.closeTarget", {{"targetId", target_id}}, kCallTimeout);
  } catch (const std::exception&) {
    // A page that is gone already is closed.
  }
}

}  // namespace closewire::real
