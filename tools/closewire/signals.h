// SIGINT/SIGTERM handled inside the io_context: a standalone command stops between handlers, so
// its connections close, its capture is flushed and its summary printed instead of dying mid-write.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace closewire::cli {

class StopSignals {
 public:
  // `on_stop` runs once, with "SIGINT" or "SIGTERM".
  StopSignals(boost::asio::io_context& io, std::function<void(const std::string&)> on_stop);
  void cancel();

 private:
  boost::asio::signal_set set_;
  std::function<void(const std::string&)> on_stop_;
};

}  // namespace closewire::cli
