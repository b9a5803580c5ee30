// Hands finished connections to a second thread, in order, a batch at a time. On a large capture
// turning connections into text (verdicts, JSON) is about a third of the work; with the pipe the
// thread reading packets does not wait for it. Memory stays bounded: a full pipe makes push() wait.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "harness/analysis/connection.h"

namespace closewire::report {

class ConnectionPipe {
 public:
  using Sink = std::function<void(std::vector<Connection>& batch)>;
  static constexpr std::size_t kBatch = 64;      // connections handed over at once
  static constexpr std::size_t kMaxBatches = 8;  // batches waiting before push() waits

  // `sink` runs on the pipe's thread, one batch at a time, in push order.
  explicit ConnectionPipe(Sink sink);
  ~ConnectionPipe();  // drains, then stops the thread
  ConnectionPipe(const ConnectionPipe&) = delete;
  ConnectionPipe& operator=(const ConnectionPipe&) = delete;

  void push(Connection&& connection);
  // Returns once the sink has run for everything pushed so far.
  void drain();

 private:
  void hand_over();  // the current batch into the queue
  void work();

  Sink sink_;
  std::vector<Connection> batch_;  // filled by the pushing thread
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<Connection>> queue_;
  bool busy_ = false;  // the sink is running
  bool stopping_ = false;
  std::thread thread_;  // started at the first hand-over
};

}  // namespace closewire::report
