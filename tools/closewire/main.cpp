// The closewire command.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "tools/closewire/exit_status.h"
#include "tools/closewire/probe_command.h"
#include "tools/closewire/proxy_command.h"
#include "tools/closewire/replay_command.h"
#include "tools/closewire/run_command.h"
#include "tools/closewire/serve_command.h"
#include "tools/closewire/sweep_command.h"

int main(int argc, char** argv) {
  using namespace closewire::cli;
  CLI::App app{"closewire: reproduce and prove how WebSocket connections close through proxies"};
  app.set_version_flag("--version", "closewire 0.1.0");
  app.require_subcommand(1);
  app.footer("Run 'closewire COMMAND --help' for a command's options.");
  ReplayOptions replay;
  CLI::App* replay_cmd = add_replay_command(app, replay);
  RunCommandOptions run;
  CLI::App* run_cmd = add_run_command(app, run);
  SweepCommandOptions sweep;
  CLI::App* sweep_cmd = add_sweep_command(app, sweep);
  ListOptions list;
  CLI::App* list_cmd = add_list_command(app, list);
  ServeOptions serve;
  CLI::App* serve_cmd = add_serve_command(app, serve);
  ProxyOptions proxy;
  CLI::App* proxy_cmd = add_proxy_command(app, proxy);
  ProbeOptions probe;
  CLI::App* probe_cmd = add_probe_command(app, probe);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "closewire: %s (try --help)\n", e.what());
    return kBadInput;
  }
  if (replay_cmd->parsed()) return run_replay(replay);
  if (run_cmd->parsed()) return run_run(run);
  if (sweep_cmd->parsed()) return run_sweep(sweep);
  if (list_cmd->parsed()) return run_list(list);
  if (serve_cmd->parsed()) return run_serve(serve);
  if (proxy_cmd->parsed()) return run_proxy(proxy);
  if (probe_cmd->parsed()) return run_probe(probe);
  return kBadInput;
}
