#include "harness/spec/duration.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace closewire {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

}  // namespace

std::optional<Nanos> parse_duration(std::string_view text) {
  text = trim(text);
  struct Unit {
    std::string_view suffix;
    double nanos;
  };
  static constexpr Unit units[] = {{"ns", 1},   {"us", 1e3}, {"µs", 1e3},
                                   {"ms", 1e6}, {"s", 1e9},  {"m", 60e9}};
  for (const Unit& u : units) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      auto v = parse_number(text.substr(0, text.size() - u.suffix.size()));
      if (!v) return std::nullopt;
      return static_cast<Nanos>(std::llround(*v * u.nanos));
    }
  }
  if (text == "0") return 0;
  return std::nullopt;
}

std::string format_duration(Nanos d) {
  const double ms = static_cast<double>(d) / kNanosPerMilli;
  if (d % kNanosPerMilli == 0) return fmt::format("{} ms", d / kNanosPerMilli);
  return fmt::format("{:.3f} ms", ms);
}

Nanos Tolerance::for_value(Nanos expected, double scale) const {
  const double base =
      static_cast<double>(absolute) + std::abs(static_cast<double>(expected)) * percent / 100.0;
  return static_cast<Nanos>(std::llround(base * scale));
}

std::optional<Tolerance> parse_tolerance(std::string_view text) {
  Tolerance t{0, 0};
  bool any = false;
  while (!trim(text).empty()) {
    const auto plus = text.find('+');
    std::string_view part = trim(text.substr(0, plus));
    text = plus == std::string_view::npos ? std::string_view{} : text.substr(plus + 1);
    if (part.ends_with('%')) {
      auto v = parse_number(part.substr(0, part.size() - 1));
      if (!v) return std::nullopt;
      t.percent += *v;
    } else {
      auto d = parse_duration(part);
      if (!d) return std::nullopt;
      t.absolute += *d;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return t;
}

double tolerance_scale_from_env() {
  const char* raw = std::getenv("CLOSEWIRE_TOLERANCE_SCALE");
  if (!raw || !*raw) return 1.0;
  auto v = parse_number(raw);
  if (!v || *v < 1.0 || *v > 100.0) {
    throw std::invalid_argument(
        fmt::format("CLOSEWIRE_TOLERANCE_SCALE={}: expected a number from 1 to 100", raw));
  }
  return *v;
}

}  // namespace closewire
