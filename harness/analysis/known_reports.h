// The public reports that scenarios/zoo/ reproduces, by the mechanism and origin their packets
// show: a diagnosis names the ones it shares ("seen in: istio/istio#29172, ..."), so a capture
// from the field points at the case a user can run. tests/scenario/zoo_test.cpp checks that this
// table says exactly what the zoo's files say (their report ref, mechanism and origin).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace closewire {

struct KnownReport {
  std::string_view ref;        // owner/repo#N
  std::string_view mechanism;  // a docs/diagnosis.md §3 id
  std::string_view origin;     // "server", "client" or "hop" (a proxy, whichever)
};

std::span<const KnownReport> known_reports();

// "server", "client" or "hop" for a Diagnosis::origin ("server", "client", "hop:N").
std::string_view origin_kind(std::string_view origin);

// The refs of the known reports with this mechanism and origin, in table order; none for `clean`
// and `open` (nothing went wrong to look up).
std::vector<std::string> known_reports_for(std::string_view mechanism, std::string_view origin);

// https://github.com/owner/repo/issues/N for "owner/repo#N" (GitHub sends a pull request's number
// there on to the pull request); the ref itself when it has no '#'.
std::string report_url(std::string_view ref);

}  // namespace closewire
