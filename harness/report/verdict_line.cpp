#include "harness/report/verdict_line.h"

#include <fmt/format.h>

#include "harness/analysis/verdict.h"

namespace closewire::report {

std::string verdict_line(const Connection& leg) {
  std::string out;
  const auto verdicts = judge_all(leg);
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i) {
    const Profile p = kAllProfiles[i];
    const Verdict& v = verdicts[i];
    const std::string code = v.undecided ? "undecided"
                             : !v.closed ? "open"
                             : v.code    ? std::to_string(*v.code)
                                         : "none";
    out += fmt::format("{}{} {}{}", out.empty() ? "" : ", ", to_string(p), code,
                       v.closed ? (v.was_clean ? " clean" : " not clean") : "");
  }
  return out;
}

}  // namespace closewire::report
