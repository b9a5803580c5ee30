#include "harness/endpoints/close_mode.h"

#include <gtest/gtest.h>

namespace closewire::endpoints {
namespace {

TEST(CloseMode, NamesRoundTrip) {
  for (auto m : {CloseMode::fin, CloseMode::half_close, CloseMode::rst, CloseMode::close_unread,
                 CloseMode::delayed}) {
    auto back = close_mode_from_string(to_string(m));
    ASSERT_TRUE(back.has_value()) << to_string(m);
    EXPECT_EQ(*back, m);
  }
  EXPECT_EQ(to_string(CloseMode::half_close), "half-close");
  EXPECT_EQ(to_string(CloseMode::close_unread), "close-unread");
}

TEST(CloseMode, UnknownNameIsRejected) {
  EXPECT_FALSE(close_mode_from_string("half_close").has_value());
  EXPECT_FALSE(close_mode_from_string("").has_value());
}

}  // namespace
}  // namespace closewire::endpoints
