// The standalone commands' capture: libpcap on one interface with a BPF filter on the command's own
// ports, kept open for the whole session, with checkpoints that make every packet seen so far
// readable by the analyzer while the capture goes on (a verdict per connection as it ends).
//
// Not harness/capture's LiveCapture because that one (a) confirms start and stop with a sentinel
// datagram on 127.0.0.1, which a capture on eth0 never sees, and (b) has no flush. A checkpoint
// here drains the ring instead: the kernel copies a packet into it when the packet passes the tap
// (before the receiving socket sees it, inside the sending system call on lo), so once the ring is
// empty every packet our sockets have sent or seen is in the file.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/capture/live_capture.h"

namespace closewire::cli {

struct StandaloneCaptureOptions {
  std::string interface = "lo";
  std::string filter;  // BPF, see port_filter()
  std::string output_path;
  int buffer_bytes = 16 * 1024 * 1024;  // a whole session, maybe off lo: a larger ring
};

// "tcp port 9000 or tcp port 9001"; with `host`, only packets to or from it.
std::string port_filter(const std::vector<std::uint16_t>& ports, const std::string& host = {});

class StandaloneCapture {
 public:
  // Throws CaptureEnvironmentError when the machine cannot capture (exit status 3).
  explicit StandaloneCapture(StandaloneCaptureOptions options);
  ~StandaloneCapture();
  StandaloneCapture(const StandaloneCapture&) = delete;
  StandaloneCapture& operator=(const StandaloneCapture&) = delete;

  // Drains the ring into the file and flushes it; returns how many packets the file holds.
  std::uint64_t checkpoint();
  // Packets the kernel dropped, as of the last checkpoint: a verdict from such a file may be wrong.
  std::uint64_t dropped() const;
  // Copies the file as of the last checkpoint (whole records only) to `to`.
  void snapshot(const std::string& to) const;
  // Last checkpoint, flush, close. Throws std::runtime_error when the kernel dropped packets.
  LiveCaptureStats stop();

  const std::string& path() const { return options_.output_path; }

 private:
  void run();
  void drain();

  StandaloneCaptureOptions options_;
  std::unique_ptr<CaptureRing> ring_;
  struct Handles;
  std::unique_ptr<Handles> handles_;
  int wake_[2] = {-1, -1};  // a pipe: wakes the thread for a checkpoint or the stop
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable done_cv_;
  std::uint64_t requested_ = 0;  // checkpoints asked for / done (under mutex_)
  std::uint64_t done_ = 0;
  bool stopping_ = false;
  std::string thread_error_;
  std::uint64_t packets_ = 0;        // written so far (capture thread only)
  std::uint64_t checkpointed_ = 0;   // packets in the file at the last checkpoint (under mutex_)
  std::uint64_t flushed_bytes_ = 0;  // file size at the last checkpoint
  std::uint64_t dropped_ = 0;        // at the last checkpoint (under mutex_)
  LiveCaptureStats stats_;           // as stop() found them
  bool stopped_ = false;
};

}  // namespace closewire::cli
