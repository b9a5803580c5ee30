#include "harness/endpoints/close_mode.h"

#include <array>
#include <utility>

namespace closewire::endpoints {

namespace {
constexpr std::array<std::pair<CloseMode, std::string_view>, 5> kNames = {{
    {CloseMode::fin, "fin"},
    {CloseMode::half_close, "half-close"},
    {CloseMode::rst, "rst"},
    {CloseMode::close_unread, "close-unread"},
    {CloseMode::delayed, "delayed"},
}};
}  // namespace

std::string_view to_string(CloseMode mode) {
  for (const auto& [m, name] : kNames)
    if (m == mode) return name;
  return "unknown";
}

std::optional<CloseMode> close_mode_from_string(std::string_view name) {
  for (const auto& [m, n] : kNames)
    if (n == name) return m;
  return std::nullopt;
}

}  // namespace closewire::endpoints
