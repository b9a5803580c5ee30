// Live capture with libpcap: immediate mode, nanosecond timestamps, a BPF filter on exactly the
// caller's ports (and, off loopback, its remote host), written to a pcap file by one thread.
//
// Start and stop are confirmed, never assumed after a sleep:
// - on lo, by a sentinel datagram to 127.0.0.1 seen by the capture itself (scenario runs);
// - elsewhere (a probe on eth0 never sees 127.0.0.1), by the ring itself: started once the filter
//   is set and the file header is written and flushed, stopped by a last drain-and-flush.
//
// checkpoint() makes every packet seen so far readable while the capture goes on (a verdict per
// connection as it ends): it drains the ring into the file and flushes it. The kernel copies a
// packet into the ring when the packet passes the tap (before the receiving socket sees it, inside
// the sending system call on lo), so once a drain finds the ring empty every packet our sockets
// have sent or seen is in the file.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/capture/capture_ring.h"

namespace closewire {

// The machine cannot capture: no permission, no such interface. Exit status 3.
class CaptureEnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LiveCaptureOptions {
  std::string interface = "lo";
  std::vector<std::uint16_t> tcp_ports;  // packets to or from any of these are kept
  std::string host = {};                 // and, when set, only those to or from this address
  std::string output_path;               // pcap file (nanosecond timestamps)
  int buffer_bytes = kDefaultRingBytes;  // kernel ring, when the capture opens its own
  int sentinel_timeout_ms = 2000;        // bound on waiting for a sentinel
  // Confirm start and stop with the sentinel (true) or by the ring alone (false). Unset: the
  // sentinel on lo, the only interface that carries it; the ring elsewhere.
  std::optional<bool> confirm_with_sentinel = std::nullopt;
};

struct LiveCaptureStats {
  std::uint64_t packets_written = 0;
  std::uint64_t kernel_dropped = 0;     // pcap_stats ps_drop
  std::uint64_t interface_dropped = 0;  // pcap_stats ps_ifdrop
};

class LiveCapture {
 public:
  // Opens the capture and returns once its start is confirmed (see above).
  // Takes a ring from `rings` (opened earlier, see capture_ring.h) or, when it has none, opens
  // one; at stop() the ring goes to `rings` for the next capture. Throws CaptureEnvironmentError
  // when the machine cannot capture, std::runtime_error when the filter or the file fails.
  explicit LiveCapture(LiveCaptureOptions options,
                       std::shared_ptr<CaptureRingPool> rings = nullptr);
  ~LiveCapture();
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;

  // Drains the ring into the file and flushes it; returns how many packets the file holds.
  std::uint64_t checkpoint();
  // Packets the kernel dropped, as of the last checkpoint: a verdict from such a file may be wrong.
  std::uint64_t dropped() const;
  // Copies the file as of the last checkpoint (whole records only) to `to`.
  void snapshot(const std::string& to) const;

  // Confirms the stop (the stop sentinel seen, or a last drain), flushes and closes the file.
  // Throws std::runtime_error when the kernel dropped packets.
  LiveCaptureStats stop();

  const std::string& path() const { return options_.output_path; }

 private:
  void run();
  void drain();
  void wake();
  void end_thread();
  void send_sentinel(std::uint32_t number);
  void wait_for_sentinel(std::uint32_t number);

  LiveCaptureOptions options_;
  bool sentinel_ = false;
  std::shared_ptr<CaptureRingPool> rings_;
  std::unique_ptr<CaptureRing> ring_;  // from `rings_` (and back there at stop) or its own
  struct Handles;
  std::unique_ptr<Handles> handles_;
  int sentinel_socket_ = -1;
  std::uint16_t sentinel_port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe: wakes the thread for a checkpoint or the stop
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;      // a sentinel seen, a checkpoint done, an error
  std::uint32_t last_sentinel_seen_ = 0;
  std::uint64_t requested_ = 0;     // checkpoints asked for / done
  std::uint64_t done_ = 0;
  bool stopping_ = false;
  std::string thread_error_;
  std::uint64_t checkpointed_ = 0;   // packets in the file at the last checkpoint
  std::uint64_t flushed_bytes_ = 0;  // file size at the last checkpoint
  std::uint64_t dropped_ = 0;        // at the last checkpoint
  // (end of what mutex_ guards)

  std::uint64_t packets_ = 0;  // written so far (capture thread; read after it ended)
  LiveCaptureStats stats_;     // as stop() found them
  bool stopped_ = false;
};

// True when this process may open a packet capture (root or CAP_NET_RAW).
bool can_capture(std::string* why = nullptr);

}  // namespace closewire
