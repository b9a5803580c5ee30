// `closewire replay PCAP... [--json] [--expect FILE] [--keylog FILE]...`
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace closewire::cli {

struct ReplayOptions {
  std::vector<std::string> captures;
  std::string expect_file;
  std::string html_file;  // --html: one page, every capture's chains as ladders
  std::vector<std::string> key_logs;  // --keylog: NSS key logs for TLS legs (NAME.keys is added)
  bool json = false;
  bool quiet = false;
  bool all_legs = false;
  bool all_verdicts = false;
};

CLI::App* add_replay_command(CLI::App& app, ReplayOptions& options);
int run_replay(const ReplayOptions& options);

}  // namespace closewire::cli
