// Human output: per leg an aligned timeline, then a verdict table; expectation results.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "harness/analysis/connection.h"
#include "harness/expect/evaluate.h"

namespace closewire::report {

struct TextStyle {
  bool color = false;  // ANSI colours: FIN and RST stand out further
  int width = 80;
};

// `text` in the ANSI colour `code` ("1;31": bold red) when the style has colour.
std::string paint(const TextStyle& s, std::string_view code, std::string_view text);

// `text` broken at spaces into lines of at most `width` columns, every line after the first
// indented by `indent`; the first continues where the caller's line stands (`start`, default
// `indent`).
std::string wrap(std::string_view text, std::size_t indent, std::size_t width,
                 std::optional<std::size_t> start = std::nullopt);

// Colour when `out` is a terminal and NO_COLOR is not set.
TextStyle style_for(std::FILE* out);

// "leg 2  127.0.0.1:38138 → 127.0.0.1:9800  WebSocket"
std::string leg_heading(const Connection& leg, std::string_view name);

// The timeline; with `only` non-empty, just the events within `around` of those indices (the rest
// elided), the indices themselves marked. Times are ms from `origin` (0: the leg's own SYN; a
// chain's legs share their first leg's).
std::string timeline(const Connection& leg, const LegView& names, const TextStyle& style,
                     const std::vector<std::size_t>& only = {}, std::size_t around = 3,
                     Nanos origin = 0);

std::string verdict_table(const Connection& leg, const TextStyle& style);

// PASS/FAIL lines; failures with expected, found and the timeline around the finding.
std::string outcomes(const std::vector<Outcome>& results, const TextStyle& style);

}  // namespace closewire::report
