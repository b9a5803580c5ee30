// html_in_chromium: closewire's HTML report as a reader gets it, in headless Chromium from the file
// system, checked over DevTools: no console error, failed load or resource besides the page; a
// chain and an arrow for each the run's own JSON has; no two ladder labels over each other;
// relative links to files that exist (the public reports a diagnosis names, class report-ref, are
// the page's only links out). Saves a full-page screenshot and prints the page's timings.
// Run by tests/report/html-in-chromium (suite 'real').
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "harness/real/chromium.h"
#include "harness/real/process.h"
#include "harness/real/rpc_connection.h"
#include "tests/report/html_check.h"

namespace {

using namespace closewire;
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::chrono::seconds kCallTimeout{10};
constexpr std::chrono::seconds kLoadTimeout{30};
constexpr std::chrono::seconds kScreenshotTimeout{60};
// Labels whose boxes share less than this (px, both ways) only touch: glyph boxes include the
// font's whole ascent and descent.
constexpr double kOverlapSlack = 0.5;

const char* const kUsage =
    "usage: html_in_chromium REPORT.html --expect RUN.json [--screenshot PNG] [--max-bytes N]\n"
    "                        [--max-load-ms MS]\n"
    "RUN.json: the run's `closewire run --json` or `closewire replay --json` output, whose chains\n"
    "and drawn events the page must show. Exit status: 0 every check held, 1 a check failed (one\n"
    "line each), 2 bad usage or input, 3 no browser here.\n";

// Evaluated in the page after its load event: what the checks need, as plain data.
constexpr const char* kFactsScript = R"JS((() => {
  const own = (t) => [...t.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE)
                                      .map((n) => n.data).join('');
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    href: location.href,
    readyState: document.readyState,
    articles: document.querySelectorAll('article').length,
    arrows: document.querySelectorAll('svg.ladder g.ev').length,
    ladders: [...document.querySelectorAll('svg.ladder')].map((svg) => ({
      where: svg.closest('article')?.id ?? '?',
      texts: [...svg.querySelectorAll('text')].map((t) => {
        const b = t.getBBox();
        return { text: own(t), x: b.x, y: b.y, width: b.width, height: b.height };
      }),
    })),
    links: [...document.querySelectorAll('a[href]:not(.report-ref)')]
               .filter((a) => !a.getAttribute('href').startsWith('#'))
               .map((a) => ({ href: a.getAttribute('href'), url: a.href })),
    resources: performance.getEntriesByType('resource').map((r) => r.name),
    domInteractive: nav ? nav.domInteractive : -1,
    loadEventEnd: nav ? nav.loadEventEnd : -1,
  };
})())JS";

struct Options {
  std::string report;
  std::string expect;
  std::string screenshot;
  std::optional<std::uintmax_t> max_bytes;
  std::optional<double> max_load_ms;
};

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--expect" && has_value) {
      o.expect = argv[++i];
    } else if (a == "--screenshot" && has_value) {
      o.screenshot = argv[++i];
    } else if (a == "--max-bytes" && has_value) {
      o.max_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--max-load-ms" && has_value) {
      o.max_load_ms = std::strtod(argv[++i], nullptr);
    } else if (!a.starts_with("--") && o.report.empty()) {
      o.report = a;
    } else {
      return std::nullopt;
    }
  }
  if (o.report.empty() || o.expect.empty()) return std::nullopt;
  return o;
}

// The page's events, kept as the connection's thread delivers them.
class EventLog {
 public:
  void attach(real::RpcConnection& page) {
    page.on_event([this](const json& e) {
      std::lock_guard lock(mutex_);
      events_.push_back(e);
      arrived_.notify_all();
    });
  }
  std::vector<json> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
  }
  // Waits until an event `method` is among those not yet taken; throws on the timeout.
  void wait_for(const std::string& method, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const bool came = arrived_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_)
        if (e.value("method", "") == method) return true;
      return false;
    });
    if (!came) throw std::runtime_error(fmt::format("no {} within {} ms", method, timeout.count()));
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<json> events_;
};

json evaluate(real::RpcConnection& page, const std::string& expression) {
  const json r = page.call("Runtime.evaluate",
                           {{"expression", expression}, {"returnByValue", true}}, kCallTimeout);
  if (r.contains("exceptionDetails")) {
    const auto& d = r["exceptionDetails"];
    throw std::runtime_error(
        "the check's script threw: " +
        d.value("exception", json::object()).value("description", d.value("text", "")));
  }
  return r.value("result", json::object()).value("value", json());
}

// The first pair of overlapping labels and how many ladders have one, as one line; empty when
// none overlap.
std::string overlapping_labels(const json& ladders, std::size_t& labels) {
  std::string first;
  std::size_t with_overlap = 0;
  for (const auto& ladder : ladders) {
    std::vector<htmlcheck::TextBox> boxes;
    for (const auto& t : ladder.at("texts")) {
      boxes.push_back({t.value("text", ""), t.value("x", 0.0), t.value("y", 0.0),
                       t.value("width", 0.0), t.value("height", 0.0)});
    }
    labels += boxes.size();
    const auto pair = htmlcheck::first_overlap(boxes, kOverlapSlack);
    if (!pair) continue;
    if (++with_overlap > 1) continue;
    const auto& a = boxes[pair->first];
    const auto& b = boxes[pair->second];
    first = fmt::format(
        "in the ladder of #{}: \"{}\" at ({:.1f}, {:.1f}, {:.1f}x{:.1f}) and \"{}\" at ({:.1f}, "
        "{:.1f}, {:.1f}x{:.1f})",
        ladder.value("where", "?"), a.text, a.x, a.y, a.width, a.height, b.text, b.x, b.y, b.width,
        b.height);
  }
  if (!with_overlap) return "";
  return fmt::format("labels overlap in {} of {} ladders; first {}", with_overlap, ladders.size(),
                     first);
}

// Writes the page from top to bottom as PNG; returns "WIDTHxHEIGHT, N bytes".
std::string screenshot(real::RpcConnection& page, const std::string& path) {
  const json metrics = page.call("Page.getLayoutMetrics", json::object(), kCallTimeout);
  const json size = metrics.at("cssContentSize");
  const double width = size.at("width").get<double>(), height = size.at("height").get<double>();
  const json shot = page.call(
      "Page.captureScreenshot",
      {{"format", "png"},
       {"captureBeyondViewport", true},
       {"clip", {{"x", 0}, {"y", 0}, {"width", width}, {"height", height}, {"scale", 1}}}},
      kScreenshotTimeout);
  const std::string png = htmlcheck::base64_decode(shot.value("data", ""));
  if (!htmlcheck::is_png(png))
    throw std::runtime_error(fmt::format("the screenshot ({} bytes) is no PNG", png.size()));
  std::ofstream out(path, std::ios::binary);
  out << png;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
  return fmt::format("{:.0f}x{:.0f}, {} bytes", width, height, png.size());
}

}  // namespace

int main(int argc, char** argv) {
  const auto opt = parse(argc, argv);
  if (!opt) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string name = opt->report;
  const auto fail_input = [&](const std::string& why) {
    std::fprintf(stderr, "html_in_chromium: %s\n", why.c_str());
    return 2;
  };
  std::error_code ec;
  const fs::path report = fs::absolute(opt->report, ec);
  const std::uintmax_t bytes = fs::file_size(report, ec);
  if (ec) return fail_input(name + ": " + ec.message());
  htmlcheck::PageCounts expected;
  try {
    std::ifstream in(opt->expect);
    if (!in) return fail_input(opt->expect + ": cannot read");
    expected = htmlcheck::expected_counts(json::parse(in));
  } catch (const std::exception& e) {
    return fail_input(opt->expect + ": " + e.what());
  }

  std::shared_ptr<real::Chromium> browser;
  try {
    browser = real::Chromium::launch("");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "html_in_chromium: %s\n", e.what());
    return 3;
  }
  std::vector<std::string> failures;
  const auto check = [&](bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  };
  check(
      !opt->max_bytes || bytes <= *opt->max_bytes,
      fmt::format("the page is {} bytes, over the {} allowed", bytes, opt->max_bytes.value_or(0)));
  std::string summary;
  try {
    real::RpcConnection page("DevTools", browser->open_page().ws_url, kCallTimeout);
    EventLog log;
    log.attach(page);
    // A fixed window, so the layout and the screenshot do not follow the headless default.
    page.call("Emulation.setDeviceMetricsOverride",
              {{"width", 1200}, {"height", 900}, {"deviceScaleFactor", 1}, {"mobile", false}},
              kCallTimeout);
    for (const char* domain : {"Runtime", "Log", "Network", "Page"})
      page.call(std::string(domain) + ".enable", json::object(), kCallTimeout);
    // about:blank's events stay out of the wait for the report's load event.
    std::vector<json> events = log.take();
    const std::string url = htmlcheck::file_url(report.string());
    const json nav = page.call("Page.navigate", {{"url", url}}, kCallTimeout);
    if (nav.contains("errorText"))
      throw std::runtime_error("cannot open " + url + ": " + nav["errorText"].get<std::string>());
    log.wait_for("Page.loadEventFired", kLoadTimeout);
    const json facts = evaluate(page, kFactsScript);
    // Every event up to the facts' answer: whatever the page said while loading.
    for (auto& e : log.take()) events.push_back(std::move(e));

    check(facts.value("href", "") == url && facts.value("readyState", "") == "complete",
          fmt::format("after its load event the page is {} ({}), not {}", facts.value("href", "?"),
                      facts.value("readyState", "?"), url));
    for (const auto& e : htmlcheck::page_errors(events)) failures.push_back(e);
    // Resource Timing, as a page sees its loads, and the network domain, which also sees file://.
    const auto resources = facts.value("resources", json::array());
    check(resources.empty(),
          fmt::format("the page lists {} resource(s) besides itself, first {}", resources.size(),
                      resources.empty() ? "" : resources[0].get<std::string>()));
    const auto requests = htmlcheck::requests_besides(events, url);
    check(requests.empty(), fmt::format("the page asked for {} URL(s) besides itself, first {}",
                                        requests.size(), requests.empty() ? "" : requests[0]));
    const auto articles = facts.value("articles", std::size_t{0});
    const auto arrows = facts.value("arrows", std::size_t{0});
    check(articles == expected.chains,
          fmt::format("{} chains (article) on the page, {} in the run's JSON", articles,
                      expected.chains));
    check(arrows == expected.arrows,
          fmt::format("{} arrows (svg.ladder g.ev) on the page, {} drawn events in the run's JSON",
                      arrows, expected.arrows));
    std::size_t labels = 0;
    const std::string overlap = overlapping_labels(facts.value("ladders", json::array()), labels);
    check(overlap.empty(), overlap);
    // Each relative link as the browser resolves it (a.href), first one that goes nowhere.
    const auto links = facts.value("links", json::array());
    std::string bad_link;
    for (const auto& link : links) {
      const std::string href = link.value("href", ""), target = link.value("url", "");
      const auto path = htmlcheck::file_url_path(target);
      if (!path) {
        bad_link = fmt::format("link \"{}\" leaves the file system ({})", href, target);
      } else if (!fs::is_regular_file(*path, ec)) {
        bad_link = fmt::format("link \"{}\" points to {}, which does not exist", href, *path);
      }
      if (!bad_link.empty()) break;
    }
    check(bad_link.empty(), bad_link);
    const double interactive = facts.value("domInteractive", -1.0);
    const double loaded = facts.value("loadEventEnd", -1.0);
    check(interactive > 0 && loaded >= interactive,
          fmt::format("no navigation timing (domInteractive {}, loadEventEnd {})", interactive,
                      loaded));
    check(!opt->max_load_ms || loaded <= *opt->max_load_ms,
          fmt::format("loadEventEnd at {:.1f} ms, over the {:.0f} ms allowed", loaded,
                      opt->max_load_ms.value_or(0)));
    summary = fmt::format(
        "{}: {} bytes, {} chains, {} arrows, {} labels in {} ladders, {} links; in {}: "
        "domInteractive {:.1f} ms, loadEventEnd {:.1f} ms",
        name, bytes, articles, arrows, labels, facts.value("ladders", json::array()).size(),
        links.size(), browser->version(), interactive, loaded);
    if (!opt->screenshot.empty())
      summary +=
          fmt::format("; screenshot {} ({})", opt->screenshot, screenshot(page, opt->screenshot));
  } catch (const std::exception& e) {
    failures.push_back(e.what());
  }
  if (!summary.empty()) std::printf("%s\n", summary.c_str());
  for (const auto& f : failures)
    std::fprintf(stderr, "html_in_chromium: %s: %s\n", name.c_str(), f.c_str());
  return failures.empty() ? 0 : 1;
}
