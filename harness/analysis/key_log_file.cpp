#include "harness/analysis/key_log_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace closewire {

std::vector<std::string> read_key_log(const std::string& path, wire::TlsKeyLog& log) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw KeyLogError(path + ": a directory, not a key log");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw KeyLogError(path + ": cannot read the key log: " + std::strerror(errno));
  std::string text;
  const std::uintmax_t size =
      std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0;
  if (!ec && size > 0) {
    // A file: read in one piece into a string of its size (a generated key log can be 30 MB).
    text.resize(size);
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<std::size_t>(in.gcount()));
  } else {
    // A pipe (--keylog <(...)), or no size to go by.
    std::ostringstream piped;
    piped << in.rdbuf();
    text = std::move(piped).str();
  }
  if (in.bad()) throw KeyLogError(path + ": cannot read the key log");
  std::vector<std::string> warnings;
  log.add_text(text, warnings);
  for (std::string& w : warnings) w = path + ":" + w;
  return warnings;
}

std::string key_log_path_for(const std::string& capture_path) {
  return std::filesystem::path(capture_path).replace_extension(".keys").string();
}

std::string key_log_beside(const std::string& capture_path) {
  const std::string keys = key_log_path_for(capture_path);
  std::error_code ec;
  if (keys == capture_path || !std::filesystem::is_regular_file(keys, ec)) return {};
  return keys;
}

}  // namespace closewire
