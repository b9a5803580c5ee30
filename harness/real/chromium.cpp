#include "harness/real/chromium.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>

namespace closewire::real {

namespace {
constexpr std::chrono::milliseconds kCallTimeout{10000};
}

std::shared_ptr<Chromium> Chromium::launch(std::chrono::milliseconds timeout) {
  if (find_program(kChromiumPath).empty()) {
    throw EnvironmentError(fmt::format(
        "{} not found: install Debian's package 'chromium' (tools/setup)", kChromiumPath));
  }
  std::shared_ptr<Chromium> c(new Chromium());
  std::string dir = (std::filesystem::temp_directory_path() / "closewire-chromium-XXXXXX").string();
  if (!mkdtemp(dir.data()))
    throw EnvironmentError("chromium: cannot create a profile folder in " + dir);
  c->user_data_dir_ = dir;
  c->process_ = std::make_unique<ChildProcess>(
      "chromium", std::vector<std::string>{kChromiumPath, "--headless=new", "--no-sandbox",
                                           "--disable-gpu", "--disable-quic", "--no-first-run",
                                           "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync",
                                           "--user-data-dir=" + dir, "--remote-debugging-port=0"});
  const std::string prefix = "DevTools listening on ";
  const std::string line = c->process_->wait_for_line(
      [&](const std::string& l) { return l.starts_with(prefix); }, timeout);
  const std::string url = line.substr(prefix.size());
  const WsUrl u = parse_ws_url(url);
  c->devtools_host_ = u.host + ":" + u.port;
  c->browser_ = std::make_unique<CdpConnection>(url, kCallTimeout);
  const auto v = c->browser_->call("Browser.getVersion", nlohmann::json::object(), kCallTimeout);
  c->version_ = v.value("product", "");
  return c;
}

Chromium::~Chromium() {
  if (browser_) {
    try {
      std::lock_guard lock(mutex_);
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
  std::lock_guard lock(mutex_);
  const auto r = browser_->call("Target.createTarget", {{"url", "about:blank"}}, kCallTimeout);
  ChromiumPage page;
  page.target_id = r.value("targetId", "");
  if (page.target_id.empty())
    throw EnvironmentError("chromium: Target.createTarget returned no targetId");
  page.ws_url = fmt::format("ws://{}/devtools/page/{}", devtools_host_, page.target_id);
  return page;
}

void Chromium::close_page(const std::string& target_id) {
  std::lock_guard lock(mutex_);
  try {
    browser_->call("Target.closeTarget", {{"targetId", target_id}}, kCallTimeout);
  } catch (const std::exception&) {
    // A page that is gone already is closed.
  }
}

}  // namespace closewire::real
