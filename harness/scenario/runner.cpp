#include "harness/scenario/runner.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <list>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/key_log_file.h"
#include "harness/analysis/verdict.h"
#include "harness/capture/live_capture.h"
#include "harness/endpoints/client.h"
#include "harness/endpoints/key_log.h"
#include "harness/endpoints/proxy_model.h"
#include "harness/endpoints/server.h"
#include "harness/endpoints/tls_context.h"
#include "harness/endpoints/tls_identity.h"
#include "harness/real/chromium_client.h"
#include "harness/real/config_template.h"
#include "harness/real/firefox_client.h"
#include "harness/real/net_probe.h"
#include "harness/real/node_ws_server.h"
#include "harness/real/real_proxy.h"
#include "harness/scenario/timing_priority.h"
#include "harness/scenario/variant.h"
#include "harness/spec/spec_error.h"

namespace closewire {
namespace {

namespace asio = boost::asio;
using endpoints::Observation;
using endpoints::ObservationKind;

// Everything one run owns; lives on the stack of run_scenario.
class Run {
 public:
  Run(const Scenario& s, ScenarioResult& result, const RunOptions& options)
      : s_(s), result_(result), options_(options) {}

  void build();
  std::vector<std::uint16_t> ports() const;
  void start();
  bool drive();  // false: it did not finish within the scenario's timeout
  void stop_endpoints();
  std::string observations() const;

  // What the client reported: the model's outcome, or the real browser's close event.
  std::optional<endpoints::ClientOutcome> client_outcome() const;
  std::string client_label() const;
  std::string browser_error() const;  // the real browser gave no close event: why
  // Appends the real browser's TLS secrets to the run's key log: a leg from the browser to a real
  // proxy has no closewire endpoint to log them.
  void copy_browser_secrets();

 private:
  void on_observation();
  void schedule(const Step& step, Millis after);
  void execute(const Step& step);
  bool quiescent() const;
  void finish();
  void build_real_proxy(std::size_t i, asio::ip::tcp::endpoint upstream, const std::string& host);
  // TLS contexts for a listening side with `spec`, and for connecting to a hop that has TLS
  // (`tls`); null: plain TCP.
  std::shared_ptr<endpoints::TlsContext> listening_tls(const std::optional<TlsSpec>& spec) const;
  std::shared_ptr<endpoints::TlsContext> connecting_tls(bool tls) const;
  void poll_external();
  bool has_external() const { return real_client_ || node_server_ || !real_proxies_.empty(); }

  const Scenario& s_;
  ScenarioResult& result_;
  const RunOptions& options_;
  asio::io_context io_;
  // Real peers (harness/real): in a slot instead of the model.
  std::shared_ptr<real::Chromium> chromium_;
  std::shared_ptr<real::Firefox> firefox_;
  std::unique_ptr<real::BrowserClient> real_client_;
  std::string browser_version_;  // "Chrome/156.0...", "153.8.0"
  std::unique_ptr<real::NodeWsServer> node_server_;
  std::vector<std::unique_ptr<real::RealProxy>> real_proxies_;
  std::unique_ptr<asio::steady_timer> external_poll_;
  // With a TLS leg: the run's throw-away CA and leaf, and its key log (NAME.keys).
  std::shared_ptr<const endpoints::TlsIdentity> tls_identity_;
  std::shared_ptr<endpoints::KeyLogFile> key_log_;
  std::unique_ptr<endpoints::Server> server_;                       // null with a real server
  std::vector<std::unique_ptr<endpoints::ProxyListener>> proxies_;  // chain order; null: real
  std::vector<std::uint16_t> hop_ports_;       // chain order: proxies..., server
  std::unique_ptr<endpoints::Client> client_;  // null with a real client
  std::list<asio::steady_timer> timers_;
  std::vector<bool> fired_;
  bool finishing_ = false;
  bool finished_ = false;
  bool timed_out_ = false;
  endpoints::Clock::time_point origin_ = endpoints::Clock::now();
  endpoints::Clock::time_point done_at_{};
};

std::shared_ptr<endpoints::TlsContext> Run::listening_tls(
    const std::optional<TlsSpec>& spec) const {
  if (!spec) return nullptr;
  return endpoints::TlsContext::server(tls_identity_, spec->version, key_log_);
}

std::shared_ptr<endpoints::TlsContext> Run::connecting_tls(bool tls) const {
  // The client side trusts the run's CA and checks the leaf's name, as a browser would.
  return tls ? endpoints::TlsContext::client(tls_identity_, key_log_) : nullptr;
}

void Run::build() {
  const std::string host = s_.ipv6 ? "::1" : "127.0.0.1";
  if (s_.uses_tls()) {
    tls_identity_ = options_.tls_identity ? options_.tls_identity : endpoints::TlsIdentity::make();
    key_log_ = std::make_shared<endpoints::KeyLogFile>(result_.key_log_path);
  }
  asio::ip::tcp::endpoint upstream;
  if (s_.server.real == "node-ws") {
    real::NodeWsServerConfig nc;
    nc.host = host;
    nc.code = s_.server.on_open.at(0).code;
    nc.reason = s_.server.on_open.at(0).reason;
    nc.tools_dir = real::real_tools_dir(s_.file);
    node_server_ = std::make_unique<real::NodeWsServer>(nc);
    upstream = asio::ip::tcp::endpoint(asio::ip::make_address(host), node_server_->port());
  } else {
    endpoints::ServerConfig sc;
    sc.host = host;
    sc.on_open = s_.server.on_open;
    sc.after_closing_handshake = s_.server.after_closing_handshake;
    sc.close_timeout = s_.server.close_timeout;
    sc.answer_close = s_.server.answer_close;
    sc.tls = listening_tls(s_.server.tls);
    server_ = std::make_unique<endpoints::Server>(io_, sc);
    upstream = server_->endpoint();
  }
  // Proxies from the server side out: each needs its upstream's address.
  hop_ports_.assign(s_.proxies.size(), 0);
  proxies_.resize(s_.proxies.size());
  for (std::size_t i = s_.proxies.size(); i-- > 0;) {
    const ProxySpec& p = s_.proxies[i];
    if (const auto model = p.model()) {
      endpoints::RelayConfig rc = endpoints::relay_config(*model, upstream);
      rc.downstream_tls = listening_tls(p.tls);
      // An h2 client's first hop offers h2 (RFC 8441), as HAProxy with alpn h2,http/1.1 does.
      if (i == 0 && s_.client.h2 && rc.downstream_tls) {
        rc.downstream_tls->set_alpn({"h2", "http/1.1"});
        rc.downstream_h2 = true;
      }
      rc.h2_reset_after_end_stream = p.h2_reset_after_end_stream;
      rc.upstream_tls = connecting_tls(s_.hop_tls(i + 1));
      proxies_[i] = std::make_unique<endpoints::ProxyListener>(io_, host, 0, std::move(rc));
      upstream = proxies_[i]->endpoint();
    } else {
      build_real_proxy(i, upstream, host);
      upstream =
          asio::ip::tcp::endpoint(asio::ip::make_address(host), real_proxies_.back()->port());
    }
    hop_ports_[i] = upstream.port();
  }
  hop_ports_.push_back(server_ ? server_->port() : node_server_->port());
  if (!s_.client.real.empty()) {
    const bool first_hop_tls = s_.first_hop_tls();
    const std::string authority = s_.ipv6 ? fmt::format("[{}]:{}", host, hop_ports_.front())
                                          : fmt::format("{}:{}", host, hop_ports_.front());
    const std::string url = (first_hop_tls ? "wss://" : "ws://") + authority + s_.client.target;
    // h2: the page first loads a page of that origin through the first hop (the server model
    // answers it 400 and closes), so the browser holds an h2 connection there and sends the
    // WebSocket on it as an extended CONNECT (RFC 8441, close-semantics.md §6).
    const std::string origin_page = s_.client.h2 ? "https://" + authority + "/" : "";
    // The page gives up a little after the run's own limit, so the runner's timeout decides.
    const Millis limit = (s_.run_for ? *s_.run_for : s_.timeout) + Millis(1000);
    if (s_.client.real == "firefox") {
      firefox_ = options_.firefox ? options_.firefox : real::Firefox::launch();
      browser_version_ = firefox_->version();
      real_client_ =
          real::open_firefox_client(io_, firefox_, url, limit, page_close(s_), origin_page);
      return;
    }
    // The run's shared browser when it is this scenario's build (Debian's or one from the cache)
    // and, over wss, trusts this run's leaf.
    const std::string spki = first_hop_tls ? tls_identity_->leaf_spki_sha256() : "";
    chromium_ = options_.chromium && options_.chromium->build() == s_.client.build &&
                        (spki.empty() || options_.chromium->trusted_spki() == spki)
                    ? options_.chromium
                    : real::Chromium::launch(s_.client.build, spki);
    browser_version_ = chromium_->version();
    real_client_ =
        real::open_chromium_client(io_, chromium_, url, limit, page_close(s_), origin_page);
    return;
  }
  endpoints::ClientConfig cc;
  cc.profile = s_.client.profile;
  cc.host = host;
  cc.port = hop_ports_.front();
  cc.target = s_.client.target;
  cc.close_timeout = s_.client.close_timeout;
  cc.auto_reply = s_.client.auto_reply;
  cc.tls = connecting_tls(s_.first_hop_tls());
  cc.h2 = s_.client.h2;
  client_ = std::make_unique<endpoints::Client>(io_, cc);
}

void Run::build_real_proxy(std::size_t i, asio::ip::tcp::endpoint upstream,
                           const std::string& host) {
  namespace fs = std::filesystem;
  const ProxySpec& spec = s_.proxies[i];
  const RealProxySpec& p = *spec.real();
  real::RealProxyConfig c;
  c.kind = p.kind;
  c.name = spec.name;
  c.host = host;
  c.upstream_host = upstream.address().to_string();
  c.upstream_port = upstream.port();
  c.options = p.options;
  c.command = p.exec;
  // Config, pid, temp files and logs beside the run's pcap: out/NAME.PROXY/
  c.work_dir = (fs::path(options_.out_dir) / (s_.name + "." + spec.name)).string();
  c.tools_dir = real::real_tools_dir(s_.file);
  if (!p.exec_config.empty()) {
    // As written, else beside the scenario, else in tools/real (envoy.yaml.in).
    fs::path t = p.exec_config;
    if (!fs::exists(t)) t = fs::path(s_.file).parent_path() / p.exec_config;
    if (!fs::exists(t)) t = fs::path(c.tools_dir) / p.exec_config;
    c.config_template = t.string();
  }
  c.upstream_tls = s_.hop_tls(i + 1);
  if (spec.tls) {
    c.tls_version = std::string(endpoints::to_string(spec.tls->version));
    c.tls_chain_pem = tls_identity_->leaf_pem() + tls_identity_->ca_pem();
    c.tls_key_pem = tls_identity_->leaf_key_pem();
  }
  real_proxies_.push_back(std::make_unique<real::RealProxy>(c));
}

void Run::copy_browser_secrets() {
  if (!key_log_ || !real_client_) return;
  const std::string path = chromium_  ? chromium_->key_log_path()
                           : firefox_ ? firefox_->key_log_path()
                                      : std::string();
  if (path.empty()) return;
  // The browser's whole log: the run's other sessions in it are keys nothing here matches.
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() != '#') key_log_->write(line);
  }
}

std::vector<std::uint16_t> Run::ports() const {
  return hop_ports_;
}

void Run::schedule(const Step& step, Millis after) {
  auto& timer = timers_.emplace_back(io_, after);
  timer.async_wait([this, &step](const boost::system::error_code& ec) {
    if (!ec && !finished_) execute(step);
  });
}

void Run::execute(const Step& step) {
  // Steps with a real peer never get here: skip_reason() rules them out.
  std::shared_ptr<endpoints::Peer> peer =
      step.endpoint == "client" ? client_->peer() : server_->peer(0);
  if (!peer) {
    result_.error = fmt::format("{}: step '{}' found no open {} connection", step.where,
                                step.when.text, step.endpoint);
    return;
  }
  endpoints::perform(*peer, step.action);
}

void Run::start() {
  fired_.assign(s_.steps.size(), false);
  auto watch = [this](const std::string& endpoint) {
    return [this, endpoint](const Observation& o) {
      for (std::size_t i = 0; i < s_.steps.size(); ++i) {
        const Step& st = s_.steps[i];
        if (fired_[i]) continue;
        const bool at_open =
            st.when.at && endpoint == "client" && o.kind == ObservationKind::upgraded;
        const bool after =
            !st.when.at && st.when.after_endpoint == endpoint && matches(st.when.after, o);
        if (at_open || after) {
          fired_[i] = true;
          schedule(st, (st.when.at ? *st.when.at : Millis(0)) + st.when.delay);
        }
      }
      on_observation();
    };
  };
  if (client_) client_->subscribe(watch("client"));
  if (server_) server_->subscribe(watch("server"));
  for (auto& proxy : proxies_) {
    if (proxy) proxy->log().subscribe([this](const Observation&) { on_observation(); });
  }
  origin_ = endpoints::Clock::now();
  if (has_external()) poll_external();
  if (real_client_) {
    real_client_->on_finished([this] { on_observation(); });
    real_client_->start();
  } else {
    client_->start();
  }
}

// External programs tell closewire nothing: their sockets in the kernel's table do. Polled until
// the run ends.
void Run::poll_external() {
  if (!external_poll_) external_poll_ = std::make_unique<asio::steady_timer>(io_);
  external_poll_->expires_after(Millis(5));
  external_poll_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || finishing_) return;
    on_observation();
    poll_external();
  });
}

bool Run::quiescent() const {
  if (real_client_ ? !real_client_->finished() : !client_->finished()) return false;
  for (std::size_t i = 0; server_ && i < server_->connections(); ++i) {
    if (auto p = server_->peer(i); p && p->is_open()) return false;
  }
  for (const auto& proxy : proxies_) {
    if (!proxy) continue;  // a real proxy: see below
    // Over h2 a stream is a leg; the h2 connection under it is kept, like the client's.
    const std::size_t n = proxy->legs();
    if (proxy->log().count(ObservationKind::closed, "downstream") < n ||
        proxy->log().count(ObservationKind::closed, "upstream") < n) {
      return false;
    }
  }
  // Over h2 the client's TCP connection outlives its WebSocket's stream, as a browser keeps it:
  // the run is over without it (stop_endpoints closes it, after the capture).
  std::vector<std::uint16_t> kept;
  if (client_) {
    if (const auto port = client_->h2_connection_port()) kept.push_back(*port);
  }
  return !has_external() || real::live_sockets_on(hop_ports_, kept) == 0;
}

void Run::on_observation() {
  // Checked once the handler that logged the observation has finished: an endpoint logs
  // "closed" before it marks itself finished.
  asio::post(io_, [this] {
    if (finishing_ || s_.run_for || !quiescent()) return;
    finish();
  });
}

void Run::finish() {
  finishing_ = true;
  done_at_ = endpoints::Clock::now();
  // Posted, so the observation being handled completes first.
  asio::post(io_, [this] {
    finished_ = true;
    io_.stop();
  });
}

bool Run::drive() {
  asio::steady_timer limit(io_, s_.run_for ? *s_.run_for : s_.timeout);
  limit.async_wait([this](const boost::system::error_code& ec) {
    if (ec || finishing_) return;
    if (!s_.run_for) timed_out_ = true;
    finish();
  });
  io_.run();
  return !timed_out_;
}

void Run::stop_endpoints() {
  if (external_poll_) external_poll_->cancel();
  if (client_) client_->stop();
  if (real_client_) real_client_->stop();
  for (auto& p : proxies_) {
    if (p) p->stop();
  }
  for (auto& p : real_proxies_) p->stop();
  if (server_) server_->stop();
  if (node_server_) node_server_->stop();
  io_.restart();
  io_.poll();
  result_.run_ms = std::chrono::duration<double, std::milli>(done_at_ - origin_).count();
}

std::string Run::observations() const {
  std::string out = "client:\n";
  if (client_) {
    out += client_->log().dump(origin_);
  } else {
    const auto o = real_client_->outcome();
    out += fmt::format("  {} ({}): {}\n", s_.client.real, browser_version_,
                       o ? real::describe(*o) : "no close event");
  }
  const auto names = s_.chain();
  for (std::size_t i = 0; i < proxies_.size(); ++i) {
    out += names[i + 1] + ":\n" +
           (proxies_[i]
                ? proxies_[i]->log().dump(origin_)
                : fmt::format("  real {}: see its logs in {}/{}.{}/\n", s_.proxies[i].real()->kind,
                              options_.out_dir, s_.name, s_.proxies[i].name));
  }
  out += "server:\n" + (server_ ? server_->log().dump(origin_) : "  real " + s_.server.real + "\n");
  return out;
}

std::optional<endpoints::ClientOutcome> Run::client_outcome() const {
  if (client_) return client_->outcome();
  const auto o = real_client_->outcome();
  if (!o || !o->code) return std::nullopt;
  return endpoints::ClientOutcome{o->code, o->reason, o->was_clean,
                                  "the browser's close event: " + real::describe(*o),
                                  o->error_event};
}

std::string Run::client_label() const {
  return client_ ? std::string(to_string(s_.client.profile))
                 : s_.client.real + " " + browser_version_;
}

std::string Run::browser_error() const {
  if (!real_client_) return "";
  const auto o = real_client_->outcome();
  if (o && o->code) return "";
  return fmt::format("{}: {}", client_label(), o ? real::describe(*o) : "no close event");
}

// In a run whose browser speaks h2, a connection that never asked for a WebSocket is the page it
// loaded first: that page's request to the server (answered 400, closed), a favicon's, or a spare
// connection the browser opened and left unused. It is no leg of a chain (nor a cut upgrade).
bool page_traffic(bool h2_run, const Connection& c) {
  return h2_run && !c.h2_connection && c.h2_stream == 0 && !c.websocket && c.handshake.key.empty();
}

void name_legs(const Scenario& s, const std::vector<std::uint16_t>& hop_ports, ScenarioResult& r) {
  const auto names = s.chain();
  const auto legs = s.leg_names();
  // An h2 connection's WebSocket is its stream leg, named as an HTTP/1.1 leg would be; the TCP
  // connection under it is "client-haproxy.tcp", the page's traffic "haproxy-server.page".
  enum { websocket, h2_tcp, page, kinds };
  std::vector<std::array<int, kinds>> seen(hop_ports.size(), std::array<int, kinds>{});
  for (const Connection& c : r.connections) {
    for (std::size_t i = 0; i < hop_ports.size(); ++i) {
      if (c.server.port != hop_ports[i]) continue;
      const int kind = c.h2_connection ? h2_tcp : page_traffic(s.client.h2, c) ? page : websocket;
      const std::string base = legs[i] + (kind == h2_tcp ? ".tcp" : kind == page ? ".page" : "");
      const int n = ++seen[i][kind];
      const std::string name = n == 1 ? base : fmt::format("{}#{}", base, n);
      r.legs.push_back(LegView{name, &c, names[i], names[i + 1]});
    }
  }
}

// The n-th connection to the first hop, then the n-th to each next hop: what the runner built,
// whatever the packets say. A leg that is no WebSocket (a cut upgrade) splits the path: the
// WebSocket legs on either side of it are chains of their own, as find_chains sees them.
std::vector<Chain> topology_chains(const std::vector<std::uint16_t>& hop_ports,
                                   const std::vector<Connection>& connections, bool h2_run) {
  std::vector<std::vector<std::size_t>> by_hop(hop_ports.size());
  for (std::size_t i = 0; i < connections.size(); ++i) {
    if (connections[i].h2_connection) continue;  // its stream legs are the WebSockets
    if (page_traffic(h2_run, connections[i])) continue;
    for (std::size_t h = 0; h < hop_ports.size(); ++h) {
      if (connections[i].server.port == hop_ports[h]) by_hop[h].push_back(i);
    }
  }
  std::vector<Chain> chains;
  for (std::size_t n = 0; n < by_hop.front().size(); ++n) {
    std::vector<std::size_t> legs;
    for (std::size_t h = 0; h < by_hop.size() && n < by_hop[h].size(); ++h) {
      if (connections[by_hop[h][n]].websocket) {
        legs.push_back(by_hop[h][n]);
      } else if (!legs.empty()) {
        chains.push_back(chain_of(connections, std::move(legs)));
        legs.clear();
      }
    }
    if (!legs.empty()) chains.push_back(chain_of(connections, std::move(legs)));
  }
  return chains;
}

// "" when the chains stitched from packets alone are the topology's; else what differs.
std::string compare_chains(const std::vector<Chain>& topology, const std::vector<Chain>& found) {
  auto text = [](std::vector<Chain> chains) {
    std::sort(chains.begin(), chains.end(),
              [](const Chain& a, const Chain& b) { return a.legs < b.legs; });
    std::string out;
    for (const auto& c : chains) {
      out += "[";
      for (std::size_t i = 0; i < c.legs.size(); ++i)
        out += (i ? " " : "") + std::to_string(c.legs[i] + 1);
      out += "]";
    }
    return out;
  };
  const std::string want = text(topology);
  const std::string got = text(found);
  if (want == got) return "";
  return fmt::format("the chains found from packets ({}) differ from the run's topology ({})", got,
                     want);
}

}  // namespace

std::optional<Profile> client_verdict_profile(const Scenario& s) {
  if (s.client.real == "chromium")
    return real::chromium_build_is_legacy(s.client.build) ? Profile::chrome_legacy
                                                          : Profile::chrome;
  if (s.client.real == "firefox") return Profile::firefox;
  return s.client.profile;
}

std::unique_ptr<ScenarioResult> run_scenario(const Scenario& s, const RunOptions& options) {
  auto result = std::make_unique<ScenarioResult>();
  ScenarioResult& r = *result;
  r.scenario = &s;
  const auto wall_start = std::chrono::steady_clock::now();
  std::filesystem::create_directories(options.out_dir);
  r.pcap_path = (std::filesystem::path(options.out_dir) / (s.name + ".pcap")).string();
  r.json_path = (std::filesystem::path(options.out_dir) / (s.name + ".json")).string();
  if (s.uses_tls()) r.key_log_path = key_log_path_for(r.pcap_path);

  if (std::string why = skip_reason(s); !why.empty()) {
    r.status = ScenarioResult::Status::skipped;
    r.error = why;
    return result;
  }
  Run run(s, r, options);
  std::unique_ptr<LiveCapture> capture;
  try {
    run.build();
  } catch (const SpecError& e) {
    r.status = ScenarioResult::Status::bad_input;
    r.error = e.what();
    return result;
  } catch (const real::EnvironmentError& e) {
    r.status = ScenarioResult::Status::environment;
    r.error = fmt::format("{}: {}", s.file, e.what());
    return result;
  } catch (const std::exception& e) {
    r.status = ScenarioResult::Status::environment;
    r.error = fmt::format("{}: cannot start the endpoints: {}", s.file, e.what());
    return result;
  }
  try {
    capture = std::make_unique<LiveCapture>(
        LiveCaptureOptions{.tcp_ports = run.ports(), .output_path = r.pcap_path},
        options.capture_rings);
  } catch (const std::exception& e) {
    r.status = ScenarioResult::Status::environment;
    r.error = e.what();
    return result;
  }
  bool finished = false;
  {
    // Only the event loop runs raised: timers late by a busy core would blur the gaps.
    const TimingPriority priority;
    run.start();
    finished = run.drive();
  }
  {
    // The settle: late kernel packets (an RST answering a last segment) still reach the capture.
    boost::asio::io_context idle;
    boost::asio::steady_timer settle(idle, options.settle);
    settle.async_wait([](const boost::system::error_code&) {});
    idle.run();
  }
  // The capture ends before the endpoints are torn down: after run_for (or a timeout) sockets are
  // still open, and the runner's own closes are not part of the scenario (a client still open
  // must stay open in the capture, as its implicit check expects).
  std::string capture_error;
  try {
    capture->stop();
  } catch (const std::exception& e) {
    capture_error = e.what();
  }
  run.stop_endpoints();
  run.copy_browser_secrets();
  r.client_outcome = run.client_outcome();
  r.client_label = run.client_label();
  if (std::string why = run.browser_error(); !why.empty())
    r.error = "the real browser gave no close event: " + why;
  r.endpoint_log = run.observations();
  if (!capture_error.empty()) {
    r.status = ScenarioResult::Status::environment;
    r.error = fmt::format("{}: {}", s.file, capture_error);
    return result;
  }
  // The run's key log: every TLS endpoint's secrets for the sessions in this capture (empty when
  // no leg is TLS); the analyzer decrypts the TLS legs with it, as replay does with NAME.keys.
  try {
    AnalyzerOptions options;
    if (!r.key_log_path.empty()) read_key_log(r.key_log_path, options.key_log);
    analyze_capture(
        r.pcap_path, [&](Connection&& c) { r.connections.push_back(std::move(c)); }, options);
  } catch (const std::exception& e) {
    r.status = ScenarioResult::Status::environment;
    r.error = fmt::format("{}: the run's own capture did not analyse: {}", s.file, e.what());
    return result;
  }
  name_legs(s, run.ports(), r);
  r.chains = topology_chains(run.ports(), r.connections, s.client.h2);
  if (std::string differ = compare_chains(r.chains, find_chains(r.connections)); !differ.empty())
    r.error += (r.error.empty() ? "" : "; ") + differ;

  // The context borrows the result's legs (a vector moved keeps its elements where they are, so
  // the outcomes' leg pointers stay valid when they go back).
  EvalContext ctx;
  ctx.legs = std::move(r.legs);
  ctx.tolerance_scale = options.tolerance_scale;
  for (const Chain& c : r.chains) {
    ChainView view;
    view.chain = c;
    view.diagnoses = diagnose(r.connections, c);
    for (std::size_t k = 0; k < c.legs.size(); ++k) {
      for (std::size_t v = 0; v < ctx.legs.size(); ++v) {
        if (ctx.legs[v].connection != &r.connections[c.legs[k]]) continue;
        view.legs.push_back(v);
        if (k + 1 < c.legs.size()) view.hop_names.push_back(ctx.legs[v].server_name);
      }
    }
    r.diagnoses.push_back(view.diagnoses);
    ctx.chains.push_back(std::move(view));
  }
  const std::string default_leg = s.leg_names().front();
  for (std::size_t i = 0; i < ctx.legs.size(); ++i) {
    if (ctx.legs[i].name == default_leg) ctx.default_legs.push_back(i);
  }
  // The client's own outcome must equal what the analyzer says its profile reports; a real
  // Chromium is judged by the `chrome` rules (current Chromium), a build up to 105 by the
  // `chrome-legacy` ones, real Firefox by the `firefox` ones.
  const auto profile = client_verdict_profile(s);
  // On a TLS client leg this holds too: the run has every secret of its own sessions, so a leg
  // it could not decrypt fails here ("no key for this TLS session") instead of going unchecked.
  if (profile && (s.client.real.empty() || r.client_outcome)) {
    Expectation& x = r.implicit.emplace_back();
    x.type = Expectation::Type::verdict;
    x.where = s.file;
    x.profiles = {*profile};
    x.check_code = true;
    if (r.client_outcome) {
      x.code = r.client_outcome->code;
      x.was_clean = r.client_outcome->was_clean;
      if (!s.client.real.empty()) {
        x.reason = r.client_outcome->reason;
        x.error_event = r.client_outcome->error_event;
      }
      x.text = fmt::format("{} ({} {}, {}{}) equals the {} verdict",
                           s.client.real.empty() ? "the client's own outcome"
                                                 : "what real " + r.client_label + " reported",
                           x.code ? std::to_string(*x.code) : "none", r.client_outcome->reason,
                           x.was_clean.value() ? "clean" : "not clean",
                           !x.error_event   ? ""
                           : *x.error_event ? ", error event"
                                            : ", no error event",
                           to_string(*profile));
    } else {
      x.text = fmt::format("the client reached its close event (the {} verdict says still open)",
                           to_string(*profile));
    }
  }
  r.outcomes = evaluate(s.expectations, ctx);
  for (auto& o : evaluate(r.implicit, ctx)) r.outcomes.push_back(std::move(o));
  r.legs = std::move(ctx.legs);
  bool passed = finished && r.error.empty();
  if (!finished) {
    r.error =
        fmt::format("the run did not end by itself within {} ms (timeout)", s.timeout.count());
  }
  for (const auto& o : r.outcomes) passed = passed && o.passed;
  r.status = passed ? ScenarioResult::Status::passed : ScenarioResult::Status::failed;

  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start)
          .count();
  return result;
}

}  // namespace closewire
