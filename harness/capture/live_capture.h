// Live capture on loopback with libpcap: immediate mode, nanosecond timestamps, a BPF filter on
// exactly the run's ports, written to a pcap file. Start and stop are confirmed by a sentinel
// datagram seen by the capture itself, never by a sleep.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
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
  std::string output_path;               // pcap file (nanosecond timestamps)
  int buffer_bytes = kDefaultRingBytes;  // kernel ring, when the capture opens its own
  int sentinel_timeout_ms = 2000;        // bound on waiting for a sentinel
};

struct LiveCaptureStats {
  std::uint64_t packets_written = 0;
  std::uint64_t kernel_dropped = 0;     // pcap_stats ps_drop
  std::uint64_t interface_dropped = 0;  // pcap_stats ps_ifdrop
};

class LiveCapture {
 public:
  // Opens the capture and returns once a start sentinel went through it.
  // Takes a ring from `rings` (opened earlier, see capture_ring.h) or, when it has none, opens
  // one; at stop() the ring goes to `rings` for the next capture. Throws CaptureEnvironmentError
  // when the machine cannot capture.
  explicit LiveCapture(LiveCaptureOptions options,
                       std::shared_ptr<CaptureRingPool> rings = nullptr);
  ~LiveCapture();
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;

  // Sends the stop sentinel, waits until the capture saw it (so every earlier packet on lo is in
  // the file), closes the file. Throws std::runtime_error when the kernel dropped packets.
  LiveCaptureStats stop();

  const std::string& path() const { return options_.output_path; }

 private:
  void run();
  void send_sentinel(std::uint32_t number);
  void wait_for_sentinel(std::uint32_t number);

  LiveCaptureOptions options_;
  std::shared_ptr<CaptureRingPool> rings_;
  std::unique_ptr<CaptureRing> ring_;  // from `rings_` (and back there at stop) or its own
  struct Handles;
  std::unique_ptr<Handles> handles_;
  int sentinel_socket_ = -1;
  std::uint16_t sentinel_port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable seen_cv_;
  std::uint32_t last_sentinel_seen_ = 0;
  std::string thread_error_;
  LiveCaptureStats stats_;
  bool stopped_ = false;
};

// True when this process may open a packet capture (root or CAP_NET_RAW).
bool can_capture(std::string* why = nullptr);

}  // namespace closewire
