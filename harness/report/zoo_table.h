// The zoo's index (closewire list --zoo, docs/zoo.md): one row per public report a scenario in
// scenarios/zoo/ reproduces, with its mechanism and origin taken from the scenario's own
// `mechanism` expectation, so the table cannot say what the run does not check.
#pragma once

#include <string>
#include <vector>

#include "harness/scenario/scenario.h"

namespace closewire::report {

struct ZooRow {
  std::string ref;
  std::string symptom;
  std::string mechanism;  // from the scenario's mechanism expectation ("-" when it has none)
  std::string origin;     // its origin: server, client, or the hop's name ("-" when not given)
  std::string fix;
  std::string status;
  std::string file;
  std::string finding;
};

// The row of a scenario with a `report`.
ZooRow zoo_row(const Scenario& s);

// For a terminal: a block per report, wrapped to `width` columns.
std::string zoo_text(const std::vector<ZooRow>& rows, std::size_t width = 100);
// A Markdown table (docs/zoo.md holds it between its markers).
std::string zoo_markdown(const std::vector<ZooRow>& rows);

}  // namespace closewire::report
