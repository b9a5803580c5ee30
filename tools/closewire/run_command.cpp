#include "tools/closewire/run_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "harness/capture/live_capture.h"
#include "harness/spec/spec_error.h"
#include "harness/real/chromium.h"
#include "harness/scenario/variant.h"
#include "harness/report/scenario_report.h"
#include "harness/scenario/runner.h"
#include "harness/scenario/scenario_files.h"
#include "tools/closewire/exit_status.h"

namespace closewire::cli {
namespace {

std::vector<Scenario> load_all(const std::vector<std::string>& paths,
                               const VariantRequest& variant) {
  std::vector<Scenario> scenarios;
  for (const auto& f : find_scenario_files(paths))
    scenarios.push_back(make_variant(load_scenario(f), variant));
  // Output files are named after scenarios: two of one name would overwrite each other.
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

// NAME.json beside NAME.pcap, for a run that got as far as its verdicts.
void write_json(const ScenarioResult& r) {
  if (r.status != ScenarioResult::Status::passed && r.status != ScenarioResult::Status::failed)
    return;
  std::ofstream(r.json_path) << report::scenario_json_text(r);
}

}  // namespace

CLI::App* add_run_command(CLI::App& app, RunCommandOptions& opt) {
  auto* cmd = app.add_subcommand(
      "run", "Run scenarios: endpoints on loopback, live capture, verdicts, expectations");
  cmd->footer(
      "PATH is a scenario file or a folder of them (*.yaml, recursively). Each run writes\n"
      "NAME.pcap and NAME.json into --out. Needs capture rights on lo (root or CAP_NET_RAW).\n"
      "Exit status: 0 all passed, 1 a scenario failed, 2 bad input, 3 cannot capture.");
  cmd->add_option("path", opt.paths, "Scenario files or folders")->required();
  cmd->add_option("-o,--out", opt.out_dir, "Folder for each run's pcap and JSON")
      ->capture_default_str();
  cmd->add_flag("--json", opt.json, "One JSON object on stdout instead of text");
  cmd->add_option("--report", opt.report_file,
                  "Also write every leg's timeline and verdicts to this file");
  cmd->add_option("-j,--jobs", opt.jobs, "Scenarios at once (default: all; ports are dynamic)");
  cmd->add_flag("-v,--verbose", opt.verbose,
                "Show every expectation and the endpoints' observations");
  cmd->add_option(
         "--client", opt.client,
         "Run every scenario with this real client instead of its model: chromium (Debian's) or "
         "chromium-BUILD, e.g. chromium-105 (tools/legacy-chromium/fetch); a variant "
         "NAME@chromium-105")
      ->check(CLI::Validator(
          [](std::string& v) {
            return parse_real_client(v)
                       ? std::string()
                       : "not chromium or chromium-BUILD (e.g. chromium-105): " + v;
          },
          "chromium|chromium-BUILD"));
  cmd->add_option(
         "--server", opt.server,
         "Run every scenario with this real server instead of the model (a variant NAME@node-ws)")
      ->check(CLI::IsMember({"node-ws"}));
  cmd->add_option("--skipped-status", opt.skipped_status,
                  "Exit status when every scenario was skipped (77 tells meson 'skipped')");
  cmd->add_option(
         "--tolerance-scale", opt.tolerance_scale,
         "Multiply timing tolerances (slow machines); default CLOSEWIRE_TOLERANCE_SCALE or 1")
      ->check(CLI::Range(1.0, 100.0));
  return cmd;
}

int run_run(const RunCommandOptions& opt) {
  std::vector<Scenario> scenarios;
  RunOptions run_options;
  run_options.out_dir = opt.out_dir;
  try {
    scenarios = load_all(opt.paths, VariantRequest{opt.client, opt.server});
    run_options.tolerance_scale =
        opt.tolerance_scale ? opt.tolerance_scale : tolerance_scale_from_env();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  const unsigned jobs =
      opt.jobs ? opt.jobs : static_cast<unsigned>(std::max<std::size_t>(1, scenarios.size()));
  // The run's capture rings are opened now, before the first scenario's timers run, one per
  // scenario running at once, and reused (capture_ring.h); the first one is also the check that
  // this machine may capture at all.
  const auto capturing = static_cast<std::size_t>(
      std::count_if(scenarios.begin(), scenarios.end(),
                    [](const Scenario& s) { return skip_reason(s).empty(); }));
  if (capturing > 0) {
    run_options.capture_rings =
        std::make_shared<CaptureRingPool>(std::min<std::size_t>(capturing, jobs), "lo");
    if (run_options.capture_rings->size() == 0) {
      std::fprintf(stderr, "closewire: %s\n", run_options.capture_rings->error().c_str());
      return kEnvironment;
    }
  }
  // Real peers are stopped on every exit path: destructors, and on SIGINT/SIGTERM a handler that
  // kills their process groups.
  real::install_signal_cleanup();
  // One browser for the whole run, started here (not in a worker thread: its parent-death signal
  // follows the thread that started it): the build of the first scenario that needs one (a
  // scenario of another build starts its own).
  const auto needs_browser =
      std::find_if(scenarios.begin(), scenarios.end(), [](const Scenario& s) {
        return s.client.real == "chromium" && skip_reason(s).empty();
      });
  if (needs_browser != scenarios.end()) {
    try {
      run_options.chromium = real::Chromium::launch(needs_browser->client.build);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "closewire: %s\n", e.what());
      return kEnvironment;
    }
  }
  std::vector<std::unique_ptr<ScenarioResult>> results(scenarios.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < std::min<std::size_t>(jobs, scenarios.size()); ++w) {
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < scenarios.size();)
        {
        results[i] = run_scenario(scenarios[i], run_options);
        write_json(*results[i]);
      }
    });
  }
  for (auto& t : workers) t.join();

  const report::TextStyle style = report::style_for(stdout);
  int status = kOk;
  std::size_t passed = 0;
  std::size_t skipped = 0;
  if (opt.json) std::printf("{\"scenarios\":[");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const ScenarioResult& r = *results[i];
    if (r.status == ScenarioResult::Status::passed) ++passed;
    if (r.status == ScenarioResult::Status::skipped) ++skipped;
    status = worst(status, r.status == ScenarioResult::Status::passed ||
                                   r.status == ScenarioResult::Status::skipped
                               ? kOk
                           : r.status == ScenarioResult::Status::bad_input   ? kBadInput
                           : r.status == ScenarioResult::Status::environment ? kEnvironment
                                                                             : kExpectationFailed);
    if (opt.json) {
      const bool judged = r.status == ScenarioResult::Status::passed ||
                          r.status == ScenarioResult::Status::failed;
      const auto stub = r.status == ScenarioResult::Status::skipped
                            ? nlohmann::json({{"scenario", r.scenario->name}, {"skipped", r.error}})
                            : nlohmann::json({{"scenario", r.scenario->name}, {"error", r.error}});
      std::printf("%s%s", i ? "," : "",
                  judged ? report::scenario_json_text(r).c_str()
                         : stub.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (r.status == ScenarioResult::Status::environment ||
               r.status == ScenarioResult::Status::bad_input) {
      std::fprintf(stderr, "closewire: %s\n", r.error.c_str());
    } else {
      std::fputs(report::scenario_line(r, style, opt.verbose).c_str(), stdout);
    }
  }
  if (!opt.report_file.empty()) {
    std::ofstream report_out(opt.report_file);
    for (const auto& r : results) report_out << report::scenario_account(*r);
    if (!report_out) {
      std::fprintf(stderr, "closewire: %s: cannot write the report\n", opt.report_file.c_str());
      status = worst(status, kEnvironment);
    }
  }
  if (opt.json) {
    std::printf("]}\n");
  } else {
    std::printf("\nscenarios: %zu passed, %zu failed%s\n", passed,
                results.size() - passed - skipped,
                skipped ? fmt::format(", {} skipped", skipped).c_str() : "");
  }
  if (status == kOk && skipped == results.size() && !results.empty()) return opt.skipped_status;
  return status;
}

CLI::App* add_list_command(CLI::App& app, ListOptions& opt) {
  auto* cmd = app.add_subcommand("list", "List scenarios with what each shows");
  cmd->add_option("path", opt.paths, "Scenario files or folders")->capture_default_str();
  return cmd;
}

int run_list(const ListOptions& opt) {
  std::vector<std::string> files;
  try {
    files = find_scenario_files(opt.paths);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  int status = kOk;
  for (const auto& f : files) {
    try {
      const Scenario s = load_scenario(f);
      std::printf("%s  (%s)\n", s.name.c_str(), s.file.c_str());
      // The about sentence, wrapped to 80 columns under the name.
      std::string line = "   ";
      std::istringstream words(s.about);
      for (std::string w; words >> w;) {
        if (line.size() + 1 + w.size() > 80) {
          std::printf("%s\n", line.c_str());
          line = "   ";
        }
        line += " " + w;
      }
      std::printf("%s\n", line.c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "closewire: %s\n", e.what());
      status = kBadInput;
    }
  }
  return status;
}

}  // namespace closewire::cli
