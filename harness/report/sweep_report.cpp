#include "harness/report/sweep_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "harness/analysis/verdict.h"
#include "harness/report/scenario_report.h"

namespace closewire::report {
namespace {

std::string status_text(ScenarioResult::Status s) {
  switch (s) {
    case ScenarioResult::Status::passed:
      return "PASS";
    case ScenarioResult::Status::failed:
      return "FAIL";
    case ScenarioResult::Status::skipped:
      return "SKIP";
    default:
      return "ERROR";
  }
}

// UTF-8 aware width (the cells hold "·").
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t w = columns(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

bool numeric_values(const std::vector<std::string>& values) {
  return std::all_of(values.begin(), values.end(), [](const std::string& v) {
    if (parse_duration(v)) return true;
    try {
      std::size_t used = 0;
      (void)std::stod(v, &used);
      return used == v.size();
    } catch (const std::exception&) {
      return false;
    }
  });
}

std::string cell_text(const SweepCell* c) {
  if (!c) return "-";
  std::string s = cell_outcome(*c);
  if (!c->mechanism.empty() && c->closed) s += " · " + c->mechanism;
  if (!c->failed.empty() || c->status == "FAIL") s = "! " + s;
  return s;
}

// The cells of one table: those whose values of the keys beyond the second are `rest`.
struct Grid {
  std::vector<std::size_t> rest;  // value indices of keys 2..
  std::map<std::pair<std::size_t, std::size_t>, const SweepCell*> at;
};

std::vector<Grid> grids(const SweepTable& t) {
  std::map<std::vector<std::size_t>, Grid> by_rest;
  const auto index_of = [&](std::size_t key, const std::string& v) {
    const auto& vs = t.values[key];
    return static_cast<std::size_t>(std::find(vs.begin(), vs.end(), v) - vs.begin());
  };
  // Every combination of the rest gets a table, even when a shard left it empty.
  std::size_t combos = 1;
  for (std::size_t k = 2; k < t.keys.size(); ++k) combos *= t.values[k].size();
  for (std::size_t i = 0; i < combos; ++i) {
    std::vector<std::size_t> rest(t.keys.size() > 2 ? t.keys.size() - 2 : 0);
    std::size_t r = i;
    for (std::size_t k = rest.size(); k-- > 0;) {
      rest[k] = r % t.values[k + 2].size();
      r /= t.values[k + 2].size();
    }
    by_rest[rest].rest = rest;
  }
  for (const auto& c : t.cells) {
    std::vector<std::size_t> rest;
    for (std::size_t k = 2; k < t.keys.size(); ++k) rest.push_back(index_of(k, c.values[k]));
    const std::size_t row = index_of(0, c.values[0]);
    const std::size_t col = t.keys.size() > 1 ? index_of(1, c.values[1]) : 0;
    by_rest[rest].at[{row, col}] = &c;
  }
  std::vector<Grid> out;
  for (auto& [k, g] : by_rest) out.push_back(std::move(g));
  return out;
}

std::string rest_label(const SweepTable& t, const Grid& g) {
  std::string s;
  for (std::size_t k = 0; k < g.rest.size(); ++k)
    s += fmt::format("{}{}={}", k ? ", " : "", t.keys[k + 2], t.values[k + 2][g.rest[k]]);
  return s;
}

// "4321 clean up to 950ms; 1006 unclean from 990ms" over one line of cells; empty if it does not
// flip.
std::string flips(const std::vector<std::string>& values,
                  const std::vector<const SweepCell*>& cells, bool ordered) {
  struct Run {
    std::string outcome;
    std::vector<std::string> values;
  };
  // Ordered values: consecutive runs of one outcome; categories: grouped by outcome.
  std::vector<Run> runs;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!cells[i]) continue;
    const std::string o = cell_outcome(*cells[i]);
    auto into = ordered ? (runs.empty() || runs.back().outcome != o ? runs.end() : runs.end() - 1)
                        : std::find_if(runs.begin(), runs.end(),
                                       [&](const Run& r) { return r.outcome == o; });
    if (into == runs.end()) {
      runs.push_back({o, {values[i]}});
    } else {
      into->values.push_back(values[i]);
    }
  }
  if (runs.size() < 2) return "";
  std::string out;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    std::string where;
    if (!ordered) {
      where = "with ";
      for (std::size_t i = 0; i < run.values.size(); ++i) where += (i ? ", " : "") + run.values[i];
    } else if (run.values.size() == 1) {
      where = "at " + run.values.front();
    } else if (r == 0) {
      where = "up to " + run.values.back();
    } else if (r + 1 == runs.size()) {
      where = "from " + run.values.front();
    } else {
      where = run.values.front() + ".." + run.values.back();
    }
    out += fmt::format("{}{} {}", r ? "; " : "", run.outcome, where);
  }
  if (ordered) {
    // The boundaries: between the last value of one run and the first of the next.
    std::string between;
    for (std::size_t r = 1; r < runs.size(); ++r) {
      between += fmt::format("{}{} and {}", r > 1 ? ", " : "", runs[r - 1].values.back(),
                             runs[r].values.front());
    }
    out += fmt::format(" (flips between {})", between);
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string cell_outcome(const SweepCell& c) {
  if (c.status == "ERROR" || c.status == "SKIP") return c.status;
  if (!c.closed) return "open";
  return fmt::format("{} {}", c.code ? std::to_string(*c.code) : "none",
                     c.was_clean ? "clean" : "unclean");
}

SweepTable sweep_table(const Sweep& sweep, const std::vector<const ScenarioResult*>& results) {
  SweepTable t;
  t.file = sweep.file;
  t.name = sweep.name;
  t.about = sweep.about;
  t.total_points = sweep.total_points;
  for (const auto& d : sweep.dimensions) {
    t.keys.push_back(d.key.text);
    auto& vs = t.values.emplace_back();
    for (const auto& v : d.values) vs.push_back(v.text);
  }
  for (std::size_t i = 0; i < sweep.points.size() && i < results.size(); ++i) {
    const SweepPoint& p = sweep.points[i];
    const ScenarioResult& r = *results[i];
    SweepCell c;
    c.index = p.index;
    for (std::size_t d = 0; d < sweep.dimensions.size(); ++d)
      c.values.push_back(sweep.dimensions[d].values[p.value_of[d]].text);
    c.name = p.scenario.name;
    c.status = status_text(r.status);
    c.client = r.client_label;
    c.error = r.error;
    c.run_ms = r.run_ms;
    if (judged(r)) {
      c.pcap = r.pcap_path;
      c.json = r.json_path;
    }
    const auto profile = client_verdict_profile(p.scenario);
    if (profile) c.profile = std::string(to_string(*profile));
    if (profile && !r.chains.empty() && !r.chains.front().legs.empty()) {
      const Verdict v = judge(r.connections[r.chains.front().legs.front()], *profile);
      c.closed = v.closed;
      c.code = v.code;
      c.reason = v.reason;
      c.was_clean = v.was_clean;
    }
    if (!r.diagnoses.empty() && !r.diagnoses.front().empty())
      c.mechanism = r.diagnoses.front().front().mechanism;
    for (const auto& o : r.outcomes)
      if (!o.passed) c.failed.push_back(o.expectation ? o.expectation->text : o.expected);
    t.cells.push_back(std::move(c));
  }
  std::sort(t.cells.begin(), t.cells.end(),
            [](const SweepCell& a, const SweepCell& b) { return a.index < b.index; });
  return t;
}

std::string sweep_matrix_text(const SweepTable& t, const TextStyle& style) {
  std::size_t passed = 0;
  for (const auto& c : t.cells) passed += c.status == "PASS";
  std::string out =
      fmt::format("sweep {}  ({})\n  {} of {} points ran: {} passed, {} failed\n", t.name, t.file,
                  t.cells.size(), t.total_points, passed, t.cells.size() - passed);
  // A real client replaces the profile's model at every point: say which one answered.
  std::vector<std::string> clients;
  for (const auto& c : t.cells)
    // "firefox 153.8.0", not the profile `firefox`
    if ((c.client.starts_with("chromium") || c.client.starts_with("firefox ")) &&
        std::find(clients.begin(), clients.end(), c.client) == clients.end())
      clients.push_back(c.client);
  for (const auto& c : clients) out += "  the client at every point: real " + c + "\n";
  const std::string corner = t.keys.size() > 1 ? t.keys[0] + " \\ " + t.keys[1] : t.keys[0];
  for (const Grid& g : grids(t)) {
    out += "\n";
    if (!g.rest.empty()) out += "  with " + rest_label(t, g) + "\n";
    const std::size_t cols = t.keys.size() > 1 ? t.values[1].size() : 1;
    std::vector<std::size_t> width(cols + 1, 0);
    width[0] = std::max(columns(corner), std::size_t{4});
    for (const auto& v : t.values[0]) width[0] = std::max(width[0], columns(v));
    for (std::size_t c = 0; c < cols; ++c) {
      width[c + 1] = t.keys.size() > 1 ? columns(t.values[1][c]) : columns(std::string("outcome"));
      for (std::size_t r = 0; r < t.values[0].size(); ++r) {
        auto it = g.at.find({r, c});
        width[c + 1] =
            std::max(width[c + 1], columns(cell_text(it == g.at.end() ? nullptr : it->second)));
      }
    }
    std::string header = "  " + pad(corner, width[0]);
    for (std::size_t c = 0; c < cols; ++c)
      header += "  " + pad(t.keys.size() > 1 ? t.values[1][c] : "outcome", width[c + 1]);
    while (!header.empty() && header.back() == ' ') header.pop_back();
    out += header + "\n";
    for (std::size_t r = 0; r < t.values[0].size(); ++r) {
      std::string line = "  " + pad(t.values[0][r], width[0]);
      for (std::size_t c = 0; c < cols; ++c) {
        auto it = g.at.find({r, c});
        const SweepCell* cell = it == g.at.end() ? nullptr : it->second;
        std::string text = pad(cell_text(cell), width[c + 1]);
        if (cell && (cell->code == 1006 || (cell->closed && !cell->was_clean)))
          text = paint(style, "1;31", text);
        else if (cell && !cell->failed.empty())
          text = paint(style, "1;33", text);
        line += "  " + text;
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }
  const auto words = sweep_boundaries(t);
  out += "\n";
  if (words.empty()) out += "  the outcome does not flip over this sweep\n";
  for (const auto& w : words)
    out += wrap("  " + w, 4, static_cast<std::size_t>(style.width)) + "\n";
  bool any_failed = false;
  for (const auto& c : t.cells) {
    if (c.failed.empty() && c.error.empty()) continue;
    if (!any_failed) out += "\n  ! where an expectation failed:\n";
    any_failed = true;
    std::string why = !c.failed.empty() ? c.failed.front() : c.error;
    if (c.failed.size() > 1) why += fmt::format(" (and {} more)", c.failed.size() - 1);
    out += wrap(fmt::format("    {} ({}): {}", c.name, fmt::format("{}", fmt::join(c.values, ", ")),
                            why),
                6, static_cast<std::size_t>(style.width)) +
           "\n";
  }
  return out;
}

std::vector<std::string> sweep_boundaries(const SweepTable& t) {
  std::vector<std::string> out;
  const bool rows_ordered = numeric_values(t.values[0]);
  const bool cols_ordered = t.keys.size() > 1 && numeric_values(t.values[1]);
  for (const Grid& g : grids(t)) {
    const std::string rest = g.rest.empty() ? "" : " (with " + rest_label(t, g) + ")";
    const std::size_t cols = t.keys.size() > 1 ? t.values[1].size() : 1;
    for (std::size_t c = 0; c < cols; ++c) {
      std::vector<const SweepCell*> line;
      for (std::size_t r = 0; r < t.values[0].size(); ++r) {
        auto it = g.at.find({r, c});
        line.push_back(it == g.at.end() ? nullptr : it->second);
      }
      const std::string f = flips(t.values[0], line, rows_ordered);
      if (f.empty()) continue;
      const std::string who =
          t.keys.size() > 1 ? fmt::format("{}={}", t.keys[1], t.values[1][c]) : "every point";
      out.push_back(fmt::format("{}{}, over {}: {}", who, rest, t.keys[0], f));
    }
    if (!cols_ordered) continue;
    for (std::size_t r = 0; r < t.values[0].size(); ++r) {
      std::vector<const SweepCell*> line;
      for (std::size_t c = 0; c < cols; ++c) {
        auto it = g.at.find({r, c});
        line.push_back(it == g.at.end() ? nullptr : it->second);
      }
      const std::string f = flips(t.values[1], line, true);
      if (f.empty()) continue;
      out.push_back(
          fmt::format("{}={}{}, over {}: {}", t.keys[0], t.values[0][r], rest, t.keys[1], f));
    }
  }
  return out;
}

nlohmann::json sweep_json(const SweepTable& t) {
  nlohmann::json j;
  j["sweep"] = {
      {"file", t.file}, {"name", t.name}, {"about", t.about}, {"total_points", t.total_points}};
  auto& dims = j["sweep"]["dimensions"] = nlohmann::json::array();
  for (std::size_t k = 0; k < t.keys.size(); ++k)
    dims.push_back({{"key", t.keys[k]}, {"values", t.values[k]}});
  auto& points = j["points"] = nlohmann::json::array();
  std::size_t passed = 0;
  for (const auto& c : t.cells) {
    passed += c.status == "PASS";
    nlohmann::json values = nlohmann::json::object();
    for (std::size_t k = 0; k < t.keys.size(); ++k) values[t.keys[k]] = c.values[k];
    nlohmann::json verdict = {{"profile", c.profile}, {"closed", c.closed}};
    if (c.closed) {
      verdict["code"] = c.code ? nlohmann::json(*c.code) : nlohmann::json(nullptr);
      verdict["reason"] = c.reason;
      verdict["was_clean"] = c.was_clean;
    }
    points.push_back({{"index", c.index},
                      {"values", values},
                      {"name", c.name},
                      {"status", c.status},
                      {"client", c.client},
                      {"verdict", verdict},
                      {"mechanism", c.mechanism},
                      {"failed", c.failed},
                      {"error", c.error},
                      {"pcap", c.pcap},
                      {"json", c.json},
                      {"run_ms", c.run_ms}});
  }
  j["boundaries"] = sweep_boundaries(t);
  j["passed"] = passed;
  j["failed"] = t.cells.size() - passed;
  return j;
}

std::string sweep_csv(const SweepTable& t, bool header) {
  std::string out;
  if (header) {
    out += "sweep,point";
    for (const auto& k : t.keys) out += "," + csv_field(k);
    out += ",status,profile,code,was_clean,mechanism,pcap\n";
  }
  for (const auto& c : t.cells) {
    out += csv_field(t.name) + fmt::format(",{}", c.index + 1);
    for (const auto& v : c.values) out += "," + csv_field(v);
    out += fmt::format(",{},{},{},{},{},{}\n", c.status, csv_field(c.profile),
                       !c.closed ? "open"
                       : c.code  ? std::to_string(*c.code)
                                 : "none",
                       c.closed ? (c.was_clean ? "true" : "false") : "", c.mechanism,
                       csv_field(c.pcap));
  }
  return out;
}

SweepTable sweep_table_from_json(const nlohmann::json& j) {
  try {
    SweepTable t;
    const auto& s = j.at("sweep");
    t.file = s.at("file").get<std::string>();
    t.name = s.at("name").get<std::string>();
    t.about = s.value("about", "");
    t.total_points = s.at("total_points").get<std::size_t>();
    for (const auto& d : s.at("dimensions")) {
      t.keys.push_back(d.at("key").get<std::string>());
      t.values.push_back(d.at("values").get<std::vector<std::string>>());
      if (t.values.back().empty()) throw std::runtime_error("a dimension without values");
    }
    if (t.keys.empty()) throw std::runtime_error("no dimensions");
    for (const auto& p : j.at("points")) {
      SweepCell c;
      c.index = p.at("index").get<std::size_t>();
      if (c.index >= t.total_points)
        throw std::runtime_error(fmt::format("point {} is beyond the sweep", c.index));
      for (std::size_t k = 0; k < t.keys.size(); ++k) {
        c.values.push_back(p.at("values").at(t.keys[k]).get<std::string>());
        const auto& vs = t.values[k];
        if (std::find(vs.begin(), vs.end(), c.values.back()) == vs.end())
          throw std::runtime_error(fmt::format("point {}: '{}' is not a value of {}", c.index + 1,
                                               c.values.back(), t.keys[k]));
      }
      c.name = p.value("name", "");
      c.status = p.at("status").get<std::string>();
      c.client = p.value("client", "");
      const auto& v = p.at("verdict");
      c.profile = v.value("profile", "");
      c.closed = v.value("closed", false);
      if (c.closed) {
        if (!v.at("code").is_null()) c.code = v.at("code").get<std::uint16_t>();
        c.reason = v.value("reason", "");
        c.was_clean = v.value("was_clean", false);
      }
      c.mechanism = p.value("mechanism", "");
      c.failed = p.value("failed", std::vector<std::string>{});
      c.error = p.value("error", "");
      c.pcap = p.value("pcap", "");
      c.json = p.value("json", "");
      c.run_ms = p.value("run_ms", 0.0);
      t.cells.push_back(std::move(c));
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not a sweep's JSON: ") + e.what());
  }
}

SweepTable merge_sweep_tables(const std::vector<SweepTable>& slices) {
  if (slices.empty()) throw std::runtime_error("nothing to merge");
  SweepTable t = slices.front();
  t.cells.clear();
  std::map<std::size_t, bool> seen;
  for (const auto& s : slices) {
    if (s.file != t.file || s.keys != t.keys || s.values != t.values ||
        s.total_points != t.total_points)
      throw std::runtime_error(fmt::format(
          "{} and {} are not slices of one sweep (file, keys and values differ)", t.name, s.name));
    for (const auto& c : s.cells) {
      if (seen[c.index])
        throw std::runtime_error(fmt::format("point {} is in two slices", c.index + 1));
      seen[c.index] = true;
      t.cells.push_back(c);
    }
  }
  std::sort(t.cells.begin(), t.cells.end(),
            [](const SweepCell& a, const SweepCell& b) { return a.index < b.index; });
  return t;
}

HtmlSection sweep_html(const SweepTable& t, const std::string& anchor,
                       const std::function<std::string(const SweepCell&)>& href) {
  std::size_t passed = 0;
  for (const auto& c : t.cells) passed += c.status == "PASS";
  const bool all = passed == t.cells.size() && t.cells.size() == t.total_points;
  HtmlSection s;
  const std::string status = all ? "PASS" : passed == t.cells.size() ? "PART" : "FAIL";
  const std::string cls = all ? "pass" : passed == t.cells.size() ? "other" : "fail";
  s.index = fmt::format(
      "<li><span class=\"status {}\">{}</span> <a href=\"#{}\">sweep {}</a> "
      "({} of {} points, {} passed)</li>\n",
      cls, status, html_escape(anchor), html_escape(t.name), t.cells.size(), t.total_points,
      passed);
  s.body =
      fmt::format("<section id=\"{}\">\n<h2><span class=\"status {}\">{}</span> sweep {}</h2>\n",
                  html_escape(anchor), cls, status, html_escape(t.name));
  if (!t.about.empty()) s.body += "<p class=\"about\">" + html_escape(t.about) + "</p>\n";
  s.body += "<p class=\"files\">" + html_escape(t.file) + "</p>\n";
  const std::size_t cols = t.keys.size() > 1 ? t.values[1].size() : 1;
  for (const Grid& g : grids(t)) {
    s.body += "<table class=\"matrix\">";
    if (!g.rest.empty()) s.body += "<caption>with " + html_escape(rest_label(t, g)) + "</caption>";
    s.body +=
        fmt::format("<tr><th>{}</th>",
                    html_escape(t.keys.size() > 1 ? t.keys[0] + " \\ " + t.keys[1] : t.keys[0]));
    for (std::size_t c = 0; c < cols; ++c)
      s.body += "<th>" + html_escape(t.keys.size() > 1 ? t.values[1][c] : "outcome") + "</th>";
    s.body += "</tr>\n";
    for (std::size_t r = 0; r < t.values[0].size(); ++r) {
      s.body += "<tr><th>" + html_escape(t.values[0][r]) + "</th>";
      for (std::size_t c = 0; c < cols; ++c) {
        auto it = g.at.find({r, c});
        if (it == g.at.end()) {
          s.body += "<td class=\"missing\">-</td>";
          continue;
        }
        const SweepCell& cell = *it->second;
        const bool bad = cell.closed && (cell.code == 1006 || !cell.was_clean);
        std::string classes = !cell.closed ? "other" : bad ? "bad" : "ok";
        if (!cell.failed.empty() || cell.status == "FAIL" || cell.status == "ERROR")
          classes += " failed";
        std::string title = cell.name;
        for (std::size_t k = 0; k < t.keys.size(); ++k)
          title += "\n" + t.keys[k] + " = " + cell.values[k];
        for (const auto& f : cell.failed) title += "\nFAILED: " + f;
        if (!cell.error.empty()) title += "\n" + cell.error;
        s.body += fmt::format(
            "<td class=\"{}\" title=\"{}\"><a href=\"{}\">{}{}</a>{}</td>", classes,
            html_escape(title), html_escape(href(cell)), cell.failed.empty() ? "" : "! ",
            html_escape(cell_outcome(cell)),
            cell.mechanism.empty() ? "" : "<br><small>" + html_escape(cell.mechanism) + "</small>");
      }
      s.body += "</tr>\n";
    }
    s.body += "</table>\n";
  }
  const auto words = sweep_boundaries(t);
  s.body += "<ul class=\"boundaries\">";
  if (words.empty()) s.body += "<li>the outcome does not flip over this sweep</li>";
  for (const auto& w : words) s.body += "<li>" + html_escape(w) + "</li>";
  s.body += "</ul>\n</section>\n";
  return s;
}

}  // namespace closewire::report
