#include "harness/spec/spec_error.h"

#include <fmt/format.h>

namespace closewire {

void throw_spec_error(const std::string& file, const YAML::Mark& at, const std::string& message) {
  if (at.is_null()) throw SpecError(fmt::format("{}: {}", file, message));
  throw SpecError(fmt::format("{}:{}:{}: {}", file, at.line + 1, at.column + 1, message));
}

void throw_spec_error(const std::string& file, const YAML::Node& at, const std::string& message) {
  throw_spec_error(file, at.Mark(), message);
}

}  // namespace closewire
