// `closewire sweep FILE...`: a scenario's outcome matrix over the keys its `sweep:` block varies;
// `closewire sweep --merge A.json B.json`: shards joined into one matrix.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace closewire::cli {

struct SweepCommandOptions {
  std::vector<std::string> files;  // sweep files, or with --merge the shards' JSON
  std::vector<std::string> vary;   // KEY=VALUES
  std::string out_dir = "out/sweeps";
  unsigned jobs = 0;  // 0: kDefaultSweepJobs
  bool json = false;
  bool csv = false;
  std::string html_file;
  std::string shard;  // "K/N"
  bool merge = false;
  std::size_t max_points = 10'000;
  double tolerance_scale = 0;
  bool verbose = false;
  std::string client;
  std::string server;
};

CLI::App* add_sweep_command(CLI::App& app, SweepCommandOptions& options);
int run_sweep(const SweepCommandOptions& options);

}  // namespace closewire::cli
