#include "tools/closewire/replay_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/chain_assembler.h"
#include "harness/analysis/diagnosis.h"
#include "harness/analysis/key_log_file.h"
#include "harness/expect/evaluate.h"
#include "harness/expect/expectation.h"
#include "harness/report/chain_report.h"
#include "harness/report/html_report.h"
#include "harness/report/json_report.h"
#include "harness/report/text_report.h"
#include "harness/spec/spec_error.h"
#include "tools/closewire/exit_status.h"

namespace closewire::cli {
namespace {

std::string leg_name(const Connection& c) {
  return leg_label(c);  // "leg 15", "leg 15 stream 1"
}

EvalContext context_for(const std::vector<Connection>& legs, double scale) {
  EvalContext ctx;
  ctx.tolerance_scale = scale;
  for (const auto& c : legs) {
    ctx.legs.push_back(LegView{leg_name(c), &c});
    if (c.websocket || undecryptable_tls(c)) ctx.default_legs.push_back(ctx.legs.size() - 1);
  }
  return ctx;
}

// Replays one capture; returns its exit status.
int replay_one(const std::string& file, const ReplayOptions& opt,
               const std::optional<std::vector<Expectation>>& expectations, double scale,
               report::JsonStream* json, const report::TextStyle& style,
               std::vector<report::HtmlSection>* html, const wire::TlsKeyLog& key_logs) {
  // The --keylog secrets, plus NAME.keys beside the capture when there is one (over them, so
  // they are not copied for each capture).
  AnalyzerOptions options;
  options.key_log.set_base(&key_logs);
  const std::string beside = key_log_beside(file);
  if (!beside.empty()) {
    try {
      for (const std::string& w : read_key_log(beside, options.key_log))
        std::fprintf(stderr, "closewire: warning: %s\n", w.c_str());
    } catch (const KeyLogError& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "closewire: %s\n", e.what());
      return kBadInput;
    }
  }
  std::vector<Connection> kept;  // only when expectations or --html need the legs afterwards
  const bool keep = expectations || html;
  if (json) json->begin_capture(file);
  if (!json && !opt.quiet) {
    std::printf("━━ %s%s\n", file.c_str(),
                beside.empty() ? "" : fmt::format("  (TLS keys: {})", beside).c_str());
  }
  std::uint64_t undecrypted = 0;  // TLS legs no key opened: shown, with undecided verdicts
  // WebSocket legs are shown by chain, each chain once no later leg can join it.
  std::size_t chains = 0;
  // (JSON: the stream stitches its own, on its writing thread.)
  ChainAssembler assembler([&](AssembledChain&& a) {
    const auto diagnoses = diagnose(a.legs, a.chain);
    if (!opt.quiet) {
      std::printf(
          "%s", report::chain_text(++chains, a.legs, a.chain, diagnoses,
                                   report::endpoint_names(a.legs, a.chain), style, opt.all_verdicts)
                    .c_str());
    }
  });
  CaptureSummary summary;
  try {
    summary = analyze_capture(
        file,
        [&](Connection&& c) {
          const bool hidden_tls = !c.websocket && undecryptable_tls(c);
          undecrypted += hidden_tls ? 1 : 0;
          if (!json) assembler.add(c);
          if (json && !keep) {
            json->connection(std::move(c));
            return;
          }
          if (json) {
            json->connection(c);
          } else if (!opt.quiet && !c.websocket && (opt.all_legs || hidden_tls)) {
            const LegView names{leg_name(c), &c};
            std::printf("\n%s\n%s", report::leg_heading(c, names.name).c_str(),
                        report::timeline(c, names, style).c_str());
            if (hidden_tls) std::printf("\n%s", report::verdict_table(c, style).c_str());
          }
          if (keep) kept.push_back(std::move(c));
        },
        options);
    assembler.finish();
  } catch (const CaptureError& e) {
    if (json) json->end_capture_with_error(e.what());
    if (html) {
      report::HtmlSource src;
      src.anchor = fmt::format("c{}", html->size() + 1);
      src.title = file;
      src.status = "ERROR";
      src.error = e.what();
      html->push_back(report::html_section(src));
    }
    std::fflush(stdout);
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  int status = kOk;
  std::vector<Outcome> results;
  EvalContext ctx = context_for(kept, scale);
  // The chains find_chains gets from the kept legs: for expectations and the HTML page alike.
  std::vector<Chain> found;
  std::vector<std::vector<Diagnosis>> chain_diagnoses;
  if (keep) {
    found = find_chains(kept);
    for (const Chain& c : found) chain_diagnoses.push_back(diagnose(kept, c));
  }
  if (expectations) {
    for (std::size_t i = 0; i < found.size(); ++i)
      ctx.chains.push_back(ChainView{found[i].legs, found[i], chain_diagnoses[i], {}});
  }
  if (expectations) results = evaluate(*expectations, ctx);
  if (json) {
    json->end_capture(summary, expectations ? &results : nullptr);
  } else {
    const std::uint64_t hidden =
        opt.all_legs ? 0 : summary.connections - summary.websockets - undecrypted;
    std::printf(
        "\n%s: %llu packets, %llu legs, %llu WebSocket%s\n", file.c_str(),
        static_cast<unsigned long long>(summary.packets),
        static_cast<unsigned long long>(summary.connections),
        static_cast<unsigned long long>(summary.websockets),
        hidden
            ? fmt::format(" ({} non-WebSocket legs not shown; --all-legs shows them)", hidden).c_str()
            : "");
  }
  if (expectations) {
    std::size_t failed = 0;
    for (const auto& o : results) failed += o.passed ? 0 : 1;
    if (!json) {
      std::printf("\nexpectations (%s)\n%s  %zu passed, %zu failed\n", opt.expect_file.c_str(),
                  report::outcomes(results, style).c_str(), results.size() - failed, failed);
    }
    if (failed) status = kExpectationFailed;
  }
  if (html) {
    report::HtmlSource src;
    src.anchor = fmt::format("c{}", html->size() + 1);
    src.title = file;
    src.status = expectations
                     ? (status == kExpectationFailed ? "FAIL" : "PASS")
                     : fmt::format("{} chain{}", found.size(), found.size() == 1 ? "" : "s");
    if (summary.websockets == 0) src.error = "no WebSocket connection in the capture";
    {
      // The capture by its path relative to the page's folder.
      std::error_code ec;
      const auto dir =
          std::filesystem::absolute(std::filesystem::path(opt.html_file).parent_path(), ec);
      const auto rel = std::filesystem::proximate(std::filesystem::absolute(file, ec), dir, ec);
      src.links.emplace_back("capture", ec ? file : rel.generic_string());
    }
    src.legs = &kept;
    src.names.reserve(found.size());
    for (const Chain& c : found) src.names.push_back(report::endpoint_names(kept, c));
    src.chains = std::move(found);
    src.diagnoses = std::move(chain_diagnoses);
    if (expectations) src.outcomes = &results;
    html->push_back(report::html_section(src));
  }
  if (summary.websockets == 0 && undecrypted > 0) {
    // Not bad input: the WebSockets may be inside, but no key opened them.
    std::fflush(stdout);
    std::fprintf(stderr,
                 "closewire: %s: no WebSocket connection decrypted (%llu TLS legs not decrypted; "
                 "--keylog FILE or NAME.keys beside the capture gives their secrets)\n",
                 file.c_str(), static_cast<unsigned long long>(undecrypted));
  } else if (summary.websockets == 0) {
    std::fflush(stdout);
    std::fprintf(stderr, "closewire: %s: no WebSocket connection in the capture (%llu TCP legs)\n",
                 file.c_str(), static_cast<unsigned long long>(summary.connections));
    status = worst(status, kBadInput);
  }
  return status;
}

}  // namespace

CLI::App* add_replay_command(CLI::App& app, ReplayOptions& opt) {
  auto* cmd =
      app.add_subcommand("replay", "Turn stored captures into per-leg timelines and verdicts");
  cmd->footer(
      "Reads pcap and pcapng files (Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback;\n"
      "IPv4 and IPv6). TLS legs (TLS 1.3 and 1.2 with AES-GCM or ChaCha20-Poly1305) are\n"
      "decrypted with the secrets of --keylog files, of NAME.keys beside NAME.pcap/NAME.pcapng\n"
      "(found automatically) and of a pcapng's Decryption Secrets Blocks (editcap\n"
      "--inject-secrets); without them a TLS leg's verdicts are undecided.\n"
      "Exit status: 0 ok, 1 an expectation failed, 2 bad input or usage.");
  cmd->add_option("pcap", opt.captures, "Capture files to analyse")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--expect", opt.expect_file, "YAML expectations checked against each capture")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", opt.json, "One JSON object on stdout instead of text");
  cmd->add_option("--keylog", opt.key_logs,
                  "TLS secrets in the NSS key log format (SSLKEYLOGFILE) to decrypt TLS legs; "
                  "repeatable. NAME.keys beside NAME.pcap and a pcapng's Decryption Secrets "
                  "Blocks are used as well")
      ->allow_extra_args(false);  // one file per --keylog: the captures follow
  cmd->add_option("--html", opt.html_file,
                  "Also write one HTML page: a ladder diagram per chain, verdicts, diagnoses");
  cmd->add_flag("-q,--quiet", opt.quiet, "Text output: only the summary and expectation results");
  cmd->add_flag("--all-legs", opt.all_legs, "Text output: show the legs that are no WebSocket too (plain TCP, h2 connections)");
  cmd->add_flag("--all-verdicts", opt.all_verdicts,
                "Text output: browser verdicts on every leg of a chain, not only the client-facing "
                "one (an inner leg's client is a proxy)");
  // No --tolerance-scale: a stored capture's gaps are fixed numbers, whatever machine reads them.
  return cmd;
}

int run_replay(const ReplayOptions& opt) {
  std::optional<std::vector<Expectation>> expectations;
  const double scale = 1.0;
  try {
    if (!opt.expect_file.empty()) expectations = load_expectations(opt.expect_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire: %s\n", e.what());
    return kBadInput;
  }
  wire::TlsKeyLog key_logs;
  for (const std::string& path : opt.key_logs) {
    try {
      for (const std::string& w : read_key_log(path, key_logs))
        std::fprintf(stderr, "closewire: warning: %s\n", w.c_str());
    } catch (const KeyLogError& e) {
      std::fprintf(stderr, "closewire: %s\n", e.what());
      return kBadInput;
    }
  }
  const report::TextStyle style = report::style_for(stdout);
  std::optional<report::JsonStream> json;
  if (opt.json) {
    json.emplace(stdout);
    json->begin();
  }
  int status = kOk;
  std::vector<report::HtmlSection> sections;
  for (const auto& file : opt.captures) {
    status =
        worst(status, replay_one(file, opt, expectations, scale, json ? &*json : nullptr, style,
                                 opt.html_file.empty() ? nullptr : &sections, key_logs));
  }
  if (json) json->end();
  if (!opt.html_file.empty()) {
    std::ofstream html_out(opt.html_file);
    html_out << report::html_page("closewire replay", sections);
    html_out.flush();
    if (!html_out) {
      std::fflush(stdout);
      std::fprintf(stderr, "closewire: %s: cannot write the HTML page\n", opt.html_file.c_str());
      status = worst(status, kBadInput);
    }
  }
  return status;
}

}  // namespace closewire::cli
