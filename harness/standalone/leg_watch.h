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
#include "harness/capture/live_capture.h"

namespace closewire::standalone {

// How long a wait for a connection's legs may last once the endpoint is done with it. Two values,
// because what a wait that runs out costs differs:
// - serve and proxy report when their own sockets closed, so their legs are normally complete on
//   the wire already; the bound only keeps a peer that never closes its side from holding back a
//   line that is information, not a result.
inline constexpr std::chrono::milliseconds kEndpointLegBound{3000};
// - the probe judges a leg from a client that has closed; the remote side's FIN or RST usually
//   follows within milliseconds, but an old Envoy's delayed close ends its side about 2 s after
//   the reply (the README's gateway example), maybe across a network, and a wait cut short leaves
//   the leg open, a DISAGREE and exit status 1: a longer bound, with room over those 2 s.
inline constexpr std::chrono::milliseconds kProbeLegBound{5000};

// Both sides sent FIN, or either sent RST.
bool leg_complete(const Connection& leg);

class LegWatch {
 public:
  // Picks this connection's legs out of every leg of the capture so far (in SYN order).
  using Select = std::function<std::vector<Connection>(const std::vector<Connection>&)>;
  using Done = std::function<void(std::vector<Connection>)>;
  using Warn = std::function<void(const std::string&)>;

  // `warn` gets a line when the capture dropped packets or its file so far did not analyse.
  // `key_log_path` (may be empty): the TLS secrets of the watched connections, read anew at each
  // analysis since the endpoints append to it as sessions start.
  LegWatch(boost::asio::io_context& io, LiveCapture& capture, Warn warn,
           std::string key_log_path = {});
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
  LiveCapture& capture_;
  Warn warn_;
  std::string snapshot_path_;
  std::string key_log_path_;
  std::uint64_t analysed_packets_ = ~std::uint64_t{0};
  std::uint64_t reported_drops_ = 0;  // drops already reported on stderr
  std::vector<Connection> legs_;
  std::list<std::shared_ptr<Wait>> waits_;
};

}  // namespace closewire::standalone
