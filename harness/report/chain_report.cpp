#include "harness/report/chain_report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/expect/evaluate.h"
#include "harness/report/json_writer.h"

namespace closewire::report {
namespace {

double ms(Nanos d) {
  return static_cast<double>(d) / kNanosPerMilli;
}

// "1,003.2 ms": thousands apart, so a 2 s hold and a 0.05 ms race read at a glance.
std::string ms_text(Nanos d) {
  std::string s = fmt::format("{:.1f}", ms(d));
  const auto dot = s.find('.');
  for (auto i = static_cast<long>(dot) - 3; i > (s[0] == '-' ? 1 : 0); i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s + " ms";
}

}  // namespace

std::vector<std::string> endpoint_names(const std::vector<Connection>&, const Chain& chain) {
  // 0-based, as diagnoses name their origin (hop:0).
  std::vector<std::string> names{"client"};
  for (std::size_t i = 0; i < chain.hops.size(); ++i) names.push_back(fmt::format("hop {}", i));
  names.push_back("server");
  return names;
}

std::string chain_block(std::size_t number, const std::vector<Connection>& legs,
                        const Chain& chain, const std::vector<Diagnosis>& diagnoses,
                        const std::vector<std::string>& names, const TextStyle& style) {
  const auto width = static_cast<std::size_t>(style.width);
  const auto name = [&](std::size_t i) { return i < names.size() ? names[i] : std::string("?"); };
  std::string path;
  for (std::size_t i = 0; i < names.size(); ++i) {
    path += (i ? " → " : "") + names[i];
    // A hop's address and product, where its name alone says neither.
    if (i > 0 && i <= chain.hops.size()) {
      const std::string& product = chain.hops[i - 1].product;
      if (names[i].starts_with("hop ") || !product.empty())
        path += fmt::format(" ({}{}{})",
                            names[i].starts_with("hop ") ? legs[chain.legs[i - 1]].server.str() : "",
                            names[i].starts_with("hop ") && !product.empty() ? ", " : "", product);
    }
  }
  std::string out =
      wrap(fmt::format("chain {}  {}{}", number, path,
                       chain.linked_by.empty() ? "" : "  (linked by " + chain.linked_by + ")"),
           4, width) +
      "\n";
  for (std::size_t i = 0; i < chain.hops.size(); ++i) {
    const Hop& h = chain.hops[i];
    std::vector<std::string> facts;
    if (h.hold)
      facts.push_back(fmt::format("held its close {} after {}'s", ms_text(*h.hold), name(i + 2)));
    if (!h.closed_with.empty()) facts.push_back("closed toward " + name(i) + " with " + h.closed_with);
    if (!h.originated.empty()) {
      std::string what;
      for (const auto& o : h.originated) what += (what.empty() ? "" : ", ") + o;
      facts.push_back("originated " + what +
                      (h.idle ? fmt::format(" after {} idle", ms_text(*h.idle)) : ""));
    }
    if (!h.product_evidence.empty()) facts.push_back("is " + h.product + " (" + h.product_evidence + ")");
    std::string line;
    for (const auto& f : facts) line += (line.empty() ? "" : "; ") + f;
    out += "  " +
           wrap(name(i + 1) + " " + (line.empty() ? "closed nothing in the capture" : line), 4,
                width, 2) +
           "\n";
  }
  for (const Diagnosis& d : diagnoses) {
    const std::string origin =
        d.origin.starts_with("hop:")
            ? name(static_cast<std::size_t>(std::stoul(d.origin.substr(4))) + 1)
            : d.origin;
    std::string summary = d.summary;
    if (summary.starts_with(d.mechanism + ": ")) summary.erase(0, d.mechanism.size() + 2);
    // Wrapped as plain text from its first column, then the id painted.
    std::string text = wrap(d.mechanism + " (from " + origin + "): " + summary, 4, width, 2);
    text.replace(0, d.mechanism.size(),
                 paint(style, d.mechanism == "clean" ? "32" : "1;31", d.mechanism));
    out += "  " + text + "\n";
    for (const auto& f : d.fix) out += "    fix: " + wrap(f, 9, width, 9) + "\n";
    if (!d.known_reports.empty()) {
      out += "    seen in: " +
             wrap(fmt::format("{} (closewire list --zoo)", fmt::join(d.known_reports, ", ")), 13,
                  width, 13) +
             "\n";
    }
  }
  for (const auto& n : chain.notes) out += "  note: " + wrap(n, 8, width, 8) + "\n";
  return out;
}

std::string chain_text(std::size_t number, const std::vector<Connection>& legs, const Chain& chain,
                       const std::vector<Diagnosis>& diagnoses,
                       const std::vector<std::string>& names, const TextStyle& style,
                       bool all_verdicts) {
  std::string out;
  const Nanos origin = legs[chain.legs.front()].start;
  for (std::size_t k = 0; k < chain.legs.size(); ++k) {
    const Connection& c = legs[chain.legs[k]];
    const LegView view{fmt::format("leg {}", c.index + 1), &c,
                       k < names.size() ? names[k] : "client",
                       k + 1 < names.size() ? names[k + 1] : "server"};
    out += "\n" + leg_heading(c, view.name) + "\n" + timeline(c, view, style, {}, 3, origin);
    if (k == 0 || all_verdicts) out += "\n" + verdict_table(c, style);
  }
  return out + "\n" + chain_block(number, legs, chain, diagnoses, names, style);
}

nlohmann::json chain_json(const std::vector<Connection>& legs, const Chain& chain,
                          const std::vector<Diagnosis>& diagnoses) {
  std::string text;
  append_chain_json(text, legs, chain, diagnoses);
  return nlohmann::json::parse(text);
}

}  // namespace closewire::report
