#include "harness/analysis/profile.h"

namespace closewire {

const ProfileInfo& info(Profile p) {
  for (const auto& row : kProfiles) {
    if (row.profile == p) return row;
  }
  return kProfiles.front();  // unreachable: every enumerator has a row
}

std::string_view to_string(Profile p) {
  return info(p).name;
}

std::optional<Profile> profile_from_string(std::string_view name) {
  for (const auto& row : kProfiles) {
    if (row.name == name) return row.profile;
  }
  return std::nullopt;
}

std::string profile_names() {
  std::string out;
  for (const auto& row : kProfiles) {
    if (!out.empty()) out += ", ";
    out += row.name;
  }
  return out;
}

}  // namespace closewire
