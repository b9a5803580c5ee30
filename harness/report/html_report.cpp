#include "harness/report/html_report.h"

#include "harness/wire/close_payload.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "harness/analysis/known_reports.h"
#include "harness/analysis/verdict.h"
#include "harness/report/scenario_report.h"

namespace closewire::report {
namespace {

double ms(Nanos d) {
  return static_cast<double>(d) / kNanosPerMilli;
}

// "1,003.2" with `decimals` places: thousands apart, as in the text report.
std::string ms_number(Nanos d, int decimals) {
  std::string s = fmt::format("{:.{}f}", ms(d), decimals);
  const auto dot = s.find('.');
  for (auto i = static_cast<long>(dot == std::string::npos ? s.size() : dot) - 3;
       i > (s[0] == '-' ? 1 : 0); i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string css_class(std::string_view kind) {
  std::string c(kind);
  std::replace(c.begin(), c.end(), '.', '-');
  std::replace(c.begin(), c.end(), '_', '-');
  return c;
}

// The label on an arrow: short, the full event in its title.
std::string arrow_label(const Event& e) {
  if (e.kind == kind::fin) return "FIN";
  if (e.kind == kind::rst) return "RST";
  if (e.kind == kind::tls_close_notify) return "close_notify";
  if (e.kind == kind::tls_handshake) {
    // "TLS 1.3 TLS_AES_128_GCM_SHA256 (sni=...)": the version on the arrow, the rest in its title.
    const auto second_space = e.text.find(' ', e.text.find(' ') + 1);
    return "TLS handshake " + e.text.substr(0, second_space);
  }
  if (e.kind == kind::tls_alert) return "TLS alert " + e.text;
  if (e.kind == kind::h2_end_stream) return "END_STREAM";
  if (e.kind == kind::h2_rst_stream) return "RST_STREAM " + e.text;
  if (e.kind == kind::h2_goaway) return "GOAWAY " + e.text;
  if (e.kind == kind::h2_protocol_error) return "h2 protocol error";
  std::string d = e.kind;
  if (e.kind == kind::close) {
    d += e.code ? fmt::format(" {}", *e.code) : " (no code)";
    if (!e.reason.empty()) d += " " + e.reason;
  } else if (e.kind == kind::upgrade || e.kind == kind::http_response) {
    d += " " + e.text;
  } else if (e.kind != kind::protocol_error) {
    d += fmt::format(" {} B", e.bytes);
  } else if (!e.text.empty()) {
    d += " " + e.text;
  }
  return d;
}

// At most `max` characters (not bytes), "…" when cut.
std::string cut(const std::string& s, std::size_t max) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (++chars > max) return s.substr(0, i) + "…";
  }
  return s;
}

constexpr double kTop = 64;     // the first row
constexpr double kLeft = 96;    // the first lifeline, right of the ms column
constexpr double kRight = 140;  // right of the last lifeline
constexpr double kNameGap = 8;  // between two names side by side

// TLS events are drawn too: on a wss leg a close_notify is the server's end of stream as much as
// its FIN (close-semantics.md §6), and an alert is the TLS stack's own error. So are h2 stream
// ends: on an h2 leg END_STREAM and RST_STREAM are its FIN and RST (§7).
const char* const kKindOrder[] = {"tls.handshake",     "http.upgrade",     "http.response",
                                  "ws.text",           "ws.binary",        "ws.continuation",
                                  "ws.ping",           "ws.pong",          "ws.close",
                                  "ws.protocol_error", "tls.close_notify", "tls.alert",
                                  "h2.end_stream",     "h2.rst_stream",    "h2.goaway",
                                  "h2.protocol_error", "tcp.fin",          "tcp.rst"};

// A diagnosis's summary without the mechanism it starts with ("clean: ..."), which is shown beside.
std::string summary_of(const Diagnosis& d) {
  std::string summary = d.summary;
  if (summary.starts_with(d.mechanism + ": ")) summary.erase(0, d.mechanism.size() + 2);
  return summary;
}

}  // namespace

std::string ladder_name(const std::string& name) {
  return cut(name, kLadderNameChars);
}

double ladder_name_width(const std::string& name) {
  std::size_t chars = 0;
  for (const char c : ladder_name(name)) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return static_cast<double>(chars) * kLadderNameCharWidth;
}

LabelBand arrow_label_band(double arrow_y) {
  // The label's baseline is 6 px above the line; 3 px of descent below it.
  return {arrow_y - 3 - kLadderLabelHeight, arrow_y - 3};
}

LabelBand hold_label_band(double label_y) {
  return {label_y - kLadderLabelHeight / 2, label_y + kLadderLabelHeight / 2};
}

namespace {

// A hold label's middle: its bracket's if that is clear of the labels of the arrows between the
// hop and its right neighbour (they span the label's x, whatever their text), else the nearest
// clear height, inside the bracket if one is. Clear heights lie between the bands those labels
// forbid, so the nearest is the middle itself or an edge of a forbidden band.
double hold_label_y(const Ladder& l, std::size_t lifeline, double y0, double y1) {
  std::vector<std::pair<double, double>> forbidden;  // open intervals of label_y
  for (const auto& a : l.arrows) {
    if (std::min(a.from, a.to) != lifeline || std::max(a.from, a.to) != lifeline + 1) continue;
    const LabelBand band = arrow_label_band(a.y);
    forbidden.emplace_back(band.top - kLadderLabelHeight / 2, band.bottom + kLadderLabelHeight / 2);
  }
  const double mid = (y0 + y1) / 2;
  std::vector<double> candidates{mid};
  for (const auto& [lo, hi] : forbidden) {
    candidates.push_back(lo);
    candidates.push_back(hi);
  }
  const auto clear = [&](double y) {
    return std::none_of(forbidden.begin(), forbidden.end(),
                        [&](const auto& f) { return y > f.first && y < f.second; });
  };
  // Outside the bracket counts by how far outside, then (inside or not) by the way to its middle.
  const auto cost = [&](double y) {
    return std::pair{std::max({0.0, y0 - y, y - y1}), std::abs(y - mid)};
  };
  double best = mid;
  bool found = false;
  for (double y : candidates) {
    if (!clear(y) || y - kLadderLabelHeight / 2 < kTop - kLadderRowMin) continue;
    if (!found || cost(y) < cost(best)) best = y;
    found = true;
  }
  return best;
}

}  // namespace

bool drawn_kind(std::string_view k) {
  return std::find(std::begin(kKindOrder), std::end(kKindOrder), k) != std::end(kKindOrder);
}

std::string html_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '.' : static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t len = wire::utf8_sequence_at(in, i);
    const bool ok = len > 0;
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

Ladder ladder(const std::vector<Connection>& legs, const Chain& chain,
              const std::vector<std::string>& names) {
  Ladder l;
  const std::size_t n = chain.legs.size() + 1;
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = i < names.size() ? names[i]
                       : i == 0       ? "client"
                       : i + 1 == n   ? "server"
                                      : fmt::format("hop {}", i - 1);
    if (i > 0 && i + 1 < n && name.starts_with("hop ")) {
      const std::string& product = i - 1 < chain.hops.size() ? chain.hops[i - 1].product : "";
      name += " (" + legs[chain.legs[i - 1]].server.str() + (product.empty() ? "" : ", " + product) +
              ")";
    }
    l.lifelines.push_back(std::move(name));
  }
  // Names are centred on their lifelines: two side by side need half of each apart.
  l.left = std::max(kLeft, kNameGap + ladder_name_width(l.lifelines.front()) / 2);
  l.column = kLadderColumn;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    l.column = std::max(
        l.column,
        (ladder_name_width(l.lifelines[i]) + ladder_name_width(l.lifelines[i + 1])) / 2 + kNameGap);
  }
  if (chain.legs.empty()) return l;
  const Nanos origin = legs[chain.legs.front()].start;

  struct Drawn {
    std::size_t leg;
    const Event* e;
  };
  std::vector<Drawn> drawn;
  for (std::size_t k = 0; k < chain.legs.size(); ++k) {
    for (const Event& e : legs[chain.legs[k]].events)
      if (drawn_kind(e.kind)) drawn.push_back({k, &e});
  }
  std::stable_sort(drawn.begin(), drawn.end(),
                   [](const Drawn& a, const Drawn& b) { return a.e->t < b.e->t; });

  double y = kTop;
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const Event& e = *drawn[i].e;
    if (i > 0) {
      const Nanos gap = e.t - drawn[i - 1].e->t;
      if (gap > kLadderQuiet) {
        l.breaks.push_back(
            {y + kLadderBreakHeight / 2 - 4, gap, "⋯ " + ms_number(gap, 1) + " ms ⋯"});
        y += kLadderBreakHeight;
      } else {
        // Up to 25 px more for up to 50 ms: near events close, but never closer than a label.
        y += kLadderRowMin + 25 * ms(gap) / ms(kLadderQuiet);
      }
    }
    const std::size_t k = drawn[i].leg;
    const bool from_client = e.from == Side::client;
    LadderArrow a;
    a.from = from_client ? k : k + 1;
    a.to = from_client ? k + 1 : k;
    a.y = y;
    a.t = e.t - origin;
    a.kind = e.kind;
    a.label = arrow_label(e);
    a.title = fmt::format("{} → {} on {} ({} → {}), at {} ns on the chain's clock ({} ms); "
                          "packet {}: {}{}",
                          l.lifelines[a.from], l.lifelines[a.to], leg_label(legs[chain.legs[k]]),
                          legs[chain.legs[k]].client.str(), legs[chain.legs[k]].server.str(), a.t,
                          ms_number(a.t, 6), e.packet, a.label,
                          e.note.empty() ? "" : " (" + e.note + ")");
    if (std::find(l.kinds.begin(), l.kinds.end(), e.kind) == l.kinds.end())
      l.kinds.push_back(e.kind);
    l.arrows.push_back(std::move(a));
  }
  l.height = y + 30;

  // A hop's hold: from the first FIN/RST it got from upstream to the first it sent downstream
  // (Hop::hold), on the hop's lifeline, between those two arrows.
  const auto y_of = [&](std::size_t lifeline_from, std::size_t lifeline_to, Nanos t) -> double {
    for (const auto& a : l.arrows) {
      if (a.from == lifeline_from && a.to == lifeline_to && a.t == t &&
          (a.kind == kind::fin || a.kind == kind::rst || a.kind == kind::h2_end_stream ||
           a.kind == kind::h2_rst_stream))
        return a.y;
    }
    return -1;
  };
  for (std::size_t h = 0; h < chain.hops.size(); ++h) {
    if (!chain.hops[h].hold) continue;
    // Its first FIN/RST downstream: the server side of legs[h].
    const Connection& down = legs[chain.legs[h]];
    const Event* sent = nullptr;
    for (const Event& e : down.events) {
      if (e.from == Side::server && (e.kind == kind::fin || e.kind == kind::rst ||
                                     e.kind == kind::h2_end_stream ||
                                     e.kind == kind::h2_rst_stream)) {
        sent = &e;
        break;
      }
    }
    if (!sent) continue;
    const Nanos end = sent->t - origin;
    const Nanos start = end - *chain.hops[h].hold;
    const double y1 = y_of(h + 1, h, end);
    const double y0 = y_of(h + 2, h + 1, start);
    if (y0 < 0 || y1 < 0) continue;
    l.holds.push_back({h + 1, y0, y1, *chain.hops[h].hold,
                       "hold " + ms_number(*chain.hops[h].hold, 1) + " ms",
                       hold_label_y(l, h + 1, y0, y1)});
    // A label pushed below the last row still fits.
    l.height = std::max(l.height, hold_label_band(l.holds.back().label_y).bottom + 10);
  }
  return l;
}

std::string ladder_svg(const Ladder& l) {
  const double width = l.x(l.lifelines.size() - 1) +
                       std::max(kRight, ladder_name_width(l.lifelines.back()) / 2 + kNameGap);
  std::string out = fmt::format(
      "<svg class=\"ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" "
      "height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} {1:.0f}\" role=\"img\">\n",
      width, l.height);
  out += "<text class=\"ms\" x=\"8\" y=\"24\">ms</text>\n";
  for (std::size_t i = 0; i < l.lifelines.size(); ++i) {
    const double x = l.x(i);
    out += fmt::format(
        "<line class=\"lifeline\" x1=\"{0:.1f}\" y1=\"34\" x2=\"{0:.1f}\" y2=\"{1:.1f}\"/>"
        "<text class=\"who\" x=\"{0:.1f}\" y=\"24\" text-anchor=\"middle\">{2}</text>\n",
        x, l.height - 10, html_escape(ladder_name(l.lifelines[i])));
  }
  for (const auto& b : l.breaks) {
    out += fmt::format(
        "<rect class=\"break\" x=\"0\" y=\"{0:.1f}\" width=\"{1:.0f}\" height=\"20\"/>"
        "<text class=\"break-label\" x=\"{2:.1f}\" y=\"{3:.1f}\">{4}<title>{5} ns with no "
        "event</title></text>\n",
        b.y - 10, width, l.x(0) + 8, b.y + 4, html_escape(b.label), b.skipped);
  }
  for (const auto& h : l.holds) {
    const double x = l.x(h.lifeline) + 8;
    out += fmt::format(
        "<g class=\"hold\"><path d=\"M{0:.1f} {1:.1f} h6 V{2:.1f} h-6\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\">{5}</text><title>{6}: {7} ns</title></g>\n",
        x, h.y0, h.y1, x + 10, h.label_y + 4, html_escape(h.label),
        html_escape(l.lifelines[h.lifeline]), h.length);
  }
  for (const auto& a : l.arrows) {
    const double x1 = l.x(a.from), x2 = l.x(a.to);
    const double dir = x2 > x1 ? 1 : -1;
    const double tip = x2 - dir * 2;
    out += fmt::format(
        "<g class=\"ev {0}\"><title>{1}</title>"
        "<text class=\"t\" x=\"8\" y=\"{2:.1f}\">{3}</text>"
        "<line x1=\"{4:.1f}\" y1=\"{2:.1f}\" x2=\"{5:.1f}\" y2=\"{2:.1f}\"/>"
        "<polygon points=\"{5:.1f},{2:.1f} {6:.1f},{7:.1f} {6:.1f},{8:.1f}\"/>"
        "<text class=\"label\" x=\"{9:.1f}\" y=\"{10:.1f}\" text-anchor=\"middle\">{11}</text></g>\n",
        css_class(a.kind), html_escape(a.title), a.y + 4, ms_number(a.t, 3), x1 + dir * 2, tip,
        tip - dir * 9, a.y - 5, a.y + 5, (x1 + x2) / 2, a.y - 6, html_escape(cut(a.label, 34)));
  }
  return out + "</svg>\n";
}

std::string ladder_legend(const Ladder& l) {
  std::string out = "<p class=\"legend\">";
  for (const auto& k : l.kinds) {
    out += fmt::format(
        "<span class=\"ev {0}\" data-kind=\"{1}\"><svg width=\"34\" height=\"10\"><line x1=\"1\" "
        "y1=\"5\" x2=\"33\" y2=\"5\"/></svg> {1}</span> ",
        css_class(k), html_escape(k));
  }
  out += "<span class=\"hold\"><svg width=\"12\" height=\"14\"><path d=\"M2 1 h6 V13 h-6\"/></svg> "
         "a hop's close hold</span> <span class=\"note\">not drawn: tcp.syn, retransmits, gaps and "
         "ignored RSTs (the text report lists them); quiet stretches over 50 ms are cut to a "
         "break</span></p>\n";
  return out;
}

HtmlSection html_section(const HtmlSource& s) {
  HtmlSection out;
  const std::string anchor = html_escape(s.anchor);
  const std::string status_class =
      s.status == "PASS" ? "pass" : s.status == "FAIL" ? "fail" : "other";
  out.index = fmt::format("<li><span class=\"status {}\">{}</span> <a href=\"#{}\">{}</a>",
                          status_class, html_escape(s.status), anchor, html_escape(s.title));
  out.body = fmt::format("<section id=\"{}\">\n<h2><span class=\"status {}\">{}</span> {}</h2>\n",
                         anchor, status_class, html_escape(s.status), html_escape(s.title));
  if (!s.about.empty()) out.body += "<p class=\"about\">" + html_escape(s.about) + "</p>\n";
  if (!s.error.empty()) out.body += "<p class=\"error\">" + html_escape(s.error) + "</p>\n";
  if (!s.links.empty()) {
    out.body += "<p class=\"files\">";
    for (const auto& [label, href] : s.links)
      out.body += fmt::format("<a href=\"{}\">{}</a> ", html_escape(href), html_escape(label));
    out.body += "</p>\n";
  }
  if (!s.chains.empty()) out.index += "<ul>";
  for (std::size_t i = 0; i < s.chains.size() && s.legs; ++i) {
    const Chain& c = s.chains[i];
    const auto& diagnoses = s.diagnoses[i];
    const std::string id = fmt::format("{}-c{}", anchor, i + 1);
    const Ladder l = ladder(*s.legs, c, s.names[i]);
    std::string path;
    for (const auto& n : l.lifelines) path += (path.empty() ? "" : " → ") + n;
    const std::string first =
        diagnoses.empty() ? std::string() : diagnoses.front().mechanism;
    out.index += fmt::format(
        "<li><a href=\"#{}\">chain {}</a> <span class=\"mech {}\">{}</span> {}</li>", id, i + 1,
        first == "clean" ? "clean" : "bad", html_escape(first),
        diagnoses.empty() ? "" : html_escape(cut(summary_of(diagnoses.front()), 160)));
    out.body += fmt::format("<article id=\"{}\">\n<h3>chain {} <small>{}{}</small></h3>\n", id,
                            i + 1, html_escape(path),
                            c.linked_by.empty() ? "" : " (linked by " + html_escape(c.linked_by) + ")");
    out.body += "<div class=\"scroll\">" + ladder_svg(l) + "</div>\n" + ladder_legend(l);
    // The client-facing leg's verdicts (an inner leg's client is a proxy).
    const Connection& first_leg = (*s.legs)[c.legs.front()];
    out.body += "<table class=\"verdicts\"><caption>what each browser reports (client-facing leg "
                "only)</caption><tr><th>profile</th><th>code</th><th>reason</th><th>clean</th>"
                "<th>why</th></tr>\n";
    const auto verdicts = judge_all(first_leg);
    for (std::size_t p = 0; p < kAllProfiles.size(); ++p) {
      const Verdict& v = verdicts[p];
      const std::string code = v.undecided ? "?"
                               : !v.closed ? "open"
                               : v.code    ? std::to_string(*v.code)
                                           : "-";
      const bool bad = v.closed && (!v.was_clean || v.code == 1006);
      out.body += fmt::format(
          "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
          bad ? " class=\"bad\"" : "", html_escape(to_string(kAllProfiles[p])), code,
          html_escape(v.reason), !v.closed ? "-" : v.was_clean ? "yes" : "no", html_escape(v.why));
    }
    out.body += "</table>\n<ul class=\"diagnoses\">\n";
    for (const Diagnosis& d : diagnoses) {
      std::string origin = d.origin;
      if (origin.starts_with("hop:")) {
        const auto h = static_cast<std::size_t>(std::stoul(origin.substr(4))) + 1;
        origin = h < l.lifelines.size() ? l.lifelines[h] : origin;
      }
      out.body += fmt::format("<li><b class=\"mech {}\">{}</b> (from {}): {}",
                              d.mechanism == "clean" ? "clean" : "bad", html_escape(d.mechanism),
                              html_escape(origin), html_escape(summary_of(d)));
      for (const auto& f : d.fix) out.body += "<div class=\"fix\">fix: " + html_escape(f) + "</div>";
      if (!d.known_reports.empty()) {
        out.body += "<div class=\"fix\">seen in:";
        for (const auto& ref : d.known_reports)
          out.body += fmt::format(" <a class=\"report-ref\" href=\"{}\">{}</a>",
                                  html_escape(report_url(ref)),
                                  html_escape(ref));
        out.body += "</div>";
      }
      out.body += "</li>\n";
    }
    for (const auto& note : c.notes)
      out.body += "<li class=\"note\">note: " + html_escape(note) + "</li>\n";
    out.body += "</ul>\n</article>\n";
  }
  if (!s.chains.empty()) out.index += "</ul>";
  out.index += "</li>\n";
  if (s.outcomes) {
    out.body += "<table class=\"expectations\"><caption>expectations</caption>\n";
    for (const Outcome& o : *s.outcomes) {
      out.body += fmt::format(
          "<tr class=\"{}\"><td class=\"status {}\">{}</td><td>{}{}", o.passed ? "" : "bad",
          o.passed ? "pass" : "fail", o.passed ? "PASS" : "FAIL",
          o.expectation ? html_escape(o.expectation->text) : "",
          o.leg ? " on " + html_escape(o.leg->name) : "");
      if (!o.passed) {
        out.body += fmt::format("<div>expected: {}</div><div>found: {}</div>{}",
                                html_escape(o.expected), html_escape(o.found),
                                o.expectation ? "<div class=\"where\">" +
                                                    html_escape(o.expectation->where) + "</div>"
                                              : "");
      }
      out.body += "</td></tr>\n";
    }
    out.body += "</table>\n";
  }
  out.body += "</section>\n";
  return out;
}

HtmlSection scenario_html(const ScenarioResult& r, std::size_t number, const std::string& html_dir) {
  namespace fs = std::filesystem;
  HtmlSource s;
  s.anchor = fmt::format("s{}", number);
  s.title = r.scenario ? r.scenario->name : "?";
  s.about = r.scenario ? r.scenario->about : "";
  switch (r.status) {
    case ScenarioResult::Status::passed: s.status = "PASS"; break;
    case ScenarioResult::Status::failed: s.status = "FAIL"; break;
    case ScenarioResult::Status::skipped: s.status = "SKIP"; break;
    default: s.status = "ERROR";
  }
  s.error = r.error;
  const auto relative = [&](const std::string& p) {
    std::error_code ec;
    const fs::path rel = fs::proximate(fs::absolute(p, ec), fs::absolute(html_dir, ec), ec);
    return ec ? p : rel.generic_string();
  };
  if (judged(r)) {
    if (!r.pcap_path.empty()) s.links.emplace_back("capture " + fs::path(r.pcap_path).filename().string(), relative(r.pcap_path));
    if (!r.json_path.empty()) s.links.emplace_back("JSON " + fs::path(r.json_path).filename().string(), relative(r.json_path));
    if (r.scenario) s.links.emplace_back("scenario " + r.scenario->file, relative(r.scenario->file));
    s.legs = &r.connections;
    s.chains = r.chains;
    s.diagnoses = r.diagnoses;
    for (const auto& c : r.chains) s.names.push_back(chain_names(r, c));
    s.outcomes = &r.outcomes;
  }
  return html_section(s);
}

std::string html_page(std::string_view title, const std::vector<HtmlSection>& sections) {
  std::string out = fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{}</title>
<style>
:root {{ --fg:#1d1d1f; --bg:#fff; --muted:#666; --line:#bbb; --band:#eee; --pass:#137333; --fail:#c5221f;
  --http:#1a63c7; --data:#555; --ping:#0b8a8a; --close:#7b2cbf; --fin:#b36b00; --rst:#d00000; --perr:#e65c00; }}
@media (prefers-color-scheme: dark) {{ :root {{ --fg:#e6e6e6; --bg:#17181a; --muted:#9a9a9a; --line:#555;
  --band:#2a2b2e; --pass:#5bd17a; --fail:#ff6b6b; --http:#6aa8ff; --data:#bbb; --ping:#4fd1d1;
  --close:#c59bff; --fin:#ffb347; --rst:#ff4040; --perr:#ff8c42; }} }}
body {{ font: 14px/1.45 system-ui, sans-serif; color:var(--fg); background:var(--bg); margin:1.5em; }}
h1 {{ font-size:1.4em; }} h2 {{ font-size:1.2em; border-top:2px solid var(--line); padding-top:.6em; }}
h3 small {{ color:var(--muted); font-weight:normal; }}
a {{ color:var(--http); }}
.status {{ font-weight:bold; font-family:monospace; }} .pass {{ color:var(--pass); }} .fail, .bad {{ color:var(--fail); }}
.other {{ color:var(--muted); }} .mech.bad {{ color:var(--fail); font-weight:bold; }} .mech.clean {{ color:var(--pass); }}
.about, .note, .where, caption {{ color:var(--muted); }} caption {{ text-align:left; }}
.error {{ color:var(--fail); }} .fix {{ margin-left:1.5em; }}
.scroll {{ overflow-x:auto; }}
table {{ border-collapse:collapse; margin:.6em 0; }} td, th {{ border:1px solid var(--line); padding:2px 6px; text-align:left; vertical-align:top; }}
tr.bad td {{ color:var(--fail); }}
svg text {{ fill:var(--fg); font: 11px system-ui, sans-serif; }}
svg .who {{ font-weight:bold; font-size:12px; }} svg .t, svg .ms {{ font-family:monospace; fill:var(--muted); }}
.lifeline {{ stroke:var(--line); stroke-width:1.5; }}
.break {{ fill:var(--band); }} .break-label {{ fill:var(--muted); font-style:italic; }}
.hold path {{ fill:none; stroke:var(--fin); stroke-width:2; }} .hold text {{ fill:var(--fin); font-weight:bold; }}
.ev line {{ stroke-width:1.5; }}
.http-upgrade line, .http-response line {{ stroke:var(--http); }} .http-upgrade polygon, .http-response polygon {{ fill:var(--http); }}
.http-response line {{ stroke-dasharray:6 3; }}
.ws-text line, .ws-binary line, .ws-continuation line {{ stroke:var(--data); }} .ws-text polygon, .ws-binary polygon, .ws-continuation polygon {{ fill:var(--data); }}
.ws-ping line, .ws-pong line {{ stroke:var(--ping); stroke-dasharray:3 3; }} .ws-ping polygon, .ws-pong polygon {{ fill:var(--ping); }}
.ws-close line {{ stroke:var(--close); stroke-width:2.5; }} .ws-close polygon {{ fill:var(--close); }} .ws-close .label {{ fill:var(--close); font-weight:bold; }}
.ws-protocol-error line {{ stroke:var(--perr); stroke-width:2.5; stroke-dasharray:8 3; }} .ws-protocol-error polygon {{ fill:var(--perr); }}
.tls-handshake line {{ stroke:var(--http); stroke-dasharray:2 3; }} .tls-handshake polygon {{ fill:var(--http); }}
.tls-close-notify line {{ stroke:var(--fin); stroke-width:2; stroke-dasharray:6 3; }} .tls-close-notify polygon {{ fill:var(--fin); }} .tls-close-notify .label {{ fill:var(--fin); }}
.tls-alert line {{ stroke:var(--rst); stroke-width:2.5; stroke-dasharray:6 3; }} .tls-alert polygon {{ fill:var(--rst); }} .tls-alert .label {{ fill:var(--rst); }}
.h2-end-stream line {{ stroke:var(--fin); stroke-width:2.5; stroke-dasharray:10 3; }} .h2-end-stream polygon {{ fill:var(--fin); }} .h2-end-stream .label {{ fill:var(--fin); font-weight:bold; }}
.h2-rst-stream line {{ stroke:var(--rst); stroke-width:4; stroke-dasharray:10 3; }} .h2-rst-stream polygon {{ fill:var(--rst); }} .h2-rst-stream .label {{ fill:var(--rst); font-weight:bold; }}
.h2-goaway line, .h2-protocol-error line {{ stroke:var(--perr); stroke-width:2; stroke-dasharray:4 3; }} .h2-goaway polygon, .h2-protocol-error polygon {{ fill:var(--perr); }}
.tcp-fin line {{ stroke:var(--fin); stroke-width:2.5; }} .tcp-fin polygon {{ fill:var(--fin); }} .tcp-fin .label {{ fill:var(--fin); font-weight:bold; }}
.tcp-rst line {{ stroke:var(--rst); stroke-width:5; }} .tcp-rst polygon {{ fill:var(--rst); }} .tcp-rst .label {{ fill:var(--rst); font-weight:bold; font-size:13px; }}
.legend {{ font-size:12px; }} .legend > span {{ margin-right:1em; white-space:nowrap; }} .legend .note {{ white-space:normal; }}
.legend svg {{ vertical-align:middle; }}
.matrix td {{ text-align:center; min-width:7em; }} .matrix td a {{ color:inherit; text-decoration:none; display:block; }}
.matrix td.ok {{ background:rgba(19,115,51,.16); }} .matrix td.bad {{ background:rgba(208,0,0,.20); color:var(--fail); font-weight:bold; }}
.matrix td.other {{ background:var(--band); }} .matrix td.failed {{ outline:3px solid var(--fail); outline-offset:-3px; }}
.matrix td small {{ font-weight:normal; color:var(--muted); }}
@media print {{ body {{ margin:0; font-size:11px; }} .scroll {{ overflow:visible; }} article, table {{ break-inside:avoid; }} }}
</style></head><body>
<h1>{}</h1>
<nav><ul class="index">
)",
                                html_escape(title), html_escape(title));
  for (const auto& s : sections) out += s.index;
  out += "</ul></nav>\n";
  for (const auto& s : sections) out += s.body;
  return out + "</body></html>\n";
}

}  // namespace closewire::report
