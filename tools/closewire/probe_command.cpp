#include "tools/closewire/probe_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "harness/analysis/verdict.h"
#include "harness/report/text_report.h"
#include "harness/standalone/probe.h"
#include "tools/closewire/exit_status.h"
#include "tools/closewire/signals.h"
#include "tools/closewire/ws_url.h"

namespace closewire::cli {

CLI::App* add_probe_command(CLI::App& app, ProbeOptions& opt) {
  auto* cmd = app.add_subcommand(
      "probe", "Connect like a browser and check what it reports against the capture");
  cmd->footer(
      "Connects to URL (ws://HOST[:PORT][/PATH] or wss://, the certificate not checked) like\n"
      "the profile's browser at the socket level; over wss it writes its sessions' secrets to\n"
      "--keylog FILE (default NAME.keys beside --capture NAME.pcap), so the capture can be read.\n"
      "It captures its own connection (remote port, on --interface), prints the outcome it\n"
      "observed, the connection's timeline and the verdicts of every profile. A remote gateway\n"
      "needs --allow-remote and the interface that routes there, e.g. --interface eth0.\n"
      "Exit status: 0 the observed outcome equals the verdict for the profile on every\n"
      "connection, 1 otherwise, 2 bad usage or no connection, 3 cannot capture.");
  cmd->add_option("url", opt.url, "ws://HOST[:PORT][/PATH] or wss://HOST[:PORT][/PATH]")
      ->required();
  cmd->add_option("--profile", opt.profile, profile_names())
      ->required()
      ->check(CLI::Validator(
          [](std::string& v) {
            return profile_from_string(v) ? std::string()
                                          : v + " not in {" + profile_names() + "}";
          },
          "PROFILE"));
  cmd->add_option("--count", opt.count, "Connections, one after the other")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  cmd->add_option("--interval", opt.interval, "Pause between one connection's end and the next")
      ->capture_default_str();
  cmd->add_option("--timeout", opt.timeout, "Abandon a connection with no close event by then")
      ->capture_default_str();
  cmd->add_flag("--h2", opt.h2,
                "wss only: offer ALPN h2 and send the WebSocket as an RFC 8441 extended CONNECT\n"
                "when the server allows it (else HTTP/1.1 on a connection of its own, as a\n"
                "browser does); the h2 connection is closed after each close event");
  add_keylog_option(*cmd, opt.tls);
  add_standalone_options(*cmd, opt.common, "the connection (remote port)");
  return cmd;
}

int run_probe(const ProbeOptions& opt) {
  std::string error;
  standalone::ProbeSettings s;
  const auto url = parse_ws_url(opt.url, error);
  std::optional<std::string> host;
  if (url) host = resolve_host(url->host, error);
  if (host) {
    s.remote = Endpoint{*host, url->port};
    s.target = url->target;
    error = remote_refusal(HostPort{*host, url->port}, opt.common.allow_remote, "URL");
  }
  TlsSetup tls;
  // The probe needs its capture anyway; without --capture it is a temporary file, and over wss
  // its key log sits beside it (both removed at the end) so the verdicts can read the frames.
  const bool temporary = opt.common.capture.empty();
  s.capture_path = temporary ? standalone::Probe::temporary_capture() : opt.common.capture;
  const auto interval = parse_millis(opt.interval);
  const auto timeout = parse_millis(opt.timeout);
  if (error.empty() && !interval)
    error = fmt::format("--interval '{}': expected a duration", opt.interval);
  if (error.empty() && (!timeout || timeout->count() == 0)) {
    error = fmt::format("--timeout '{}': expected a duration above 0", opt.timeout);
  }
  if (error.empty() && url && opt.h2 && !url->tls)
    error = "--h2 needs a wss:// URL: browsers speak HTTP/2 only over TLS";
  // Last of the checks: it creates the key log file, which no later bad flag must leave behind.
  if (error.empty() && url) error = tls.make(opt.tls, url->tls, s.capture_path);
  if (!error.empty()) {
    std::fprintf(stderr, "closewire probe: %s\n", error.c_str());
    return kBadInput;
  }
  s.profile = *profile_from_string(opt.profile);
  s.verdict_profile = *profile_from_string(opt.profile);
  s.count = opt.count;
  s.interval = *interval;
  s.timeout = *timeout;
  s.h2 = opt.h2;
  s.interface = opt.common.interface;
  s.style = report::style_for(stdout);
  if (url->tls) {
    s.tls = tls.connecting(url->host);
    s.key_log_path = tls.key_log ? tls.key_log->path() : "";
  }

  auto remove_temporary = [&] {
    std::error_code ec;
    if (!temporary) return;
    std::filesystem::remove(s.capture_path, ec);
    if (opt.tls.keylog.empty() && !s.key_log_path.empty())
      std::filesystem::remove(s.key_log_path, ec);
  };
  const standalone::Output out = standalone::stdio_output();
  std::unique_ptr<standalone::Probe> probe;
  try {
    probe = std::make_unique<standalone::Probe>(s, out);
  } catch (const std::exception& e) {
    out.warn(fmt::format("closewire probe: {}", e.what()));
    remove_temporary();
    return dynamic_cast<const CaptureEnvironmentError*>(&e) ? kEnvironment : kBadInput;
  }
  StopSignals signals(probe->io(), [&](const std::string& name) { probe->stop(name); });
  out.say(fmt::format("probing {} as {} (capture on {}{}{})\n", opt.url, opt.profile,
                  opt.common.interface, temporary ? "" : ", into " + s.capture_path,
                  s.key_log_path.empty() ? "" : ", key log " + s.key_log_path));
  const standalone::ProbeResult r = probe->run();
  signals.cancel();
  out.say(fmt::format("probe{}: {} of {} connections agree with the {} verdict{}\n",
                  r.stopped_by.empty() ? "" : " (stopped by " + r.stopped_by + ")", r.matched,
                  s.count, opt.profile,
                  temporary ? "" : fmt::format("; replay with 'closewire replay {}'", s.capture_path)));
  remove_temporary();
  return exit_status(r.status);
}

}  // namespace closewire::cli
