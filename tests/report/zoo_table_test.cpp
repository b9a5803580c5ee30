// The zoo's index: rows from scenario files, docs/zoo.md kept equal to `list --zoo --markdown`,
// and harness/analysis/known_reports.cpp kept equal to what the zoo's files say.
#include "harness/report/zoo_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "harness/analysis/known_reports.h"
#include "harness/scenario/scenario_files.h"

namespace closewire::report {
namespace {

const std::string kSource = CLOSEWIRE_SOURCE_DIR;

std::vector<Scenario> zoo() {
  std::vector<Scenario> out;
  for (const auto& f : find_scenario_files({kSource + "/scenarios/zoo"}))
    out.push_back(load_scenario(f));
  return out;
}

TEST(ZooTable, EveryZooFileIsAReportWithAMechanism) {
  std::size_t reproduced = 0;
  std::set<std::string> refs;
  for (const Scenario& s : zoo()) {
    ASSERT_TRUE(s.report) << s.file << ": a zoo scenario needs a report";
    const ZooRow row = zoo_row(s);
    EXPECT_NE(row.mechanism, "-") << s.file << ": a zoo scenario checks its mechanism";
    EXPECT_TRUE(refs.insert(row.ref).second) << row.ref << " twice";
    if (row.status == "reproduced") ++reproduced;
  }
  EXPECT_GE(reproduced, 10u);  // issue 17's target
}

TEST(ZooTable, RowTakesTheScenariosMechanismAndOrigin) {
  Scenario s;
  s.file = "scenarios/zoo/x.yaml";
  s.report = ZooReport{"a/b#1", {}, "it broke", "they said", "a knob", "reproduced"};
  Expectation e;
  e.type = Expectation::Type::mechanism;
  e.mechanism = "close-timeout";
  e.origin = "gateway";
  s.expectations = {e};
  const ZooRow row = zoo_row(s);
  EXPECT_EQ(row.mechanism, "close-timeout");
  EXPECT_EQ(row.origin, "gateway");
  const std::string md = zoo_markdown({row});
  EXPECT_NE(
      md.find("| [a/b#1](https://github.com/a/b/issues/1) ([scenario](../scenarios/zoo/x.yaml)) "
              "| it broke | `close-timeout` | gateway | a knob | reproduced |"),
      std::string::npos)
      << md;
  const std::string text = zoo_text({row});
  EXPECT_NE(text.find("mechanism: close-timeout (from gateway)"), std::string::npos) << text;
}

TEST(ZooTable, DocsHoldTheGeneratedTable) {
  std::vector<ZooRow> rows;
  for (const Scenario& s : zoo()) rows.push_back(zoo_row(s));
  std::ifstream in(kSource + "/docs/zoo.md");
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const std::string open = "<!-- zoo-table -->\n";
  const auto a = text.find(open);
  const auto b = text.find("<!-- /zoo-table -->");
  ASSERT_TRUE(a != std::string::npos && b != std::string::npos) << "docs/zoo.md lost its markers";
  EXPECT_EQ(text.substr(a + open.size(), b - a - open.size()), zoo_markdown(rows))
      << "regenerate: build/tools/closewire list --zoo --markdown";
}

// known_reports.cpp has one row per reproduced zoo file whose mechanism is not clean, with its
// mechanism and the kind of its origin (a hop's name counts as "hop").
TEST(ZooTable, KnownReportsAreTheZoosFiles) {
  using Row = std::tuple<std::string, std::string, std::string>;
  std::set<Row> from_files;
  for (const Scenario& s : zoo()) {
    const ZooRow row = zoo_row(s);
    if (row.status != "reproduced" || row.mechanism == "clean") continue;
    const std::string origin =
        row.origin == "server" || row.origin == "client" ? row.origin : "hop";
    from_files.insert({row.ref, row.mechanism, origin});
  }
  std::set<Row> from_table;
  for (const KnownReport& r : known_reports())
    from_table.insert({std::string(r.ref), std::string(r.mechanism), std::string(r.origin)});
  EXPECT_EQ(from_table, from_files);
}

}  // namespace
}  // namespace closewire::report
