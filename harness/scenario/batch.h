// Many scenarios in one run: loaded with their variant, then run side by side, sharing what is
// costly to set up (the capture rings, one browser).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/scenario/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/variant.h"

namespace closewire {

// The scenario files under `paths` (files or folders), each as `variant`; sweep files in a folder
// are left to `closewire sweep` (one named on its own is an error). Throws SpecError for a
// bad file, and when two scenarios share a name (their output files would overwrite each other).
std::vector<Scenario> load_scenarios(const std::vector<std::string>& paths,
                                     const VariantRequest& variant);

// Launches, into `options`, the browsers the scenarios' real clients need, one each for all of
// them (ones `options` holds already are kept): Chromium of the build the first real-Chromium
// scenario asks for (a scenario of another build starts its own), and Firefox. When a scenario has
// a TLS leg it first makes the run's TLS identity (options.tls_identity), since Chromium is told
// at launch which leaf to trust. Call it on the
// thread that outlives the runs: a browser's parent-death signal follows the thread that started
// it. Throws real::EnvironmentError.
void launch_browsers(const std::vector<Scenario>& scenarios, RunOptions& options);

// Runs `scenarios`, `jobs` at once (0: all). Before the first one starts it opens a capture ring
// per scenario running at once (capture_ring.h says why) and launches the browsers
// (launch_browsers). `done` is called on a worker thread as each one ends. Throws
// CaptureEnvironmentError or real::EnvironmentError when the machine cannot run them.
std::vector<std::unique_ptr<ScenarioResult>> run_scenarios(
    const std::vector<Scenario>& scenarios, RunOptions options, unsigned jobs,
    const std::function<void(const ScenarioResult&)>& done = {});

}  // namespace closewire
