#include "harness/report/connection_pipe.h"

#include <utility>

namespace closewire::report {

ConnectionPipe::ConnectionPipe(Sink sink) : sink_(std::move(sink)) {
  batch_.reserve(kBatch);
}

ConnectionPipe::~ConnectionPipe() {
  drain();
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
}

void ConnectionPipe::push(Connection&& connection) {
  batch_.push_back(std::move(connection));
  if (batch_.size() == kBatch) hand_over();
}

void ConnectionPipe::hand_over() {
  if (batch_.empty()) return;
  if (!thread_.joinable()) thread_ = std::thread([this] { work(); });
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < kMaxBatches; });
  queue_.push_back(std::exchange(batch_, {}));
  batch_.reserve(kBatch);
  changed_.notify_all();
}

void ConnectionPipe::drain() {
  hand_over();
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void ConnectionPipe::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;
    std::vector<Connection> batch = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    changed_.notify_all();  // room for the pusher
    lock.unlock();
    sink_(batch);
    batch.clear();  // the connections are freed here too, off the reading thread
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace closewire::report
