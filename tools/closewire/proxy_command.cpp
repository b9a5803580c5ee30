#include "tools/closewire/proxy_command.h"

#include <fmt/format.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <memory>

#include "harness/endpoints/proxy_model.h"
#include "harness/standalone/accounts.h"
#include "harness/standalone/session.h"
#include "tools/closewire/exit_status.h"
#include "tools/closewire/signals.h"

namespace closewire::cli {

namespace ep = endpoints;
namespace asio = boost::asio;

namespace {

struct Parsed {
  HostPort listen, upstream;
  ep::ProxyModel model;
};

// Checks and converts the flags; returns the one-line error, or empty.
std::string parse(const ProxyOptions& o, Parsed& p) {
  std::string error;
  const auto listen = parse_host_port(o.listen, error);
  if (!listen) return error;
  const auto upstream = parse_host_port(o.upstream, error);
  if (!upstream) return error;
  if (auto e = remote_refusal(*listen, o.common.allow_remote, "--listen"); !e.empty()) return e;
  if (auto e = remote_refusal(*upstream, o.common.allow_remote, "--upstream"); !e.empty()) return e;
  if (upstream->port == 0) return "--upstream: the port must not be 0";
  p.listen = *listen;
  p.upstream = *upstream;
  const auto latency = parse_millis(o.latency);
  if (!latency) return fmt::format("--latency '{}': expected a duration such as 10ms", o.latency);
  const bool envoy = o.model == "envoy";
  if (envoy && (o.close_mode || o.close_delay || o.reset_behind_close || o.reset_after_bytes ||
                o.idle_timeout || o.on_idle)) {
    return "--close-mode, --close-delay, --reset-behind-close, --reset-after-bytes, --idle-timeout "
           "and --on-idle need --model tcp";
  }
  if (!envoy &&
      (o.delayed_close_timeout || o.no_delay_close_for_upgrades || o.reset_on_upstream_reset)) {
    return "--delayed-close-timeout, --no-delay-close-for-upgrades and --reset-on-upstream-reset "
           "need --model envoy";
  }
  if (o.h2 && !o.tls.listen) return "--h2 needs --tls: browsers speak HTTP/2 only over TLS";
  if (o.h2_end_stream_only && !o.h2) return "--h2-end-stream-only needs --h2";
  if (envoy) {
    auto& m = p.model.emplace<ep::EnvoyModel>();
    m.latency = *latency;
    if (o.delayed_close_timeout) {
      const auto t = parse_millis(*o.delayed_close_timeout);
      if (!t)
        return fmt::format("--delayed-close-timeout '{}': expected a duration such as 1s or 0s",
                           *o.delayed_close_timeout);
      m.delayed_close_timeout = *t;
    }
    if (o.no_delay_close_for_upgrades) {
      const std::string& v = *o.no_delay_close_for_upgrades;
      if (v != "true" && v != "false") {
        return fmt::format("--no-delay-close-for-upgrades '{}': expected true or false", v);
      }
      m.no_delay_close_for_upgrades = v == "true";
    }
    m.reset_on_upstream_reset = o.reset_on_upstream_reset;
    return {};
  }
  auto& m = p.model.emplace<ep::TcpModel>();
  m.to_client.latency = *latency;
  m.to_server.latency = *latency;
  if (o.close_mode) {
    const auto mode = ep::close_mode_from_string(*o.close_mode);
    if (!mode) {
      return fmt::format(
          "--close-mode '{}': expected fin, half-close, rst, close-unread or delayed",
          *o.close_mode);
    }
    m.on_upstream_close = *mode;
  }
  if (o.close_delay) {
    const auto d = parse_millis(*o.close_delay);
    if (!d)
      return fmt::format("--close-delay '{}': expected a duration such as 1s", *o.close_delay);
    m.close_delay = *d;
  }
  if (o.idle_timeout) {
    const auto d = parse_millis(*o.idle_timeout);
    if (!d || d->count() <= 0)
      return fmt::format("--idle-timeout '{}': expected a duration above 0 such as 60s",
                         *o.idle_timeout);
    m.idle_timeout = *d;
  }
  if (o.on_idle) {
    const auto mode = ep::close_mode_from_string(*o.on_idle);
    if (!mode)
      return fmt::format("--on-idle '{}': expected fin, half-close, rst, close-unread or delayed",
                         *o.on_idle);
    if (!o.idle_timeout) return "--on-idle needs --idle-timeout";
    m.on_idle = *mode;
  }
  m.to_client.reset_behind_close = o.reset_behind_close;
  m.to_client.reset_after_bytes = o.reset_after_bytes;
  return {};
}

}  // namespace

CLI::App* add_proxy_command(CLI::App& app, ProxyOptions& opt) {
  auto* cmd = app.add_subcommand("proxy", "Run a proxy model (envoy or tcp) standalone");
  cmd->footer(
      "envoy: Envoy's HTTP connection manager relaying a WebSocket upgrade. When the upstream\n"
      "closes it closes downstream with FlushWriteAndDelay (Envoy <= 1.22:\n"
      "--no-delay-close-for-upgrades false and a timeout above 0) or FlushWrite.\n"
      "tcp: a plain relay; --close-mode says how it closes downstream once the upstream closed.\n"
      "Chain two for an Istio gateway and sidecar. Prints 'listening on ADDR:PORT' when ready\n"
      "and one line per relayed connection when it ends.\n"
      "Exit status: 0 stopped by a signal, 2 bad usage or busy port, 3 cannot capture.");
  cmd->add_option("--listen", opt.listen, "ADDR:PORT to listen on (port 0: the kernel picks)")
      ->required();
  cmd->add_option("--upstream", opt.upstream, "ADDR:PORT of the next hop (a proxy or the server)")
      ->required();
  cmd->add_option("--model", opt.model, "envoy or tcp")
      ->required()
      ->check(CLI::IsMember({"envoy", "tcp"}));
  cmd->add_option("--latency", opt.latency, "Added to each direction of this hop (e.g. 10ms)")
      ->capture_default_str();
  cmd->add_option("--delayed-close-timeout", opt.delayed_close_timeout,
                  "envoy: http_connection_manager.delayed_close_timeout (default 1s)");
  cmd->add_option("--no-delay-close-for-upgrades", opt.no_delay_close_for_upgrades,
                  "envoy: the runtime guard; true = Envoy >= 1.23 (default), false = <= 1.22");
  cmd->add_flag("--reset-on-upstream-reset", opt.reset_on_upstream_reset,
                "envoy: an upstream RST resets the client too (Envoy's runtime guard\n"
                "detect_and_raise_rst_tcp_connection, PR #28817)");
  cmd->add_option("--close-mode", opt.close_mode,
                  "tcp: fin, half-close, rst, close-unread or delayed (default fin)");
  cmd->add_option("--close-delay", opt.close_delay,
                  "tcp: the delay of delayed / close-unread (default 1s)");
  cmd->add_flag("--reset-behind-close", opt.reset_behind_close,
                "tcp: relay up to the server's first Close frame, then RST the client");
  cmd->add_option("--reset-after-bytes", opt.reset_after_bytes,
                  "tcp: relay this many server bytes (HTTP head included), then RST the client");
  cmd->add_option("--idle-timeout", opt.idle_timeout,
                  "tcp: close both sides after this long with no byte either way (a load\n"
                  "balancer's idle timeout, e.g. 60s)");
  cmd->add_option("--on-idle", opt.on_idle,
                  "tcp: how the idle timeout closes each side: fin (default), rst, ...");
  add_listen_tls_options(*cmd, opt.tls);
  cmd->add_flag("--h2", opt.h2,
                "With --tls: offer ALPN h2 and SETTINGS_ENABLE_CONNECT_PROTOCOL, and relay each\n"
                "RFC 8441 WebSocket stream upstream as an HTTP/1.1 upgrade, ending streams as\n"
                "HAProxy 2.6 does (END_STREAM, then RST_STREAM(CANCEL) after the upstream's FIN)");
  cmd->add_flag("--h2-end-stream-only", opt.h2_end_stream_only,
                "With --h2: end a stream with END_STREAM alone, no RST_STREAM behind it");
  cmd->add_flag("--upstream-tls", opt.tls.upstream,
                "Speak TLS to the upstream (its certificate is not checked)");
  add_keylog_option(*cmd, opt.tls);
  add_standalone_options(*cmd, opt.common, "the listen and upstream ports");
  return cmd;
}

int run_proxy(const ProxyOptions& opt) {
  Parsed p;
  if (const std::string error = parse(opt, p); !error.empty()) {
    std::fprintf(stderr, "closewire proxy: %s\n", error.c_str());
    return kBadInput;
  }
  TlsSetup tls;
  if (const std::string error =
          tls.make(opt.tls, opt.tls.listen || opt.tls.upstream, opt.common.capture);
      !error.empty()) {
    std::fprintf(stderr, "closewire proxy: %s\n", error.c_str());
    return kBadInput;
  }
  standalone::Session session({.command = "proxy",
                               .capture_path = opt.common.capture,
                               .interface = opt.common.interface,
                               .key_log_path = tls.key_log ? tls.key_log->path() : ""});
  std::unique_ptr<ep::ProxyListener> proxy;
  try {
    const asio::ip::tcp::endpoint up(asio::ip::make_address(p.upstream.host), p.upstream.port);
    ep::RelayConfig rc = ep::relay_config(p.model, up);
    rc.downstream_tls = tls.listening();
    if (opt.h2) {
      rc.downstream_tls->set_alpn({"h2", "http/1.1"});
      rc.downstream_h2 = true;
      rc.h2_reset_after_end_stream = !opt.h2_end_stream_only;
    }
    if (opt.tls.upstream) rc.upstream_tls = tls.connecting(p.upstream.host);
    proxy = std::make_unique<ep::ProxyListener>(session.io(), p.listen.host, p.listen.port, rc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "closewire proxy: cannot listen on %s: %s\n", p.listen.str().c_str(),
                 e.what());
    return kBadInput;
  }
  const HostPort bound{p.listen.host, proxy->port()};
  if (const auto s = session.start_capture({bound.port, p.upstream.port}, p.upstream.host);
      s != standalone::Status::ok) {
    return exit_status(s);
  }

  standalone::RelayAccounts accounts(session, *proxy, Endpoint{bound.host, bound.port},
                                     Endpoint{p.upstream.host, p.upstream.port});
  StopSignals signals(session.io(), [&](const std::string& by) { session.stop(by); });
  if (const std::string t = tls.describe(); !t.empty()) session.say(t + "\n");
  session.say(fmt::format("listening on {}\n", bound.str()));
  return exit_status(session.run([&] { accounts.stop(); }, [&] { return accounts.summary(); }));
}

}  // namespace closewire::cli
