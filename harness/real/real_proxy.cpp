#include "harness/real/real_proxy.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/real/config_template.h"
#include "harness/real/net_probe.h"

namespace closewire::real {
namespace {

namespace fs = std::filesystem;

std::string address(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw EnvironmentError("cannot read " + p.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  if (!out) throw EnvironmentError("cannot write " + p.string());
}

// The run's leaf for a TLS listening side, in the proxy's folder: the paths its config names.
struct TlsFiles {
  std::string cert, key, pem;
};
TlsFiles write_tls_files(const RealProxyConfig& c) {
  if (c.tls_version.empty()) return {};
  const fs::path dir = fs::absolute(c.work_dir);
  const TlsFiles files{(dir / "tls-cert.pem").string(), (dir / "tls-key.pem").string(),
                       (dir / "tls.pem").string()};
  write_file(files.cert, c.tls_chain_pem);
  write_file(files.key, c.tls_key_pem);
  write_file(files.pem, c.tls_chain_pem + c.tls_key_pem);
  return files;
}

// Values every template may use, plus the kind's knobs (set or default).
std::map<std::string, std::string> template_values(const RealProxyConfig& c, std::uint16_t port,
                                                   const TlsFiles& tls_files) {
  std::map<std::string, std::string> v = {
      {"name", c.name},
      {"prefix", fs::absolute(c.work_dir).string()},
      {"listen_host", c.host},
      {"listen_port", std::to_string(port)},
      {"listen_address", address(c.host, port)},
      {"upstream_host", c.upstream_host},
      {"upstream_port", std::to_string(c.upstream_port)},
      {"upstream_address", address(c.upstream_host, c.upstream_port)},
  };
  // TLS, as whole config fragments (empty or a comment when plain), so the templates read as
  // the programs' own recipes: nginx `listen ... ssl`, HAProxy `bind ... ssl crt`.
  const bool tls = !c.tls_version.empty();
  const std::string protocol = c.tls_version == "1.2" ? "TLSv1.2" : "TLSv1.3";
  v["tls_cert"] = tls_files.cert;
  v["tls_key"] = tls_files.key;
  v["tls_pem"] = tls_files.pem;
  v["upstream_tls"] = c.upstream_tls ? "true" : "false";
  if (c.kind == "nginx") {
    v["listen_ssl"] = tls ? " ssl" : "";
    v["ssl_settings"] = tls ? fmt::format("ssl_certificate {};\n    ssl_certificate_key {};\n"
                                          "    ssl_protocols {};",
                                          tls_files.cert, tls_files.key, protocol)
                            : "# plain: no TLS on the listening side";
    v["upstream_scheme"] = c.upstream_tls ? "https" : "http";
    // nginx 1.22 offers TLS 1.3 upstream only when asked; the run's leaf is not checked.
    v["proxy_ssl_settings"] = c.upstream_tls
                                  ? "proxy_ssl_protocols TLSv1.2 TLSv1.3;\n      proxy_ssl_verify off;"
                                  : "# plain upstream";
  } else if (c.kind == "haproxy") {
    // `alpn` (e.g. "h2,http/1.1") lets browsers pick HTTP/2, and with it RFC 8441 WebSockets.
    const auto alpn = c.options.find("alpn");
    const bool with_alpn = alpn != c.options.end() && !alpn->second.empty();
    v["bind_ssl"] = tls ? fmt::format(" ssl crt {} ssl-min-ver {} ssl-max-ver {}{}", tls_files.pem,
                                      protocol, protocol,
                                      with_alpn ? " alpn " + alpn->second : "")
                        : "";
    v["server_ssl"] = c.upstream_tls ? " ssl verify none" : "";
  }
  if (c.kind == "exec") v.insert(c.options.begin(), c.options.end());  // `vars`, as written
  for (const auto& [key, fallback] : allowed_options(c.kind)) {
    const auto it = c.options.find(key);
    v[key] = it != c.options.end() ? it->second : fallback;
  }
  if (c.kind == "haproxy") {
    // Whole lines, so that "unset" keeps HAProxy's own default.
    v["nolinger"] =
        v["nolinger"] == "true" ? "option nolinger" : "# option nolinger: off (HAProxy's default)";
    // On: no SETTINGS_ENABLE_CONNECT_PROTOCOL, so browsers keep WebSockets on HTTP/1.1 (§6).
    v["h2_workaround_bogus_websocket_clients"] =
        v["h2_workaround_bogus_websocket_clients"] == "true"
            ? "h2-workaround-bogus-websocket-clients"
            : "# h2-workaround-bogus-websocket-clients: off (HAProxy's default)";
    v["timeout_tunnel"] = v["timeout_tunnel"].empty()
                              ? "# timeout tunnel: unset (timeout client/server apply)"
                              : "timeout tunnel " + v["timeout_tunnel"];
    v["timeout_client_fin"] = v["timeout_client_fin"].empty()
                                  ? "# timeout client-fin: unset (HAProxy uses timeout client)"
                                  : "timeout client-fin " + v["timeout_client_fin"];
  }
  return v;
}

}  // namespace

const std::map<std::string, std::string>& allowed_options(const std::string& kind) {
  // Defaults are the programs' own: a scenario that sets nothing records their default behaviour.
  static const std::map<std::string, std::string> nginx = {{"lingering_close", "on"},
                                                           {"proxy_read_timeout", "60s"}};
  static const std::map<std::string, std::string> haproxy = {
      {"nolinger", "false"},         {"timeout_tunnel", "1h"},      {"timeout_client_fin", ""},
      {"timeout_client", "30s"},     {"timeout_server", "30s"},
      {"alpn", ""},                  {"h2_workaround_bogus_websocket_clients", "false"}};
  static const std::map<std::string, std::string> none;
  return kind == "nginx" ? nginx : kind == "haproxy" ? haproxy : none;
}

RealProxy::RealProxy(const RealProxyConfig& c) {
  std::error_code ec;
  fs::create_directories(c.work_dir, ec);
  if (ec) throw EnvironmentError(fmt::format("cannot create {}: {}", c.work_dir, ec.message()));
  port_ = pick_free_port(c.host);
  const auto values = template_values(c, port_, write_tls_files(c));
  const std::string log = (fs::path(c.work_dir) / "output.log").string();
  std::vector<std::string> argv;
  if (c.kind == "nginx" || c.kind == "haproxy") {
    const std::string program = c.kind == "nginx" ? "nginx" : "haproxy";
    if (find_program(program).empty()) {
      throw EnvironmentError(
          fmt::format("{} not found: install Debian's package '{}' (tools/setup)", program,
                      c.kind));  // the package is named as the program
    }
    const fs::path tmpl = fs::path(c.tools_dir) / (c.kind + ".conf.in");
    const fs::path conf = fs::path(c.work_dir) / (c.kind + ".conf");
    write_file(conf, render_template(read_file(tmpl), values, tmpl.string()));
    if (c.kind == "nginx") {
      // -p/-e: no path of the compiled-in, root-owned prefix is used.
      argv = {program,
              "-p",
              values.at("prefix") + "/",
              "-e",
              values.at("prefix") + "/error.log",
              "-c",
              fs::absolute(conf).string(),
              "-g",
              "daemon off;"};
    } else {
      argv = {program, "-f", fs::absolute(conf).string(), "-db"};
    }
  } else {
    auto with_config = values;
    if (!c.config_template.empty()) {
      const fs::path conf = fs::absolute(
          fs::path(c.work_dir) / fs::path(c.config_template).filename().replace_extension(""));
      write_file(conf, render_template(read_file(c.config_template), values, c.config_template));
      with_config["config"] = conf.string();
    }
    // Through the shell, as the user wrote it; the process group takes its children down too.
    argv = {"/bin/sh", "-c",
            render_template(c.command, with_config, "exec command of proxy '" + c.name + "'")};
  }
  process_ = std::make_unique<ChildProcess>(c.name + " (" + c.kind + ")", std::move(argv), log);
  wait_until_listening(c.host, port_, *process_, std::chrono::seconds(15));
}

}  // namespace closewire::real
