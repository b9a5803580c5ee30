#include "tests/fuzz/fuzz_target.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace closewire::fuzz {
namespace {

// The scratch files, removed when the process exits normally (a crash leaves one file behind,
// in a temporary folder).
struct Scratch {
  std::map<std::string, std::string, std::less<>> paths;  // suffix -> path
  ~Scratch() {
    std::error_code ignored;
    for (const auto& [suffix, path] : paths) std::filesystem::remove(path, ignored);
  }
};

std::filesystem::path scratch_dir() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";  // no disk writes
  return std::filesystem::temp_directory_path();
}

}  // namespace

const std::string& input_file(std::span<const std::uint8_t> data, std::string_view suffix) {
  static Scratch scratch;
  auto it = scratch.paths.find(suffix);
  if (it == scratch.paths.end()) {
    const std::string name = "closewire-fuzz-" + std::to_string(::getpid()) + std::string(suffix);
    it = scratch.paths.emplace(std::string(suffix), (scratch_dir() / name).string()).first;
  }
  std::ofstream out(it->second, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) finding("cannot write the scratch file " + it->second);
  return it->second;
}

void finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace closewire::fuzz
