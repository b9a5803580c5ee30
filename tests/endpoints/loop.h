// Bounded waits for the endpoint tests: every wait runs the io_context until a condition holds or
// a deadline passes, and says which.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "harness/endpoints/observation.h"

namespace closewire::endpoints::testing {

inline ::testing::AssertionResult run_until(boost::asio::io_context& io,
                                            const std::function<bool()>& done,
                                            std::chrono::milliseconds limit,
                                            const std::string& what = "condition") {
  auto deadline = Clock::now() + limit;
  while (!done()) {
    auto now = Clock::now();
    if (now >= deadline)
      return ::testing::AssertionFailure()
             << what << ": not reached within " << limit.count() << "ms";
    io.run_one_for(deadline - now);
    if (io.stopped()) {
      if (done()) break;
      return ::testing::AssertionFailure() << what << ": the io_context ran out of work";
    }
  }
  return ::testing::AssertionSuccess();
}

// Runs whatever is ready for `d` more (to let late packets show up); still bounded.
inline void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  io.restart();
  io.run_for(d);
}

inline double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace closewire::endpoints::testing
