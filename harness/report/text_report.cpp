#include "harness/report/text_report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "harness/analysis/verdict.h"

namespace closewire::report {
namespace {

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '.' : c;
  if (text.size() > max) out += "…";
  return out;
}

std::string describe(const Event& e, const TextStyle& style) {
  std::string d = e.kind;
  if (e.kind == kind::fin) return paint(style, "1;33", "tcp.fin  ▶ FIN");
  if (e.kind == kind::rst) {
    d = paint(style, "1;31", "tcp.rst  ✖ RST");
  } else if (e.kind == kind::close) {
    d += e.code ? fmt::format(" {}", *e.code) : " (no code)";
    if (!e.reason.empty()) d += fmt::format(" \"{}\"", printable(e.reason, 24));
    d = paint(style, "1", d);
  } else if (e.kind == kind::upgrade || e.kind == kind::http_response) {
    d += " " + printable(e.text, 40);
  } else if (e.kind.starts_with("ws.") && e.kind != kind::protocol_error) {
    d += fmt::format(" {} B", e.bytes);
    if (e.kind == kind::text && !e.text.empty()) d += fmt::format(" \"{}\"", printable(e.text, 20));
  } else if (e.kind == kind::retransmit) {
    d += fmt::format(" {} B", e.bytes);
  } else if (e.kind.starts_with("tls.") && !e.text.empty()) {
    d += " " + printable(e.text, 48);  // "TLS 1.3 TLS_AES_128_GCM_SHA256", "fatal ..."
  } else if (e.kind == kind::h2_rst_stream) {
    d = paint(style, "1;31", "h2.rst_stream  ✖ RST_STREAM " + e.text);
  } else if (e.kind == kind::h2_end_stream) {
    d = paint(style, "1;33", "h2.end_stream  ▶ END_STREAM");
  } else if (e.kind == kind::h2_goaway) {
    d += " " + e.text;  // its error code; the note says the last stream
  }
  if (!e.note.empty()) d += "  (" + e.note + ")";
  return d;
}

}  // namespace

std::string paint(const TextStyle& s, std::string_view code, std::string_view text) {
  if (!s.color) return std::string(text);
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

std::string wrap(std::string_view text, std::size_t indent, std::size_t width,
                 std::optional<std::size_t> start) {
  std::string out;
  std::size_t col = start.value_or(indent);
  bool words_on_line = false;
  for (std::size_t begin = 0; begin <= text.size();) {
    std::size_t end = text.find(' ', begin);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(begin, end - begin);
    begin = end + 1;
    if (word.empty()) continue;
    // Columns, not bytes: "→" is one column in three bytes.
    const auto columns =
        static_cast<std::size_t>(std::count_if(word.begin(), word.end(), [](char c) {
          return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    if (words_on_line && col + 1 + columns > width) {
      out += "\n" + std::string(indent, ' ');
      col = indent;
      words_on_line = false;
    } else if (words_on_line) {
      out += ' ';
      ++col;
    }
    out += word;
    col += columns;
    words_on_line = true;
  }
  return out;
}

TextStyle style_for(std::FILE* out) {
  TextStyle s;
  const char* no_color = std::getenv("NO_COLOR");
  s.color = isatty(fileno(out)) && !(no_color && *no_color);
  return s;
}

std::string leg_heading(const Connection& leg, std::string_view name) {
  const std::string transport = leg.h2_stream != 0   ? fmt::format(" over h2 stream {}", leg.h2_stream)
                                : leg.h2_connection ? " (h2 connection)"
                                                    : "";
  return fmt::format("{}  {} → {}  {}{}{}", name, leg.client.str(), leg.server.str(),
                     leg.websocket            ? "WebSocket"
                     : undecryptable_tls(leg) ? "TLS, not decrypted"
                                              : "TCP",
                     transport, leg.syn_seen ? "" : "  (no SYN in capture)");
}

std::string timeline(const Connection& leg, const LegView& names, const TextStyle& style,
                     const std::vector<std::size_t>& only, std::size_t around, Nanos origin) {
  if (origin == 0) origin = leg.start;
  const std::size_t w = std::max(names.client_name.size(), names.server_name.size());
  std::set<std::size_t> shown;
  if (only.empty()) {
    for (std::size_t i = 0; i < leg.events.size(); ++i) shown.insert(i);
  } else {
    for (std::size_t i : only) {
      for (std::size_t j = i >= around ? i - around : 0; j <= i + around && j < leg.events.size();
           ++j)
        shown.insert(j);
    }
  }
  const std::set<std::size_t> marked(only.begin(), only.end());
  std::string out = fmt::format("  {:>10}  {:<{}}  event\n", "ms", "", w + 4);
  std::size_t last = 0;
  bool first = true;
  for (std::size_t i : shown) {
    if (!first && i != last + 1) out += fmt::format("  {:>10}\n", "…");
    if (first && i != 0) out += fmt::format("  {:>10}\n", "…");
    first = false;
    last = i;
    const Event& e = leg.events[i];
    const double ms = static_cast<double>(e.t - origin) / kNanosPerMilli;
    const std::string who = e.from == Side::client
                                ? fmt::format("{:<{}} ─▶", names.client_name, w + 1)
                                : fmt::format("◀─ {:>{}}", names.server_name, w + 1);
    out += fmt::format("{} {:>10.3f}  {}  {}\n", marked.contains(i) ? ">" : " ", ms, who,
                       describe(e, style));
  }
  if (!shown.empty() && last + 1 < leg.events.size()) out += fmt::format("  {:>10}\n", "…");
  return out;
}

std::string verdict_table(const Connection& leg, const TextStyle& style) {
  std::string out = fmt::format("  {:<14} {:>5}  {:<10} {:<6} {:<6} {}\n", "profile", "code",
                                "reason", "clean", "error", "why");
  const auto verdicts = judge_all(leg);
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i) {
    const Profile p = kAllProfiles[i];
    const Verdict& v = verdicts[i];
    const std::string code = v.undecided ? "?"
                             : !v.closed ? "open"
                             : v.code    ? std::to_string(*v.code)
                                         : "-";
    const std::string clean = !v.closed ? "-" : v.was_clean ? "yes" : "no";
    // The error event where it is known ("-" for Safari, RFC 6455 and an open leg).
    const std::string error = !v.error_event ? "-" : *v.error_event ? "yes" : "no";
    std::string row = fmt::format("  {:<14} {:>5}  {:<10} {:<6} {:<6} ", to_string(p), code,
                                  printable(v.reason, 10), clean, error);
    if (v.closed && (!v.was_clean || v.code == 1006)) row = paint(style, "1;31", row);
    out += row + wrap(v.why, 49, static_cast<std::size_t>(style.width)) + "\n";
  }
  return out;
}

std::string outcomes(const std::vector<Outcome>& results, const TextStyle& style) {
  std::string out;
  for (const auto& o : results) {
    const auto& x = *o.expectation;
    const std::string leg = o.leg ? " on " + o.leg->name : "";
    if (o.passed) {
      out += fmt::format("  {}  {}{}\n", paint(style, "32", "PASS"), x.text, leg);
      continue;
    }
    out += fmt::format("  {}  {}{}   ({})\n", paint(style, "1;31", "FAIL"), x.text, leg, x.where);
    out += fmt::format("        expected: {}\n        found:    {}\n", o.expected, o.found);
    if (o.leg)
      out += timeline(*o.leg->connection, *o.leg, style,
                      o.marks.empty() ? std::vector<std::size_t>{} : o.marks);
  }
  return out;
}

}  // namespace closewire::report
