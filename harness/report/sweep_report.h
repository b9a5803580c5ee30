// A sweep's outcome matrix: one model (the points with their values, the client's verdict, the
// first diagnosis, pass/fail), built from a run or read back from its JSON (shards merged), and
// its renderers: text tables, the flips in words, JSON, CSV and the HTML matrix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/report/html_report.h"
#include "harness/report/text_report.h"
#include "harness/scenario/runner.h"
#include "harness/scenario/sweep.h"

namespace closewire::report {

struct SweepCell {
  std::size_t index = 0;            // the point's, 0-based
  std::vector<std::string> values;  // per dimension
  std::string name;                 // the point's scenario (NAME-pNN)
  std::string status;               // PASS, FAIL, SKIP, ERROR
  std::string client;               // the profile, or "chromium 105.0...", "firefox 153.8.0"
  std::string profile;              // the verdict shown: the client's profile
  bool closed = false;              // the client-facing leg reached a close event
  std::optional<std::uint16_t> code;
  std::string reason;
  bool was_clean = false;
  std::string mechanism;            // the first chain's deciding mechanism
  std::vector<std::string> failed;  // the expectations that did not hold
  std::string error;
  std::string pcap, json;
  double run_ms = 0;
};

struct SweepTable {
  std::string file, name, about;
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values;  // per key
  std::size_t total_points = 0;
  std::vector<SweepCell> cells;  // by index; a shard holds some of them
};

SweepTable sweep_table(const Sweep& sweep, const std::vector<const ScenarioResult*>& results);

// "4321 clean", "1006 unclean", "open", or the status when the point has no verdict.
std::string cell_outcome(const SweepCell& c);

// The tables: the first key as rows, the second as columns, one table per value of the rest; a
// cell is the outcome and the first mechanism, "!" when an expectation failed there.
std::string sweep_matrix_text(const SweepTable& t, const TextStyle& style);

// Where the outcome flips, in words: along the first key in each column ("client.profile=
// chrome-legacy: 4321 clean up to 950ms; 1006 unclean from 990ms"), and along the second key in
// each row when its values are durations or numbers.
std::vector<std::string> sweep_boundaries(const SweepTable& t);

nlohmann::json sweep_json(const SweepTable& t);
// One CSV row per point: index, one column per key, status, code, clean, mechanism, pcap.
std::string sweep_csv(const SweepTable& t, bool header);

// A sweep's JSON read back (a shard's or a whole run's); throws std::runtime_error naming what
// is wrong.
SweepTable sweep_table_from_json(const nlohmann::json& j);
// Slices of one sweep joined; throws std::runtime_error when they are of different sweeps or
// hold the same point twice.
SweepTable merge_sweep_tables(const std::vector<SweepTable>& slices);

// The matrix as a page section; `href(cell)` is where a cell links (its ladder or its JSON).
HtmlSection sweep_html(const SweepTable& t, const std::string& anchor,
                       const std::function<std::string(const SweepCell&)>& href);

}  // namespace closewire::report
