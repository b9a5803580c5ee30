// Runs one scenario: endpoints on one io_context, a live capture of their ports, then the same
// analyzer and expectations as a replay.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/analysis/chain.h"
#include "harness/analysis/connection.h"
#include "harness/analysis/diagnosis.h"
#include "harness/capture/capture_ring.h"
#include "harness/endpoints/client_profile.h"
#include "harness/expect/evaluate.h"
#include "harness/scenario/scenario.h"

namespace closewire {

namespace real {
class Chromium;
class Firefox;
}  // namespace real
namespace endpoints {
class TlsIdentity;
}  // namespace endpoints

struct RunOptions {
  std::string out_dir = "out";  // NAME.pcap and NAME.json per scenario
  double tolerance_scale = 1.0;
  // After every socket closed: how long the capture still watches for late kernel packets. On
  // loopback the kernel answers a segment within the sender's system call, so this is short; the
  // stop itself is confirmed by a sentinel.
  Millis settle{2};
  // The browser shared by every scenario with a real chromium client (closewire run starts it
  // once); when null, such a scenario starts its own.
  std::shared_ptr<real::Chromium> chromium;
  // The same for a real firefox client.
  std::shared_ptr<real::Firefox> firefox;
  // The run's throw-away CA and leaf, shared by every scenario with a TLS leg, so that a browser
  // started once trusts the one leaf (Chromium's SPKI flag); when null, a scenario makes its own.
  std::shared_ptr<const endpoints::TlsIdentity> tls_identity;
  // Capture rings opened before any scenario started and reused (capture_ring.h says why); when
  // empty or null, a scenario opens its own.
  std::shared_ptr<CaptureRingPool> capture_rings;
};

struct ScenarioResult {
  // skipped: a variant that cannot apply (a real peer cannot take a step, or the file says so)
  enum class Status { passed, failed, bad_input, environment, skipped };
  const Scenario* scenario = nullptr;
  Status status = Status::failed;
  std::string error;  // one line, for bad_input / environment / skipped / a run that did not finish
  std::vector<Connection> connections;
  std::vector<LegView> legs;  // named legs, pointing into `connections`
  // The run's chains as its topology says (the n-th connection to each hop in turn), legs as
  // indices into `connections`; every run checks that find_chains gets the same from packets.
  std::vector<Chain> chains;
  std::vector<std::vector<Diagnosis>> diagnoses;  // per chain
  // Checks the runner adds (client outcome = verdict); filled before evaluation, never after, so
  // outcomes may point into it.
  std::vector<Expectation> implicit;
  std::vector<Outcome> outcomes;
  std::optional<endpoints::ClientOutcome> client_outcome;  // a real browser's close event too
  // "chrome-legacy" (a profile), or a real browser: "chromium Chrome/156.0...", "firefox 153.8.0"
  std::string client_label;
  std::string pcap_path;
  std::string json_path;
  // NAME.keys beside NAME.pcap: the run's TLS key log (NSS format, every TLS endpoint's
  // secrets); empty when no leg is TLS.
  std::string key_log_path;
  std::string endpoint_log;  // every endpoint's observations, for a failure report
  double wall_ms = 0;        // capture start to verdict
  double run_ms = 0;         // first connection to the last socket closed

  ScenarioResult() = default;
  ScenarioResult(const ScenarioResult&) = delete;
  ScenarioResult& operator=(const ScenarioResult&) = delete;
};

// The profile whose verdict the client's own outcome must equal: the model's, `chrome` for
// Debian's Chromium, `chrome-legacy` for a build up to 105, `firefox` for Firefox.
std::optional<Profile> client_verdict_profile(const Scenario& s);

std::unique_ptr<ScenarioResult> run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace closewire
