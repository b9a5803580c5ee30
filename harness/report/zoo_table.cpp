#include "harness/report/zoo_table.h"

#include <fmt/format.h>

#include "harness/analysis/known_reports.h"
#include "harness/report/text_report.h"

namespace closewire::report {
namespace {

std::string cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

ZooRow zoo_row(const Scenario& s) {
  ZooRow r;
  const ZooReport& z = s.report.value();
  r.ref = z.ref;
  r.symptom = z.symptom;
  r.fix = z.fix;
  r.status = z.status;
  r.file = s.file;
  r.finding = s.finding;
  r.mechanism = "-";
  r.origin = "-";
  for (const Expectation& e : s.expectations) {
    if (e.type != Expectation::Type::mechanism) continue;
    r.mechanism = e.mechanism;
    if (!e.origin.empty()) r.origin = e.origin;
    break;
  }
  return r;
}

std::string zoo_text(const std::vector<ZooRow>& rows, std::size_t width) {
  std::string out;
  for (const ZooRow& r : rows) {
    out += fmt::format("{}  [{}]  {}\n", r.ref, r.status, r.file);
    out += "  symptom:   " + wrap(r.symptom, 13, width) + "\n";
    out += fmt::format("  mechanism: {} (from {})\n", r.mechanism, r.origin);
    out += "  fix:       " + wrap(r.fix, 13, width) + "\n";
    if (!r.finding.empty()) out += "  finding:   " + wrap(r.finding, 13, width) + "\n";
  }
  out += fmt::format("{} reports\n", rows.size());
  return out;
}

std::string zoo_markdown(const std::vector<ZooRow>& rows) {
  std::string out =
      "| report | symptom | mechanism | origin | fix | status |\n"
      "|---|---|---|---|---|---|\n";
  for (const ZooRow& r : rows) {
    const std::string file = r.file.substr(r.file.rfind('/') + 1);
    out += fmt::format(
        "| [{}]({}) ([scenario](../scenarios/zoo/{})) | {} | `{}` | {} | {} | {} |\n", r.ref,
        report_url(r.ref), file, cell(r.symptom), r.mechanism, r.origin, cell(r.fix), r.status);
  }
  return out;
}

}  // namespace closewire::report
