// A scenario: a client, a chain of proxies and a server on loopback, timed steps, expectations.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "harness/analysis/profile.h"
#include "harness/endpoints/action.h"
#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/observation.h"
#include "harness/endpoints/proxy_model.h"
#include "harness/endpoints/server.h"
#include "harness/endpoints/tls_context.h"
#include "harness/expect/expectation.h"
#include "harness/wire/frame.h"

namespace closewire {

using Millis = std::chrono::milliseconds;

using endpoints::Action;

struct ClientSpec {
  // "chromium": Debian's headless Chromium instead of the profile's model (harness/real); its
  // close event is checked against the `chrome` verdict. "firefox": Debian's firefox-esr,
  // checked against the `firefox` verdict.
  std::string real;
  // With real: chromium, an old build from the cache instead of Debian's ("105": CACHE/105/
  // chromium, tools/legacy-chromium/fetch); builds <= 105 are judged by `chrome-legacy`.
  std::string build;
  Profile profile = Profile::chrome;
  std::optional<Millis> close_timeout;  // overrides the profile's
  std::string target = "/";
  bool auto_reply = true;  // false: the model does not answer a Close itself; a step does
  // The WebSocket goes over HTTP/2 (RFC 8441: an extended CONNECT on an h2 connection, ALPN h2),
  // as browsers do when the page came over h2 from an origin that allows it (§6). Needs a first
  // hop that listens with TLS.
  bool h2 = false;
};

// A real program in a proxy slot (harness/real): nginx or HAProxy from a config template with
// knobs, or any command.
struct RealProxySpec {
  std::string kind;                            // "nginx", "haproxy" or "exec"
  std::map<std::string, std::string> options;  // nginx/haproxy: template knobs; exec: `vars`
  std::string exec;         // exec: the command, with {listen_port}, {upstream_port}, {config}, ...
  std::string exec_config;  // exec: a template rendered into the run's folder as {config}
};

// `tls: true` or `tls: { version: 1.2 }` on a listening side (the server, a proxy): it speaks TLS
// there, and whoever connects to it (the client model, the proxy before it) speaks TLS to it.
struct TlsSpec {
  endpoints::TlsVersion version = endpoints::TlsVersion::tls1_3;
};

struct ProxySpec {
  std::string name;
  std::optional<TlsSpec> tls;  // its listening side (a model, nginx, HAProxy or exec)
  // A model (endpoints/proxy_model.h) or a real program.
  std::variant<endpoints::EnvoyModel, endpoints::TcpModel, RealProxySpec> kind;
  // A model listening with h2: HAProxy's RST_STREAM(CANCEL) behind its END_STREAM (false: none).
  bool h2_reset_after_end_stream = true;

  const RealProxySpec* real() const { return std::get_if<RealProxySpec>(&kind); }
  // The model, when it is one.
  std::optional<endpoints::ProxyModel> model() const;
};

struct ServerSpec {
  // "node-ws": the seed's Node ws 8 server (tools/real/node-ws-server); on_open must then be one
  // close, with or without a code.
  std::string real;
  std::vector<Action> on_open = {
      Action::close(endpoints::kSeedCloseCode, std::string(endpoints::kSeedCloseReason))};
  // Absent (`none`): the server never ends TCP after the closing handshake itself.
  std::optional<endpoints::CloseMode> after_closing_handshake = endpoints::CloseMode::half_close;
  Millis close_timeout = endpoints::kWsCloseTimeout;
  // false: a client's Close gets no Close back; the server ends TCP instead (endpoints::Server).
  bool answer_close = true;
  std::optional<TlsSpec> tls;  // the model only
};

// What an endpoint observes that can trigger a step ("client receives ws.close").
struct StepEvent {
  enum class What : std::uint8_t {
    receives_frame,  // a frame of `opcode` arrived
    sends_close,     // its own Close frame went out
    sees_fin,
    sees_rst,
    times_out,  // its own close timeout fired
    is_upgraded,
  };
  What what = What::receives_frame;
  wire::Opcode opcode = wire::Opcode::close;  // receives_frame
};

// When a step runs: `at` after the client's WebSocket opened, or after an endpoint observed
// something, plus `delay`.
struct StepTrigger {
  std::optional<Millis> at;
  std::string after_endpoint;  // "client" or "server"
  StepEvent after;
  Millis delay{0};
  std::string text;  // as written: "after client receives ws.close + 200ms"
};

// "receives ws.close", "sends ws.close", "sees fin", "sees rst", "times out", "is upgraded".
std::optional<StepEvent> step_event_from_string(std::string_view text);
std::string_view to_string(const StepEvent& e);
// Whether `o` is the observation `e` waits for.
bool matches(const StepEvent& e, const endpoints::Observation& o);

struct Step {
  StepTrigger when;
  std::string endpoint;  // "client" or "server"
  Action action;
  std::string where;  // FILE:LINE
};

// A public report this scenario reproduces (scenarios/zoo/: docs/zoo.md).
struct ZooReport {
  std::string ref;                    // owner/repo#N, as the report is cited
  std::vector<std::string> see_also;  // related issues and pull requests, same form
  std::string symptom;                // what the reporters saw, in our words
  std::string cause;                  // the cause the report gave
  std::string fix;                    // what fixed it there (or "none")
  std::string status;                 // reproduced | needs-http2 | not-reproducible
};
inline constexpr std::array kZooStatuses = {"reproduced", "needs-http2", "not-reproducible"};

struct Scenario {
  std::string file;
  std::string name;
  std::string about;
  bool ipv6 = false;  // bind ::1 instead of 127.0.0.1
  ClientSpec client;
  std::vector<ProxySpec> proxies;
  ServerSpec server;
  std::vector<Step> steps;
  std::optional<Millis> run_for;  // fixed length; otherwise until every socket is closed
  Millis timeout{10000};          // bound on a run without run_for
  std::vector<Expectation> expectations;
  // variants: { chromium: { skip: "why" }, firefox: {...}, node-ws: {...} }: variants this
  // scenario cannot have.
  std::map<std::string, std::string> variant_skips;
  std::string variant;  // applied variant, e.g. "chromium" or "chromium+node-ws"
  std::optional<ZooReport> report;
  // What the packets show where they differ from the report's stated cause.
  std::string finding;

  // Whether any leg is TLS: the run then writes NAME.keys beside NAME.pcap.
  bool uses_tls() const;
  // Whether hop `hop` listens with TLS: proxies in chain order, then the server (hop
  // proxies.size()). Whoever connects to it speaks TLS.
  bool hop_tls(std::size_t hop) const;
  // The client's leg: whether the first hop listens with TLS (the browser uses wss://).
  bool first_hop_tls() const { return hop_tls(0); }

  // "client", proxy names..., "server"
  std::vector<std::string> chain() const;
  // "client-gateway", ...: leg i joins chain()[i] and chain()[i + 1]
  std::vector<std::string> leg_names() const;
};

// Loads and validates a scenario file; throws SpecError naming FILE:LINE:COLUMN.
Scenario load_scenario(const std::string& path);

// A sweep's point from its YAML tree (sweep.h): like load_scenario, but the file's `sweep` block is
// allowed and `expect` may be absent.
Scenario parse_sweep_point(const YAML::Node& root, const std::string& path);

// The legs and endpoints its expectations name exist in its chain; throws SpecError.
void check_expectation_names(const Scenario& s);

}  // namespace closewire
