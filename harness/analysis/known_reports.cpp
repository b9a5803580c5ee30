#include "harness/analysis/known_reports.h"

#include <array>

namespace closewire {
namespace {

// One row per reproduced scenarios/zoo/ file whose mechanism is not clean (docs/zoo.md has the
// reports in full).
constexpr std::array kKnown = {
    KnownReport{"istio/istio#29172", "close-timeout", "hop"},
    KnownReport{"gorilla/websocket#539", "close-timeout", "server"},
    KnownReport{"envoyproxy/envoy#28817", "reset-before-reply", "server"},
    KnownReport{"coder/websocket#160", "fin-before-reply", "server"},
    KnownReport{"envoyproxy/envoy#32525", "no-close-frame", "hop"},
    KnownReport{"kubernetes/ingress-nginx#2917", "no-close-frame", "hop"},
    KnownReport{"nextcloud/HaRP#115", "no-close-frame", "hop"},
    KnownReport{"cesanta/mongoose#1502", "no-close-frame", "server"},
    KnownReport{"slact/nchan#314", "frame-after-close", "server"},
    KnownReport{"miguelgrinberg/simple-websocket#42", "frame-after-close", "server"},
    KnownReport{"pgjones/hypercorn#327", "stream-reset-before-reply", "hop"},
};

}  // namespace

std::span<const KnownReport> known_reports() {
  return kKnown;
}

std::string_view origin_kind(std::string_view origin) {
  if (origin == "server" || origin == "client") return origin;
  return origin.starts_with("hop") ? "hop" : origin;
}

std::vector<std::string> known_reports_for(std::string_view mechanism, std::string_view origin) {
  std::vector<std::string> refs;
  if (mechanism == "clean" || mechanism == "open") return refs;
  const std::string_view kind = origin_kind(origin);
  for (const KnownReport& r : kKnown) {
    if (r.mechanism == mechanism && r.origin == kind) refs.emplace_back(r.ref);
  }
  return refs;
}

std::string report_url(std::string_view ref) {
  const std::size_t hash = ref.find('#');
  if (hash == std::string_view::npos) return std::string(ref);
  return "https://github.com/" + std::string(ref.substr(0, hash)) + "/issues/" +
         std::string(ref.substr(hash + 1));
}

}  // namespace closewire
