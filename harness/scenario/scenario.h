// A scenario: a client, a chain of proxies and a server on loopback, timed steps, expectations.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/endpoints/client_profile.h"
#include "harness/endpoints/close_mode.h"
#include "harness/endpoints/relay.h"
#include "harness/expect/expectation.h"

namespace closewire {

using Millis = std::chrono::milliseconds;

// Something an endpoint does: on open (server) or as a timed step.
struct Action {
  enum class Kind { text, binary, ping, pong, close, close_socket, stop_reading, wait };
  Kind kind = Kind::close;
  std::string payload;                // text, binary, ping, pong
  std::optional<std::uint16_t> code;  // close: absent = no payload (the peer sees 1005)
  std::string reason;                 // close
  endpoints::CloseMode mode = endpoints::CloseMode::fin;  // close_socket
  Millis duration{0};                 // wait; close_socket: delay for delayed / close-unread
  std::string text;                   // as written, for reports
};

struct ClientSpec {
  // "chromium": Debian's headless Chromium instead of the profile's model (harness/real); its
  // close event is checked against the `chrome` verdict.
  std::string real;
  // With real: chromium, an old build from the cache instead of Debian's ("105": CACHE/105/
  // chromium, tools/legacy-chromium/fetch); builds <= 105 are judged by `chrome-legacy`.
  std::string build;
  endpoints::ClientProfile profile = endpoints::ClientProfile::chrome;
  std::optional<Millis> close_timeout;  // overrides the profile's
  std::string target = "/";
};

struct ProxySpec {
  enum class Model { envoy, tcp, real };
  std::string name;
  Model model = Model::envoy;
  // real: "nginx", "haproxy" (config from tools/real/KIND.conf.in) or "exec" (any command)
  std::string real;
  std::map<std::string, std::string> options;  // real: template knobs; exec: `vars`
  std::string exec;         // exec: the command, with {listen_port}, {upstream_port}, {config}, ...
  std::string exec_config;  // exec: a template rendered into the run's folder as {config}
  // envoy
  Millis delayed_close_timeout{1000};
  bool no_delay_close_for_upgrades = true;  // Envoy >= 1.23's default
  Millis latency{0};
  // tcp
  endpoints::CloseMode on_upstream_close = endpoints::CloseMode::fin;
  endpoints::CloseMode on_downstream_close = endpoints::CloseMode::fin;
  Millis close_delay{1000};
  endpoints::DirectionFaults to_client;  // server -> client direction
  endpoints::DirectionFaults to_server;  // client -> server direction
};

struct ServerSpec {
  // "node-ws": the seed's Node ws 8 server (tools/real/node-ws-server); on_open must then be one
  // close, with or without a code.
  std::string real;
  std::vector<Action> on_open;  // default: the seed's close(4321, "test")
  endpoints::CloseMode after_closing_handshake = endpoints::CloseMode::half_close;
  Millis close_timeout{30000};
};

// When a step runs: `at` after the client's WebSocket opened, or after an endpoint observed
// something ("client receives ws.close"), plus `delay`.
struct StepTrigger {
  std::optional<Millis> at;
  std::string after_endpoint;  // "client" or "server"
  std::string after_what;      // "receives ws.close", "sees fin", "sees rst", "times out", ...
  Millis delay{0};
  std::string text;
};

struct Step {
  StepTrigger when;
  std::string endpoint;  // "client" or "server"
  Action action;
  std::string where;     // FILE:LINE
};

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
  // variants: { chromium: { skip: "why" }, node-ws: {...} }: variants this scenario cannot have.
  std::map<std::string, std::string> variant_skips;
  std::string variant;  // applied variant, e.g. "chromium" or "chromium+node-ws"

  // "client", proxy names..., "server"
  std::vector<std::string> chain() const;
  // "client-gateway", ...: leg i joins chain()[i] and chain()[i + 1]
  std::vector<std::string> leg_names() const;
};

// Loads and validates a scenario file; throws SpecError naming FILE:LINE:COLUMN.
Scenario load_scenario(const std::string& path);

}  // namespace closewire
