#include "harness/analysis/known_reports.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "harness/analysis/diagnosis.h"

namespace closewire {
namespace {

TEST(KnownReports, OriginKindFoldsHopsTogether) {
  EXPECT_EQ(origin_kind("server"), "server");
  EXPECT_EQ(origin_kind("client"), "client");
  EXPECT_EQ(origin_kind("hop:0"), "hop");
  EXPECT_EQ(origin_kind("hop:3"), "hop");
}

TEST(KnownReports, MatchMechanismAndOrigin) {
  const auto by_hop = known_reports_for("close-timeout", "hop:1");
  const auto by_server = known_reports_for("close-timeout", "server");
  EXPECT_NE(std::find(by_hop.begin(), by_hop.end(), "istio/istio#29172"), by_hop.end());
  EXPECT_EQ(std::find(by_server.begin(), by_server.end(), "istio/istio#29172"), by_server.end());
  EXPECT_NE(std::find(by_server.begin(), by_server.end(), "gorilla/websocket#539"),
            by_server.end());
  EXPECT_TRUE(known_reports_for("clean", "server").empty());
  EXPECT_TRUE(known_reports_for("open", "server").empty());
}

TEST(KnownReports, EveryRowIsACatalogueMechanismOnce) {
  const auto ids = mechanism_ids();
  std::set<std::string_view> refs;
  for (const KnownReport& r : known_reports()) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), r.mechanism), ids.end()) << r.ref;
    EXPECT_TRUE(r.origin == "server" || r.origin == "client" || r.origin == "hop") << r.ref;
    EXPECT_TRUE(refs.insert(r.ref).second) << r.ref << " twice";
  }
}

TEST(KnownReports, UrlOfARef) {
  EXPECT_EQ(report_url("istio/istio#29172"), "https://github.com/istio/istio/issues/29172");
  EXPECT_EQ(report_url("no-ref"), "no-ref");
}

}  // namespace
}  // namespace closewire
