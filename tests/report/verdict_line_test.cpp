#include "harness/report/verdict_line.h"

#include <gtest/gtest.h>

#include "tests/support/event_builder.h"

namespace closewire::report {
namespace {

using testing::ev;

Connection upgraded_leg() {
  Connection c;
  c.client = {"127.0.0.1", 56078};
  c.server = {"127.0.0.1", 9000};
  c.websocket = true;
  c.events = {ev(0, Side::client, kind::syn), ev(0.01, Side::server, kind::syn),
              ev(0.5, Side::client, kind::upgrade), ev(4.4, Side::server, kind::upgrade)};
  return c;
}

TEST(VerdictLine, EveryProfileInOrderWithCodeAndCleanness) {
  Connection c = upgraded_leg();
  // The seed's fix: the closing handshake completes, then FIN both ways.
  c.events.push_back(ev(5, Side::server, kind::close, 4321));
  c.events.push_back(ev(6, Side::client, kind::close, 4321));
  c.events.push_back(ev(7, Side::server, kind::fin));
  c.events.push_back(ev(8, Side::client, kind::fin));
  EXPECT_EQ(verdict_line(c),
            "chrome 4321 clean, chrome-legacy 4321 clean, firefox 4321 clean, safari 4321 clean, "
            "rfc 4321 clean");
}

TEST(VerdictLine, ALegStillOpenSaysOpenWithoutCleanness) {
  EXPECT_EQ(verdict_line(upgraded_leg()),
            "chrome open, chrome-legacy open, firefox open, safari open, rfc open");
}

}  // namespace
}  // namespace closewire::report
