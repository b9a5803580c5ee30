#include "tools/closewire/signals.h"

#include <csignal>

namespace closewire::cli {

StopSignals::StopSignals(boost::asio::io_context& io,
                         std::function<void(const std::string&)> on_stop)
    : set_(io, SIGINT, SIGTERM), on_stop_(std::move(on_stop)) {
  set_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    on_stop_(signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
}

void StopSignals::cancel() {
  boost::system::error_code ec;
  set_.cancel(ec);
}

}  // namespace closewire::cli
