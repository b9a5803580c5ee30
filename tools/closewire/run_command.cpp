#include "tools/closewire/run_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "harness/report/html_report.h"
#include "harness/report/scenario_report.h"
#include "harness/report/zoo_table.h"
#include "harness/scenario/batch.h"
#include "harness/scenario/scenario_files.h"
#include "harness/scenario/sweep.h"
#include "harness/spec/duration.h"
#include "tools/closewire/exit_status.h"

namespace closewire::cli {
namespace {

// NAME.json beside NAME.pcap, for a run that got as far as its verdicts.
void write_json(const ScenarioResult& r) {
  if (report::judged(r)) std::ofstream(r.json_path) << report::scenario_json_text(r);
}

int exit_status(const ScenarioResult& r) {
  switch (r.status) {
    case ScenarioResult::Status::passed:
    case ScenarioResult::Status::skipped:
      return kOk;
    case ScenarioResult::Status::bad_input:
      return kBadInput;
    case ScenarioResult::Status::environment:
      return kEnvironment;
    case ScenarioResult::Status::failed:
      break;
  }
  return kExpectationFailed;
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
  cmd->add_option("--html", opt.html_file,
                  "Also write one HTML page: a ladder diagram per chain, verdicts, diagnoses");
  cmd->add_option("-j,--jobs", opt.jobs, "Scenarios at once (default: all; ports are dynamic)");
  cmd->add_flag("-v,--verbose", opt.verbose,
                "Show every expectation and the endpoints' observations");
  cmd->add_option(
         "--client", opt.client,
         "Run every scenario with this real client instead of its model: chromium (Debian's), "
         "chromium-BUILD, e.g. chromium-105 (tools/legacy-chromium/fetch), or firefox "
         "(Debian's firefox-esr); a variant NAME@chromium-105")
      ->check(CLI::Validator(
          [](std::string& v) {
            return parse_real_client(v)
                       ? std::string()
                       : "not chromium, chromium-BUILD (e.g. chromium-105) or firefox: " + v;
          },
          "chromium|chromium-BUILD|firefox"));
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
    scenarios = load_scenarios(opt.paths, VariantRequest{opt.client, opt.server});
    run_options.tolerance_scale =
        opt.tolerance_scale ? opt.tolerance_scale : tolerance_scale_from_env();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  std::vector<std::unique_ptr<ScenarioResult>> results;
  try {
    results = run_scenarios(scenarios, run_options, opt.jobs, write_json);
  } catch (const std::exception& e) {  // no capture rights, no browser
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kEnvironment;
  }

  const report::TextStyle style = report::style_for(stdout);
  int status = kOk;
  std::size_t passed = 0;
  std::size_t skipped = 0;
  if (opt.json) std::printf("{\"scenarios\":[");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const ScenarioResult& r = *results[i];
    if (r.status == ScenarioResult::Status::passed) ++passed;
    if (r.status == ScenarioResult::Status::skipped) ++skipped;
    status = worst(status, exit_status(r));
    if (opt.json) {
      std::printf("%s%s", i ? "," : "", report::scenario_json_entry(r).c_str());
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
  if (!opt.html_file.empty()) {
    const std::string dir = std::filesystem::path(opt.html_file).parent_path().string();
    std::vector<report::HtmlSection> sections;
    for (std::size_t i = 0; i < results.size(); ++i)
      sections.push_back(report::scenario_html(*results[i], i + 1, dir.empty() ? "." : dir));
    std::ofstream html_out(opt.html_file);
    html_out << report::html_page("closewire run", sections);
    html_out.flush();
    if (!html_out) {
      std::fprintf(stderr, "closewire: %s: cannot write the HTML page\n", opt.html_file.c_str());
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
  cmd->add_flag("--variants", opt.variants,
                "Also each scenario's variants with real peers (run --client/--server): whether "
                "it runs, or why it does not apply");
  cmd->add_flag("--zoo", opt.zoo,
                "The public reports the scenarios reproduce (default path scenarios/zoo): report, "
                "symptom, mechanism, origin, fix, status");
  cmd->add_flag("--markdown", opt.markdown, "With --zoo: a Markdown table (docs/zoo.md)")
      ->needs("--zoo");
  return cmd;
}

namespace {

int list_zoo(const ListOptions& opt, const std::vector<std::string>& files) {
  std::vector<report::ZooRow> rows;
  int status = kOk;
  for (const auto& f : files) {
    if (is_sweep_file(f)) continue;
    try {
      const Scenario s = load_scenario(f);
      if (s.report) rows.push_back(report::zoo_row(s));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "closewire: %s\n", e.what());
      status = kBadInput;
    }
  }
  if (rows.empty() && status == kOk) {
    std::fprintf(stderr, "closewire: no scenario with a report (report: {ref, ...}) in %s\n",
                 fmt::format("{}", fmt::join(opt.paths, " ")).c_str());
    return kBadInput;
  }
  const std::string out = opt.markdown ? report::zoo_markdown(rows) : report::zoo_text(rows);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return status;
}

}  // namespace

int run_list(const ListOptions& opt) {
  std::vector<std::string> files;
  ListOptions o = opt;
  if (o.zoo && o.paths == ListOptions{}.paths) o.paths = {"scenarios/zoo"};
  try {
    files = find_scenario_files(o.paths);
    if (o.zoo) return list_zoo(o, files);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  int status = kOk;
  for (const auto& f : files) {
    try {
      Scenario s;
      if (is_sweep_file(f)) {
        const Sweep sweep = load_sweep(f, SweepOptions{});
        std::string dims;
        for (const auto& d : sweep.dimensions)
          dims += fmt::format("{}{} ({})", dims.empty() ? "" : " × ", d.key.text, d.values.size());
        s.name = sweep.name;
        s.file = sweep.file;
        s.about = sweep.about;
        std::printf("%s  (%s; sweep: %zu points, %s)\n", s.name.c_str(), s.file.c_str(),
                    sweep.total_points, dims.c_str());
      } else {
        s = load_scenario(f);
        std::printf("%s  (%s)\n", s.name.c_str(), s.file.c_str());
      }
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
      if (opt.variants && !is_sweep_file(f)) {
        for (const VariantRequest& v :
             {VariantRequest{"chromium", ""}, VariantRequest{"firefox", ""},
              VariantRequest{"", "node-ws"}}) {
          const Scenario variant = make_variant(s, v);
          const std::string why = skip_reason(variant);
          std::printf("    @%s: %s\n", v.client.empty() ? v.server.c_str() : v.client.c_str(),
                      why.empty() ? "runs" : why.c_str());
        }
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "closewire: %s\n", e.what());
      status = kBadInput;
    }
  }
  return status;
}

}  // namespace closewire::cli
