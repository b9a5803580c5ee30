#include "tools/closewire/serve_command.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>

#include "harness/endpoints/server.h"
#include "harness/standalone/accounts.h"
#include "harness/standalone/session.h"
#include "tools/closewire/exit_status.h"
#include "tools/closewire/signals.h"

namespace closewire::cli {

namespace ep = endpoints;

namespace {

// The server's on-open steps from --close, --reason and --after; nullopt on a bad value.
std::optional<std::vector<ep::Action>> on_open(const ServeOptions& o, std::string& error) {
  std::vector<ep::Action> steps;
  const auto after = parse_millis(o.after);
  if (!after) {
    error = fmt::format("--after '{}': expected a duration such as 500ms or 1s", o.after);
    return std::nullopt;
  }
  if (after->count() > 0) steps.push_back(ep::Action::wait(*after));
  if (o.close == "none") return steps;  // no Close frame: the client decides
  if (o.close == "empty") {
    steps.push_back(ep::Action::close());  // a Close without a status: the client sees 1005
    return steps;
  }
  unsigned code = 0;
  const auto [end, ec] = std::from_chars(o.close.data(), o.close.data() + o.close.size(), code);
  if (ec != std::errc() || end != o.close.data() + o.close.size() || code > 65535) {
    error =
        fmt::format("--close '{}': expected a close code (e.g. 4321), 'empty' or 'none'", o.close);
    return std::nullopt;
  }
  steps.push_back(ep::Action::close(static_cast<std::uint16_t>(code), o.reason));
  return steps;
}

}  // namespace

CLI::App* add_serve_command(CLI::App& app, ServeOptions& opt) {
  auto* cmd = app.add_subcommand("serve", "Run the built-in seed WebSocket server standalone");
  cmd->footer(
      "Behaves like the seed's Node ws 8 server: answers the upgrade, sends its Close on open,\n"
      "ends TCP (FIN, keeps reading) once the client's Close reply is in. With --tls (wss) it\n"
      "prints the leaf's SPKI hash for Chromium and writes a key log. Prints\n"
      "'listening on ADDR:PORT' when ready and one line per connection when it ends.\n"
      "SIGINT/SIGTERM close every connection, flush the capture and print a summary.\n"
      "Exit status: 0 stopped by a signal, 2 bad usage or busy port, 3 cannot capture.");
  cmd->add_option("--listen", opt.listen, "ADDR:PORT to listen on (port 0: the kernel picks)")
      ->required();
  cmd->add_option("--close", opt.close,
                  "Close code sent on open; 'empty' sends a Close without a code (1005), 'none' "
                  "sends no Close")
      ->capture_default_str();
  cmd->add_option("--reason", opt.reason, "Close reason")->capture_default_str();
  cmd->add_option("--after", opt.after, "Delay between the upgrade and the Close (e.g. 500ms)")
      ->capture_default_str();
  add_listen_tls_options(*cmd, opt.tls);
  add_keylog_option(*cmd, opt.tls);
  add_standalone_options(*cmd, opt.common, "the listen port");
  return cmd;
}

int run_serve(const ServeOptions& opt) {
  std::string error;
  const auto listen = parse_host_port(opt.listen, error);
  std::optional<std::vector<ep::Action>> steps;
  if (listen) {
    error = remote_refusal(*listen, opt.common.allow_remote, "--listen");
    if (error.empty()) steps = on_open(opt, error);
  }
  TlsSetup tls;
  if (error.empty()) error = tls.make(opt.tls, opt.tls.listen, opt.common.capture);
  if (!error.empty()) {
    std::fprintf(stderr, "closewire serve: %s\n", error.c_str());
    return kBadInput;
  }
  standalone::Session session({.command = "serve",
                               .capture_path = opt.common.capture,
                               .interface = opt.common.interface,
                               .key_log_path = tls.key_log ? tls.key_log->path() : ""});
  ep::ServerConfig config;
  config.host = listen->host;
  config.port = listen->port;
  config.on_open = std::move(*steps);
  config.tls = tls.listening();
  std::unique_ptr<ep::Server> server;
  try {
    server = std::make_unique<ep::Server>(session.io(), config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire serve: cannot listen on %s: %s\n", listen->str().c_str(),
                 e.what());
    return kBadInput;
  }
  const HostPort bound{listen->host, server->port()};
  if (const auto s = session.start_capture({bound.port}, bound.host); s != standalone::Status::ok) {
    return exit_status(s);
  }

  standalone::ServerAccounts accounts(session, *server, Endpoint{bound.host, bound.port});
  StopSignals signals(session.io(), [&](const std::string& by) { session.stop(by); });
  if (const std::string t = tls.describe(); !t.empty()) session.say(t + "\n");
  session.say(fmt::format("listening on {}\n", bound.str()));
  return exit_status(
      session.run([&] { accounts.stop(); }, [&] { return accounts.summary(); }));
}

}  // namespace closewire::cli
