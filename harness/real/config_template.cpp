#include "harness/real/config_template.h"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "harness/real/process.h"

namespace closewire::real {

std::string render_template(const std::string& text,
                            const std::map<std::string, std::string>& values,
                            const std::string& source) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('{', pos);
    if (open == std::string::npos) break;
    const std::size_t close = text.find('}', open);
    // Only {identifier} is a placeholder (a letter or _ first, then digits too, as in
    // {h2_workaround_bogus_websocket_clients}): braces of the config language itself stay, a
    // regex's {2} among them.
    const std::string key =
        close == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
    const bool placeholder =
        !key.empty() && key.find_first_of("0123456789") != 0 &&
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
    if (!placeholder) {
      out += text.substr(pos, open + 1 - pos);
      pos = open + 1;
      continue;
    }
    const auto it = values.find(key);
    if (it == values.end())
      throw std::runtime_error(fmt::format("{}: no value for the placeholder {{{}}}", source, key));
    out += text.substr(pos, open - pos) + it->second;
    pos = close + 1;
  }
  return out + text.substr(std::min(pos, text.size()));
}

std::string real_tools_dir(const std::string& near) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("CLOSEWIRE_REAL_DIR"); env && *env) return env;
  std::error_code ec;
  for (fs::path start : {fs::absolute(near, ec).parent_path(), fs::current_path(ec)}) {
    for (fs::path p = start; !p.empty(); p = p.parent_path()) {
      if (fs::is_directory(p / "tools" / "real", ec)) return (p / "tools" / "real").string();
      if (p == p.root_path()) break;
    }
  }
  throw EnvironmentError("cannot find tools/real (the real peers' files); set CLOSEWIRE_REAL_DIR");
}

}  // namespace closewire::real
