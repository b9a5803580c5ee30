// `closewire run PATH...` and `closewire list [PATH...]`
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace closewire::cli {

struct RunCommandOptions {
  std::vector<std::string> paths;
  std::string out_dir = "out/runs";
  bool json = false;
  std::string report_file;
  std::string html_file;  // --html: one page, every scenario's ladders
  unsigned jobs = 0;      // 0: every scenario at once (they mostly wait on timers)
  double tolerance_scale = 0;
  bool verbose = false;
  // "chromium" (Debian's), "chromium-105" (a build from tools/legacy-chromium/fetch's cache) or
  // "firefox" (Debian's firefox-esr): every scenario's client becomes the real browser (a
  // variant NAME@chromium-105)
  std::string client;
  std::string server;      // "node-ws": every scenario's server becomes the seed's Node ws server
  int skipped_status = 0;  // exit status when every scenario was skipped (meson: 77)
};

CLI::App* add_run_command(CLI::App& app, RunCommandOptions& options);
int run_run(const RunCommandOptions& options);

struct ListOptions {
  std::vector<std::string> paths = {"scenarios"};
  bool variants = false;  // each scenario's variants with real peers: runs, or why not
  bool zoo = false;       // the public reports the scenarios reproduce (default scenarios/zoo)
  bool markdown = false;  // with zoo: the table docs/zoo.md holds
};

CLI::App* add_list_command(CLI::App& app, ListOptions& options);
int run_list(const ListOptions& options);

}  // namespace closewire::cli
