// One self-contained HTML page for a run or a replay: an index, then per chain a ladder (sequence)
// diagram, the client-facing leg's verdicts, the diagnoses and the expectations. Drawn from the
// same data as the JSON (legs, chains with hops and diagnoses, outcomes): one model, two renderers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "harness/analysis/chain.h"
#include "harness/analysis/diagnosis.h"
#include "harness/expect/evaluate.h"
#include "harness/scenario/runner.h"

namespace closewire::report {

// Pixel sizes of the ladder: a label's height, the least distance between two rows (>= the label
// height, so no two labels on one side overlap), a quiet stretch's fixed height.
inline constexpr double kLadderLabelHeight = 14;
inline constexpr double kLadderRowMin = 22;
inline constexpr double kLadderBreakHeight = 58;
// A stretch longer than this with no event is drawn as a break of fixed height.
inline constexpr Nanos kLadderQuiet = 50 * kNanosPerMilli;
// Between two lifelines at least; wider when their names need it. A name (bold 12 px, cut to
// kLadderNameChars) is taken as kLadderNameCharWidth per character, its digits' width: the
// widest glyphs a name usually has.
inline constexpr double kLadderColumn = 230;
inline constexpr std::size_t kLadderNameChars = 34;
inline constexpr double kLadderNameCharWidth = 8.4;

struct LadderArrow {
  std::size_t from = 0, to = 0;  // lifeline indices (0 the client, the last the server)
  double y = 0;
  Nanos t = 0;          // on the chain's clock (from the first leg's SYN)
  std::string kind;     // the event kind ("ws.close", "tcp.rst")
  std::string label;    // on the arrow: "ws.close 4321 test", "FIN", "RST"
  std::string title;    // on hover: leg, sides, exact ns
};

struct LadderBreak {
  double y = 0;     // the middle of the break
  Nanos skipped = 0;
  std::string label;  // "⋯ 1,000.1 ms ⋯"
};

struct LadderHold {
  std::size_t lifeline = 0;  // the hop's lifeline (hop i: i + 1)
  double y0 = 0, y1 = 0;
  Nanos length = 0;
  std::string label;  // "hold 1,000.0 ms", right of the hop's lifeline
  // The label's middle: the bracket's, unless the label of an arrow to the hop's right is there;
  // then the nearest height clear of those labels (arrow_label_band, hold_label_band).
  double label_y = 0;
};

struct Ladder {
  std::vector<std::string> lifelines;  // client, each hop, server
  std::vector<LadderArrow> arrows;     // in time order, y strictly increasing
  std::vector<LadderBreak> breaks;
  std::vector<LadderHold> holds;
  std::vector<std::string> kinds;  // the kinds drawn, in order of first appearance
  double height = 0;
  double left = 0;    // the first lifeline's x
  double column = 0;  // between lifelines: no two names side by side meet
  double x(std::size_t lifeline) const { return left + static_cast<double>(lifeline) * column; }
};

// A lifeline's name as drawn (cut to kLadderNameChars), and the width taken for it.
std::string ladder_name(const std::string& name);
double ladder_name_width(const std::string& name);

// Where labels sit, top and bottom (px): an arrow's label above its line at `arrow_y`, a hold's
// label around its middle. A hold's label and the labels of the arrows beside it never share a
// band.
struct LabelBand {
  double top = 0, bottom = 0;
};
LabelBand arrow_label_band(double arrow_y);
LabelBand hold_label_band(double label_y);

// The kinds a ladder draws (others, such as tcp.syn, are left out and the legend says so).
bool drawn_kind(std::string_view kind);

// Lifeline names: `names` (endpoint_names or a scenario's), a hop named "hop N" given its address
// and product ("hop 0 (127.0.0.1:9001, envoy)").
Ladder ladder(const std::vector<Connection>& legs, const Chain& chain,
              const std::vector<std::string>& names);

// The ladder as inline SVG, and its legend (every kind it draws, and what it leaves out).
std::string ladder_svg(const Ladder& l);
std::string ladder_legend(const Ladder& l);

// `text` safe inside HTML text and attribute values: & < > " ' escaped, bytes that are not UTF-8
// replaced by U+FFFD, control characters by '.'.
std::string html_escape(std::string_view text);

// One scenario or capture on the page: its index entry and its part of the body.
struct HtmlSection {
  std::string index;  // one <li>, with links down to the section and its chains
  std::string body;
};

struct HtmlSource {
  std::string anchor;     // unique on the page ("s1")
  std::string title;      // the scenario's name or the capture's file
  std::string about;      // a scenario's about; empty for a capture
  std::string status;     // "PASS", "FAIL", "SKIP", or "3 chains"
  std::string error;
  std::vector<std::pair<std::string, std::string>> links;  // (label, relative href)
  const std::vector<Connection>* legs = nullptr;
  std::vector<Chain> chains;
  std::vector<std::vector<Diagnosis>> diagnoses;  // per chain
  std::vector<std::vector<std::string>> names;    // per chain (endpoint names)
  const std::vector<Outcome>* outcomes = nullptr;  // none: no expectations
};

HtmlSection html_section(const HtmlSource& s);

// A scenario run's section; the pcap and JSON linked relative to `html_dir` (the page's folder).
HtmlSection scenario_html(const ScenarioResult& r, std::size_t number, const std::string& html_dir);

// The whole page: inline CSS, the legend, the index, the sections.
std::string html_page(std::string_view title, const std::vector<HtmlSection>& sections);

}  // namespace closewire::report
