#include "harness/scenario/scenario_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "harness/spec/spec_error.h"

namespace closewire {

std::vector<std::string> find_scenario_files(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) found.push_back(e.path().string());
      }
      if (found.empty()) throw SpecError(fmt::format("{}: no scenario (*.yaml) in this folder", p));
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      throw SpecError(fmt::format("{}: no such file or folder", p));
    }
  }
  return files;
}

}  // namespace closewire
