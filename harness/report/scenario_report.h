// A scenario run as text (the PASS/FAIL line, the full account) and as JSON (NAME.json, run --json).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/report/text_report.h"
#include "harness/scenario/runner.h"

namespace closewire::report {

// "PASS  NAME  303 ms  FILE", or SKIP with the reason; for a failure (or with `verbose`) the
// expectations, the files and, verbose, the endpoints' observations.
std::string scenario_line(const ScenarioResult& r, const TextStyle& style, bool verbose);

// Every leg's timeline and verdicts, the client's outcome and every expectation (--report).
std::string scenario_account(const ScenarioResult& r);

// The run's JSON: legs with their names, expectations, the client's outcome, timings.
nlohmann::json scenario_json(const ScenarioResult& r);

// scenario_json as written to NAME.json (indented, a newline at the end).
std::string scenario_json_text(const ScenarioResult& r);

// One entry of `run --json`'s list: scenario_json_text for a run that reached its verdicts,
// {"scenario", "skipped"} or {"scenario", "error"} for one that did not.
std::string scenario_json_entry(const ScenarioResult& r);

// A topology chain's endpoints by their scenario names: client, gateway, ..., server.
std::vector<std::string> chain_names(const ScenarioResult& r, const Chain& c);

// Whether the run reached its verdicts (passed or failed), so that it has a NAME.json.
bool judged(const ScenarioResult& r);

}  // namespace closewire::report
