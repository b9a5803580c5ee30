#include "harness/report/scenario_report.h"

#include <fmt/format.h>

#include "harness/report/chain_report.h"
#include "harness/report/json_report.h"

namespace closewire::report {
// A topology chain's endpoints by their scenario names: client, gateway, ..., server.
std::vector<std::string> chain_names(const ScenarioResult& r, const Chain& c) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < c.legs.size(); ++k) {
    for (const auto& leg : r.legs) {
      if (leg.connection != &r.connections[c.legs[k]]) continue;
      if (k == 0) names.push_back(leg.client_name);
      names.push_back(leg.server_name);
    }
  }
  return names;
}

std::string scenario_line(const ScenarioResult& r, const TextStyle& style, bool verbose) {
  const Scenario& s = *r.scenario;
  if (r.status == ScenarioResult::Status::skipped) {
    return fmt::format("{}  {:<40} {:>8}     {}\n      {}\n",
                       style.color ? "\x1b[33mSKIP\x1b[0m" : "SKIP", s.name, "", s.file, r.error);
  }
  const bool passed = r.status == ScenarioResult::Status::passed;
  const char* label = !style.color ? (passed ? "PASS" : "FAIL")
                      : passed     ? "\x1b[32mPASS\x1b[0m"
                                   : "\x1b[1;31mFAIL\x1b[0m";
  std::string out = fmt::format("{}  {:<40} {:>8.0f} ms  {}\n", label, s.name, r.run_ms, s.file);
  if (passed && !verbose) return out;
  if (!r.error.empty()) out += fmt::format("      {}\n", r.error);
  std::vector<Outcome> shown;
  for (const auto& o : r.outcomes) {
    if (!o.passed || verbose) shown.push_back(o);
  }
  out += outcomes(shown, style);
  if (!passed) {
    out += fmt::format("      capture: {}{}   report: {}\n", r.pcap_path,
                       r.key_log_path.empty() ? "" : "   key log: " + r.key_log_path, r.json_path);
    if (verbose) out += r.endpoint_log;
  }
  return out;
}

std::string scenario_account(const ScenarioResult& r) {
  const Scenario& s = *r.scenario;
  std::string out = fmt::format("━━ {}  ({})\n{}\n", s.name, s.file, s.about);
  if (r.status == ScenarioResult::Status::skipped) return out + "SKIP  " + r.error + "\n\n";
  if (!r.error.empty()) out += "error: " + r.error + "\n";
  const TextStyle plain;
  for (const auto& leg : r.legs) {
    out += "\n" + leg_heading(*leg.connection, leg.name) + "\n" +
           timeline(*leg.connection, leg, plain);
    if (leg.connection->websocket) out += "\n" + verdict_table(*leg.connection, plain);
  }
  for (std::size_t i = 0; i < r.chains.size(); ++i) {
    out += "\n" + chain_block(i + 1, r.connections, r.chains[i], r.diagnoses[i],
                              chain_names(r, r.chains[i]), plain);
  }
  if (r.client_outcome) {
    out += fmt::format("\nthe client ({}) reported: {} '{}' {} ({})\n", r.client_label,
                       r.client_outcome->code ? std::to_string(*r.client_outcome->code) : "none",
                       r.client_outcome->reason,
                       r.client_outcome->was_clean ? "clean" : "not clean", r.client_outcome->why);
  }
  out += "\nexpectations\n" + outcomes(r.outcomes, plain);
  out += fmt::format("{}  (capture {}, {:.0f} ms)\n\n",
                     r.status == ScenarioResult::Status::passed ? "PASS" : "FAIL", r.pcap_path,
                     r.run_ms);
  return out;
}

nlohmann::json scenario_json(const ScenarioResult& r) {
  const Scenario& s = *r.scenario;
  nlohmann::json j = {
      {"scenario", s.name}, {"file", s.file}, {"about", s.about}, {"pcap", r.pcap_path}};
  if (!r.key_log_path.empty()) j["keys"] = r.key_log_path;
  j["legs"] = nlohmann::json::array();
  for (const auto& leg : r.legs) {
    auto c = connection_json(*leg.connection);
    c["name"] = leg.name;
    c["client_side"] = leg.client_name;
    c["server_side"] = leg.server_name;
    j["legs"].push_back(std::move(c));
  }
  j["chains"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.chains.size(); ++i) {
    nlohmann::json c = chain_json(r.connections, r.chains[i], r.diagnoses[i]);
    c["names"] = chain_names(r, r.chains[i]);
    j["chains"].push_back(std::move(c));
  }
  j["expectations"] = outcomes_json(r.outcomes);
  j["client"] = r.client_label;
  if (!s.variant.empty()) j["variant"] = s.variant;
  if (r.client_outcome) {
    j["client_outcome"] = {{"code", r.client_outcome->code ? nlohmann::json(*r.client_outcome->code)
                                                           : nlohmann::json(nullptr)},
                           {"reason", r.client_outcome->reason},
                           {"was_clean", r.client_outcome->was_clean},
                           {"why", r.client_outcome->why}};
    if (r.client_outcome->error_event)
      j["client_outcome"]["error_event"] = *r.client_outcome->error_event;
  }
  j["passed"] = r.status == ScenarioResult::Status::passed;
  j["wall_ms"] = r.wall_ms;
  j["run_ms"] = r.run_ms;
  return j;
}

std::string scenario_json_text(const ScenarioResult& r) {
  return scenario_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool judged(const ScenarioResult& r) {
  return r.status == ScenarioResult::Status::passed || r.status == ScenarioResult::Status::failed;
}

std::string scenario_json_entry(const ScenarioResult& r) {
  if (judged(r)) return scenario_json_text(r);
  const nlohmann::json stub =
      r.status == ScenarioResult::Status::skipped
          ? nlohmann::json({{"scenario", r.scenario->name}, {"skipped", r.error}})
          : nlohmann::json({{"scenario", r.scenario->name}, {"error", r.error}});
  return stub.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace closewire::report
