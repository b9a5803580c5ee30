// The chain block of the text report: the diagnoses with their fix and the public reports that
// share their mechanism and origin.
#include "harness/report/chain_report.h"

#include <gtest/gtest.h>

#include "harness/report/json_writer.h"
#include "tests/support/event_builder.h"

namespace closewire::report {
namespace {

using testing::ev;

TEST(ChainReport, ADiagnosisNamesTheKnownReportsLikeIt) {
  // The server holds TCP past Chrome <= 105's close timeout (gorilla/websocket#539's shape).
  const std::vector<Connection> legs = {testing::websocket_leg(
      {ev(10, Side::server, kind::close, 1000), ev(10.2, Side::client, kind::close, 1000),
       ev(2010.2, Side::client, kind::fin), ev(3010, Side::server, kind::fin)},
      0)};
  Chain chain;
  chain.legs = {0};
  const std::vector<Diagnosis> diagnoses = diagnose(legs, chain);
  ASSERT_FALSE(diagnoses.empty());
  EXPECT_EQ(diagnoses[0].mechanism, "close-timeout");
  EXPECT_EQ(diagnoses[0].known_reports, std::vector<std::string>{"gorilla/websocket#539"});
  const std::string text =
      chain_block(1, legs, chain, diagnoses, endpoint_names(legs, chain), TextStyle{});
  EXPECT_NE(text.find("seen in: gorilla/websocket#539 (closewire list --zoo)"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace closewire::report
