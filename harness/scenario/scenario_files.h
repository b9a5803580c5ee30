// Finding scenario files: PATH... as files or folders (recursively, *.yaml, sorted).
#pragma once

#include <string>
#include <vector>

namespace closewire {

// Throws SpecError when a path does not exist or a folder holds no scenario.
std::vector<std::string> find_scenario_files(const std::vector<std::string>& paths);

}  // namespace closewire
