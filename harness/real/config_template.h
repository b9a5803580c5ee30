// Configuration templates for real proxies (tools/real/*.in): {name} placeholders filled in.
#pragma once

#include <map>
#include <string>

namespace closewire::real {

// Replaces every {key} with values.at(key); throws std::runtime_error naming `source` for a
// placeholder without a value, so a template and its caller cannot drift apart silently.
std::string render_template(const std::string& text,
                            const std::map<std::string, std::string>& values,
                            const std::string& source);

// tools/real of this source tree: $CLOSEWIRE_REAL_DIR, else the first tools/real found walking up
// from `near` (a scenario file), else from the working directory. Throws EnvironmentError.
std::string real_tools_dir(const std::string& near);

}  // namespace closewire::real
