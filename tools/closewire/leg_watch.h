// Per-connection verdicts while the capture runs. When a connection ends, its leg may not be
// complete on the wire yet (the peer's FIN can follow our close), so a wait polls checkpoints of
// the capture until the legs it selects are complete (an RST, or a FIN from both sides) or a bound
// passes, then hands out those legs as the analyzer reads the file so far. The final file holds
// the same packets for those legs, so `closewire replay` of it gives the same verdicts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/analysis/connection.h"
#include "tools/closewire/standalone_capture.h"

namespace closewire::cli {

// Both sides sent FIN, or either sent RST.
bool leg_complete(const Connection& leg);

class LegWatch {
 public:
  // Picks this connection's legs out of every leg of the capture so far (in SYN order).
  using Select = std::function<std::vector<Connection>(const std::vector<Connection>&)>;
  using Done = std::function<void(std::vector<Connection>)>;

  LegWatch(boost::asio::io_context& io, StandaloneCapture& capture);
  ~LegWatch();  // removes its snapshot file
  LegWatch(const LegWatch&) = delete;
  LegWatch& operator=(const LegWatch&) = delete;

  // `done` runs once `expected` legs are selected and complete, or after `bound` with what there
  // is.
  void when_complete(Select select, std::size_t expected, std::chrono::milliseconds bound,
                     Done done);
  // Ends every pending wait now with the capture as it is (shutdown).
  void finish_all();

 private:
  struct Wait {
    explicit Wait(boost::asio::io_context& io) : timer(io) {}
    Select select;
    std::size_t expected = 0;
    std::chrono::steady_clock::time_point deadline;
    Done done;
    boost::asio::steady_timer timer;
  };
  void poll(const std::shared_ptr<Wait>& w);
  void finish(const std::shared_ptr<Wait>& w, std::vector<Connection> legs);
  const std::vector<Connection>& legs();  // the capture as of a fresh checkpoint

  boost::asio::io_context& io_;
  StandaloneCapture& capture_;
  std::string snapshot_path_;
  std::uint64_t analysed_packets_ = ~std::uint64_t{0};
  std::uint64_t reported_drops_ = 0;  // drops already reported on stderr
  std::vector<Connection> legs_;
  std::list<std::shared_ptr<Wait>> waits_;
};

}  // namespace closewire::cli
