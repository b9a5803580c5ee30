#include "tools/closewire/sweep_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "harness/capture/live_capture.h"
#include "harness/real/process.h"
#include "harness/report/html_report.h"
#include "harness/report/scenario_report.h"
#include "harness/report/sweep_report.h"
#include "harness/scenario/batch.h"
#include "harness/scenario/sweep.h"
#include "harness/spec/duration.h"
#include "tools/closewire/exit_status.h"

namespace closewire::cli {
namespace {

// Points at once by default: a point mostly waits on its timers, so more than the two cores;
// beyond this the scheduler starts to blur scripted gaps (docs/sweeps.md has the figures).
constexpr unsigned kDefaultSweepJobs = 8;

bool parse_shard(const std::string& text, std::size_t& k, std::size_t& n) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  try {
    std::size_t used = 0;
    k = std::stoul(text.substr(0, slash), &used);
    if (used != slash) return false;
    n = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) return false;
  } catch (const std::exception&) {
    return false;
  }
  return n >= 1 && k >= 1 && k <= n;
}

struct Output {
  std::vector<report::SweepTable> tables;
  std::vector<report::HtmlSection> point_sections;  // the points' ladders, after the matrices
  std::map<std::string, std::string> anchor_of;     // a point's name -> its section's anchor
};

int print(const SweepCommandOptions& opt, const Output& out) {
  int status = kOk;
  for (const auto& t : out.tables)
    for (const auto& c : t.cells)
      status = worst(status, c.status == "PASS" || c.status == "SKIP" ? kOk
                             : c.status == "ERROR"                    ? kEnvironment
                                                                      : kExpectationFailed);
  if (opt.json) {
    nlohmann::json j = {{"sweeps", nlohmann::json::array()}};
    for (const auto& t : out.tables) j["sweeps"].push_back(report::sweep_json(t));
    std::printf("%s\n", j.dump(2).c_str());
  } else if (opt.csv) {
    for (std::size_t i = 0; i < out.tables.size(); ++i)
      std::fputs(report::sweep_csv(out.tables[i], i == 0).c_str(), stdout);
  } else {
    const auto style = report::style_for(stdout);
    for (std::size_t i = 0; i < out.tables.size(); ++i)
      std::printf("%s%s", i ? "\n" : "", report::sweep_matrix_text(out.tables[i], style).c_str());
  }
  if (!opt.html_file.empty()) {
    namespace fs = std::filesystem;
    const std::string dir = fs::path(opt.html_file).parent_path().string();
    std::vector<report::HtmlSection> sections;
    for (std::size_t i = 0; i < out.tables.size(); ++i) {
      sections.push_back(report::sweep_html(
          out.tables[i], fmt::format("m{}", i + 1), [&](const report::SweepCell& c) {
            // A point run here links to its ladder below; a merged one to its JSON.
            if (auto a = out.anchor_of.find(c.name); a != out.anchor_of.end())
              return "#" + a->second;
            std::error_code ec;
            const auto rel = fs::proximate(fs::absolute(c.json, ec),
                                           fs::absolute(dir.empty() ? "." : dir, ec), ec);
            return ec || c.json.empty() ? c.json : rel.generic_string();
          }));
    }
    for (const auto& s : out.point_sections) sections.push_back(s);
    std::ofstream html(opt.html_file);
    html << report::html_page("closewire sweep", sections);
    html.flush();
    if (!html) {
      std::fprintf(stderr, "closewire: %s: cannot write the HTML page\n", opt.html_file.c_str());
      status = worst(status, kEnvironment);
    }
  }
  return status;
}

int run_merge(const SweepCommandOptions& opt) {
  std::vector<report::SweepTable> slices;
  for (const auto& f : opt.files) {
    std::ifstream in(f);
    if (!in) {
      std::fprintf(stderr, "closewire: %s: cannot read the file\n", f.c_str());
      return kBadInput;
    }
    try {
      const auto j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_discarded() || !j.contains("sweeps"))
        throw std::runtime_error("not a sweep's JSON (closewire sweep --json writes one)");
      for (const auto& s : j.at("sweeps")) slices.push_back(report::sweep_table_from_json(s));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "closewire: %s: %s\n", f.c_str(), e.what());
      return kBadInput;
    }
  }
  // Slices of the same sweep (by file) are joined; different sweeps stay apart.
  std::vector<std::vector<report::SweepTable>> by_sweep;
  for (auto& s : slices) {
    auto it = std::find_if(by_sweep.begin(), by_sweep.end(),
                           [&](const auto& g) { return g.front().file == s.file; });
    if (it == by_sweep.end()) {
      by_sweep.push_back({std::move(s)});
    } else {
      it->push_back(std::move(s));
    }
  }
  Output out;
  try {
    for (const auto& g : by_sweep) out.tables.push_back(report::merge_sweep_tables(g));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: --merge: %s\n", e.what());
    return kBadInput;
  }
  int status = print(opt, out);
  for (const auto& t : out.tables) {
    if (t.cells.size() < t.total_points) {
      std::fprintf(stderr, "closewire: sweep %s: %zu of %zu points in the slices merged\n",
                   t.name.c_str(), t.cells.size(), t.total_points);
      status = worst(status, kExpectationFailed);
    }
  }
  return status;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepCommandOptions& opt) {
  auto* cmd = app.add_subcommand(
      "sweep", "Run a scenario over every combination of the values its sweep: block varies");
  cmd->footer(
      "FILE is a scenario with a `sweep:` block (docs/sweeps.md). Each point is a full live run\n"
      "(NAME-pNN.pcap and .json in --out/NAME/) with the scenario's expectations and the sweep's\n"
      "`when` rules. The matrix: first key as rows, second as columns, one table per value of\n"
      "the rest; then where the outcome flips, in words.\n"
      "Exit status: 0 every point passed, 1 a point failed, 2 bad input, 3 cannot capture.");
  cmd->add_option("file", opt.files, "Sweep files (with --merge: the shards' --json output)")
      ->required();
  cmd->add_option("--vary", opt.vary,
                  "Add or replace a dimension: KEY=a,b,c | KEY=[a, b] | KEY=FROM..TO/STEP "
                  "(e.g. 'proxies[*].latency=0ms..50ms/10ms')");
  cmd->add_option("-o,--out", opt.out_dir, "Folder for each point's pcap and JSON")
      ->capture_default_str();
  cmd->add_option("-j,--jobs", opt.jobs,
                  fmt::format("Points at once (default {})", kDefaultSweepJobs));
  auto* json =
      cmd->add_flag("--json", opt.json, "The matrix as JSON on stdout (points, boundaries)");
  cmd->add_flag("--csv", opt.csv, "One CSV row per point on stdout")->excludes(json);
  cmd->add_option("--html", opt.html_file,
                  "Also write one HTML page: the matrix, each cell linking to the point's ladder");
  cmd->add_option("--shard", opt.shard,
                  "Run the K-th of N slices of the points (K/N, e.g. 2/4); join with --merge");
  cmd->add_flag("--merge", opt.merge,
                "FILE... are --json outputs of shards: print them as one matrix, run nothing");
  cmd->add_option("--max-points", opt.max_points, "Refuse a sweep with more points")
      ->capture_default_str();
  cmd->add_option("--client", opt.client,
                  "Every point with this real client: chromium, chromium-BUILD (e.g. "
                  "chromium-105) or firefox");
  cmd->add_option("--server", opt.server, "Every point with this real server")
      ->check(CLI::IsMember({"node-ws"}));
  cmd->add_option(
         "--tolerance-scale", opt.tolerance_scale,
         "Multiply timing tolerances (slow machines); default CLOSEWIRE_TOLERANCE_SCALE or 1")
      ->check(CLI::Range(1.0, 100.0));
  cmd->add_flag("-v,--verbose", opt.verbose, "Each point's PASS/FAIL line as it ends");
  return cmd;
}

int run_sweep(const SweepCommandOptions& opt) {
  if (opt.merge) {
    if (!opt.vary.empty() || !opt.shard.empty() || !opt.client.empty() || !opt.server.empty()) {
      std::fprintf(stderr,
                   "closewire: --merge runs nothing: no --vary, --shard, --client, --server\n");
      return kBadInput;
    }
    return run_merge(opt);
  }
  SweepOptions options;
  options.vary = opt.vary;
  options.max_points = opt.max_points;
  options.variant = VariantRequest{opt.client, opt.server};
  if (!opt.client.empty() && !parse_real_client(opt.client)) {
    std::fprintf(stderr,
                 "closewire: --client: not chromium, chromium-BUILD (e.g. chromium-105) or "
                 "firefox: %s\n",
                 opt.client.c_str());
    return kBadInput;
  }
  if (!opt.shard.empty() && !parse_shard(opt.shard, options.shard, options.shards)) {
    std::fprintf(stderr, "closewire: --shard %s: write K/N with 1 <= K <= N, e.g. 2/4\n",
                 opt.shard.c_str());
    return kBadInput;
  }
  std::vector<Sweep> sweeps;
  RunOptions run_options;
  try {
    for (const auto& f : opt.files) sweeps.push_back(load_sweep(f, options));
    run_options.tolerance_scale =
        opt.tolerance_scale ? opt.tolerance_scale : tolerance_scale_from_env();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  // Each sweep's points as scenarios (results point into them: they live to the end).
  std::vector<std::vector<Scenario>> points_of;
  std::vector<Scenario> scenarios;
  for (const auto& s : sweeps) {
    auto& points = points_of.emplace_back();
    for (const auto& p : s.points) {
      points.push_back(p.scenario);
      scenarios.push_back(p.scenario);
    }
  }
  std::vector<std::unique_ptr<ScenarioResult>> results;
  const report::TextStyle style = report::style_for(stderr);
  const unsigned jobs = opt.jobs ? opt.jobs : kDefaultSweepJobs;
  try {
    // One capture ring per point running at once and one browser, for every sweep of the run.
    run_options.capture_rings = std::make_shared<CaptureRingPool>(
        std::min<std::size_t>(std::max<std::size_t>(scenarios.size(), 1), jobs), "lo");
    if (run_options.capture_rings->size() == 0)
      throw CaptureEnvironmentError(run_options.capture_rings->error());
    real::install_signal_cleanup();
    launch_browsers(scenarios, run_options);
    for (std::size_t k = 0; k < sweeps.size(); ++k) {
      RunOptions o = run_options;
      o.out_dir = (std::filesystem::path(opt.out_dir) / sweeps[k].name).string();
      auto done = [&](const ScenarioResult& r) {
        if (report::judged(r)) std::ofstream(r.json_path) << report::scenario_json_text(r);
        if (opt.verbose) std::fputs(report::scenario_line(r, style, false).c_str(), stderr);
      };
      auto part = run_scenarios(points_of[k], o, jobs, done);
      for (auto& r : part) results.push_back(std::move(r));
    }
  } catch (const std::exception& e) {  // no capture rights, no browser
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kEnvironment;
  }
  Output out;
  std::size_t first = 0;
  for (const auto& s : sweeps) {
    std::vector<const ScenarioResult*> rs;
    for (std::size_t i = 0; i < s.points.size(); ++i) rs.push_back(results[first + i].get());
    out.tables.push_back(report::sweep_table(s, rs));
    if (!opt.html_file.empty()) {
      namespace fs = std::filesystem;
      const std::string dir = fs::path(opt.html_file).parent_path().string();
      for (std::size_t i = 0; i < s.points.size(); ++i) {
        out.point_sections.push_back(
            report::scenario_html(*rs[i], first + i + 1, dir.empty() ? "." : dir));
        out.anchor_of[s.points[i].scenario.name] = fmt::format("s{}", first + i + 1);
      }
    }
    first += s.points.size();
  }
  for (const auto& r : results)
    if (r->status == ScenarioResult::Status::environment ||
        r->status == ScenarioResult::Status::bad_input)
      std::fprintf(stderr, "closewire: %s: %s\n", r->scenario ? r->scenario->name.c_str() : "?",
                   r->error.c_str());
  return print(opt, out);
}

}  // namespace closewire::cli
