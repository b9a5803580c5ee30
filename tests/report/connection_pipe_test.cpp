#include "harness/report/connection_pipe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace closewire::report {
namespace {

Connection numbered(std::uint64_t i) {
  Connection c;
  c.index = i;
  c.events.resize(3);
  return c;
}

TEST(ConnectionPipe, SinkSeesEveryConnectionInPushOrderOnAnotherThread) {
  std::vector<std::uint64_t> seen;
  std::atomic<bool> other_thread{true};
  const auto pusher = std::this_thread::get_id();
  {
    ConnectionPipe pipe([&](std::vector<Connection>& batch) {
      if (std::this_thread::get_id() == pusher) other_thread = false;
      for (const auto& c : batch) seen.push_back(c.index);
    });
    // Several full batches and a partial one, more than the queue holds at once.
    for (std::uint64_t i = 0; i < ConnectionPipe::kBatch * (ConnectionPipe::kMaxBatches + 3) + 5;
         ++i) {
      pipe.push(numbered(i));
    }
  }  // the destructor drains
  ASSERT_EQ(seen.size(), ConnectionPipe::kBatch * (ConnectionPipe::kMaxBatches + 3) + 5);
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i);
  EXPECT_TRUE(other_thread);
}

TEST(ConnectionPipe, DrainReturnsOnlyOnceAPartialBatchWasWritten) {
  std::atomic<std::size_t> written{0};
  ConnectionPipe pipe([&](std::vector<Connection>& batch) { written += batch.size(); });
  pipe.push(numbered(0));
  pipe.push(numbered(1));
  pipe.drain();
  EXPECT_EQ(written.load(), 2u);
  pipe.push(numbered(2));
  pipe.drain();
  EXPECT_EQ(written.load(), 3u);
}

TEST(ConnectionPipe, DrainWithNothingPushedReturnsWithoutCallingTheSink) {
  bool called = false;
  ConnectionPipe pipe([&](std::vector<Connection>&) { called = true; });
  pipe.drain();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace closewire::report
