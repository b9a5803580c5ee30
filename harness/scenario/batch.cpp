#include "harness/scenario/batch.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "harness/capture/live_capture.h"
#include "harness/endpoints/tls_identity.h"
#include "harness/real/chromium.h"
#include "harness/real/firefox.h"
#include "harness/real/process.h"
#include "harness/scenario/scenario_files.h"
#include "harness/scenario/sweep.h"
#include "harness/spec/spec_error.h"

namespace closewire {

std::vector<Scenario> load_scenarios(const std::vector<std::string>& paths,
                                     const VariantRequest& variant) {
  std::vector<Scenario> scenarios;
  for (const auto& f : find_scenario_files(paths)) {
    // A sweep found in a folder is `closewire sweep`'s; named on its own, load_scenario says so.
    const bool named = std::find(paths.begin(), paths.end(), f) != paths.end();
    if (!named && is_sweep_file(f)) continue;
    scenarios.push_back(make_variant(load_scenario(f), variant));
  }
  if (scenarios.empty())
    throw SpecError(fmt::format("{}: only sweeps here: run them with 'closewire sweep'",
                                fmt::join(paths, " ")));
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (scenarios[i].name == scenarios[j].name) {
        throw SpecError(fmt::format("{}: the name '{}' is taken by {}", scenarios[i].file,
                                    scenarios[i].name, scenarios[j].file));
      }
    }
  }
  return scenarios;
}

void launch_browsers(const std::vector<Scenario>& scenarios, RunOptions& options) {
  auto first_needing = [&](const std::string& browser) {
    return std::find_if(scenarios.begin(), scenarios.end(), [&](const Scenario& s) {
      return s.client.real == browser && skip_reason(s).empty();
    });
  };
  const bool tls = std::any_of(scenarios.begin(), scenarios.end(), [](const Scenario& s) {
    return s.uses_tls() && skip_reason(s).empty();
  });
  if (tls && !options.tls_identity) options.tls_identity = endpoints::TlsIdentity::make();
  if (const auto c = first_needing("chromium"); c != scenarios.end() && !options.chromium) {
    options.chromium = real::Chromium::launch(
        c->client.build, options.tls_identity ? options.tls_identity->leaf_spki_sha256() : "");
  }
  if (first_needing("firefox") != scenarios.end() && !options.firefox)
    options.firefox = real::Firefox::launch();
}

std::vector<std::unique_ptr<ScenarioResult>> run_scenarios(
    const std::vector<Scenario>& scenarios, RunOptions options, unsigned jobs,
    const std::function<void(const ScenarioResult&)>& done) {
  if (jobs == 0) jobs = static_cast<unsigned>(std::max<std::size_t>(1, scenarios.size()));
  // The rings are opened now, before the first scenario's timers run, one per scenario running at
  // once, and reused; the first one is also the check that this machine may capture at all.
  const auto capturing = static_cast<std::size_t>(
      std::count_if(scenarios.begin(), scenarios.end(),
                    [](const Scenario& s) { return skip_reason(s).empty(); }));
  if (capturing > 0 && !options.capture_rings) {
    options.capture_rings =
        std::make_shared<CaptureRingPool>(std::min<std::size_t>(capturing, jobs), "lo",
                                          kRunRingBytes);
    if (options.capture_rings->size() == 0)
      throw CaptureEnvironmentError(options.capture_rings->error());
  }
  // Real peers are stopped on every exit path: destructors, and on SIGINT/SIGTERM a handler that
  // kills their process groups.
  real::install_signal_cleanup();
  // One browser of each kind for the whole run, started here, not in a worker thread.
  launch_browsers(scenarios, options);

  std::vector<std::unique_ptr<ScenarioResult>> results(scenarios.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < std::min<std::size_t>(jobs, scenarios.size()); ++w) {
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < scenarios.size();) {
        results[i] = run_scenario(scenarios[i], options);
        if (done) done(*results[i]);
      }
    });
  }
  for (auto& t : workers) t.join();
  return results;
}

}  // namespace closewire
