// An error in a scenario or expectation file, located as file:line:column.
#pragma once

#include <stdexcept>
#include <string>

#include <yaml-cpp/yaml.h>

namespace closewire {

class SpecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "FILE:LINE:COL: MESSAGE" for the YAML node (yaml-cpp marks are 0-based).
[[noreturn]] void throw_spec_error(const std::string& file, const YAML::Node& at,
                                   const std::string& message);
[[noreturn]] void throw_spec_error(const std::string& file, const YAML::Mark& at,
                                   const std::string& message);

}  // namespace closewire
