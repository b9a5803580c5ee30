// leg_complete decides when a standalone endpoint's wait for a leg ends: a leg judged before it
// is complete on the wire is judged open.
#include "harness/standalone/leg_watch.h"

#include <gtest/gtest.h>

#include "tests/support/event_builder.h"

namespace closewire::standalone {
namespace {

using testing::ev;

Connection leg(std::vector<Event> tail) {
  Connection c;
  c.client = {"127.0.0.1", 40000};
  c.server = {"127.0.0.1", 9000};
  c.events = {ev(0, Side::client, kind::syn), ev(0.1, Side::server, kind::syn)};
  for (auto& e : tail) c.events.push_back(std::move(e));
  return c;
}

TEST(LegComplete, AnOpenLegIsNot) {
  EXPECT_FALSE(leg_complete(leg({})));
}

TEST(LegComplete, OneFinIsNotEnoughFromEitherSide) {
  EXPECT_FALSE(leg_complete(leg({ev(1, Side::server, kind::fin)})));
  EXPECT_FALSE(leg_complete(leg({ev(1, Side::client, kind::fin)})));
  // Two FINs from one side (a retransmission) are still one side.
  EXPECT_FALSE(leg_complete(leg({ev(1, Side::client, kind::fin), ev(2, Side::client, kind::fin)})));
}

TEST(LegComplete, FinsFromBothSidesAre) {
  EXPECT_TRUE(leg_complete(leg({ev(1, Side::server, kind::fin), ev(2, Side::client, kind::fin)})));
}

TEST(LegComplete, AnRstFromEitherSideIs) {
  EXPECT_TRUE(leg_complete(leg({ev(1, Side::server, kind::rst)})));
  EXPECT_TRUE(leg_complete(leg({ev(1, Side::client, kind::fin), ev(2, Side::client, kind::rst)})));
}

TEST(LegComplete, AnRstThatChangedNothingIsNot) {
  // The kernel ignored it (out of window): the connection goes on.
  EXPECT_FALSE(leg_complete(leg({ev(1, Side::server, kind::rst_ignored)})));
}

TEST(LegBounds, TheProbeWaitsLongerThanServeAndProxy) {
  EXPECT_GT(kProbeLegBound, kEndpointLegBound);
  EXPECT_GT(kProbeLegBound, std::chrono::milliseconds(2000));  // an old Envoy's delayed FIN
}

}  // namespace
}  // namespace closewire::standalone
