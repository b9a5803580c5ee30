#include "tools/closewire/standalone_capture.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

namespace closewire::cli {

struct StandaloneCapture::Handles {
  pcap_dumper_t* dumper = nullptr;
  ~Handles() {
    if (dumper) pcap_dump_close(dumper);
  }
};

std::string port_filter(const std::vector<std::uint16_t>& ports, const std::string& host) {
  const std::string f = tcp_port_filter(ports);
  return host.empty() ? f : fmt::format("host {} and ({})", host, f);
}

StandaloneCapture::StandaloneCapture(StandaloneCaptureOptions options)
    : options_(std::move(options)), handles_(std::make_unique<Handles>()) {
  ring_ = CaptureRing::open(options_.interface, options_.buffer_bytes);
  ring_->filter(options_.filter);
  pcap_t* p = ring_->handle();
  char err[PCAP_ERRBUF_SIZE] = {};
  if (pcap_setnonblock(p, 1, err) != 0) throw std::runtime_error(fmt::format("capture: {}", err));
  handles_->dumper = pcap_dump_open(p, options_.output_path.c_str());
  if (!handles_->dumper) {
    throw std::runtime_error(
        fmt::format("{}: cannot write the capture: {}", options_.output_path, pcap_geterr(p)));
  }
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("capture: pipe failed");
  thread_ = std::thread([this] { run(); });
  try {
    checkpoint();  // the file header is on disk before anyone reads a snapshot
  } catch (...) {
    // No destructor runs for a constructor that throws: stop the thread and close the pipe here.
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    const char one = 1;
    (void)!::write(wake_[1], &one, 1);
    thread_.join();
    for (int fd : wake_) ::close(fd);
    throw;
  }
}

StandaloneCapture::~StandaloneCapture() {
  if (!stopped_) {
    try {
      stop();
    } catch (...) {
    }
  }
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void StandaloneCapture::drain() {
  auto on_packet = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<StandaloneCapture*>(user);
    pcap_dump(reinterpret_cast<u_char*>(self->handles_->dumper), h, bytes);
    ++self->packets_;
  };
  for (;;) {
    const int n = pcap_dispatch(ring_->handle(), -1, on_packet, reinterpret_cast<u_char*>(this));
    if (n == 0) return;
    if (n < 0)
      throw std::runtime_error(
          fmt::format("capture on {}: {}", options_.interface, pcap_geterr(ring_->handle())));
  }
}

void StandaloneCapture::run() {
  pollfd fds[2] = {{pcap_get_selectable_fd(ring_->handle()), POLLIN, 0}, {wake_[0], POLLIN, 0}};
  for (;;) {
    ::poll(fds, 2, 100);
    char sink[64];
    while (::read(wake_[0], sink, sizeof sink) > 0) {
    }
    std::uint64_t asked;
    bool stopping;
    {
      std::lock_guard lock(mutex_);
      asked = requested_;
      stopping = stopping_;
    }
    std::string error;
    try {
      drain();
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (asked > done_ || stopping || !error.empty()) {
      pcap_dump_flush(handles_->dumper);
      const long size = pcap_dump_ftell(handles_->dumper);
      const CaptureRing::Drops drops = ring_->drops_since_filter();
      std::lock_guard lock(mutex_);
      dropped_ = drops.kernel + drops.interface;
      if (size > 0) flushed_bytes_ = static_cast<std::uint64_t>(size);
      done_ = asked;
      checkpointed_ = packets_;
      if (!error.empty()) thread_error_ = error;
      done_cv_.notify_all();
    }
    if (stopping || !error.empty()) return;
  }
}

std::uint64_t StandaloneCapture::checkpoint() {
  std::unique_lock lock(mutex_);
  if (stopped_ || !thread_error_.empty()) return checkpointed_;
  const std::uint64_t ticket = ++requested_;
  const char one = 1;
  (void)!::write(wake_[1], &one, 1);
  // Bounded: the thread answers within one poll round; a stuck thread is an environment error.
  if (!done_cv_.wait_for(lock, std::chrono::seconds(5),
                         [&] { return done_ >= ticket || !thread_error_.empty(); })) {
    throw CaptureEnvironmentError(
        fmt::format("capture on {} stopped answering", options_.interface));
  }
  if (!thread_error_.empty()) throw std::runtime_error(thread_error_);
  return checkpointed_;
}

std::uint64_t StandaloneCapture::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void StandaloneCapture::snapshot(const std::string& to) const {
  std::uint64_t size;
  {
    std::lock_guard lock(mutex_);
    size = flushed_bytes_;
  }
  std::ifstream in(options_.output_path, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  std::vector<char> buf(1 << 16);
  for (std::uint64_t left = size; left > 0 && in;) {
    in.read(buf.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size())));
    out.write(buf.data(), in.gcount());
    left -= static_cast<std::uint64_t>(in.gcount());
  }
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write a capture snapshot", to));
}

LiveCaptureStats StandaloneCapture::stop() {
  LiveCaptureStats& stats = stats_;
  if (stopped_) return stats;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const char one = 1;
  (void)!::write(wake_[1], &one, 1);
  if (thread_.joinable()) thread_.join();
  stopped_ = true;
  stats.packets_written = packets_;
  const CaptureRing::Drops drops = ring_->drops_since_filter();
  stats.kernel_dropped = drops.kernel;
  stats.interface_dropped = drops.interface;
  pcap_dump_close(handles_->dumper);
  handles_->dumper = nullptr;
  if (!thread_error_.empty()) throw std::runtime_error(thread_error_);
  if (stats.kernel_dropped || stats.interface_dropped) {
    throw std::runtime_error(fmt::format(
        "capture on {} dropped {} packets (kernel) and {} (interface): the capture is incomplete",
        options_.interface, stats.kernel_dropped, stats.interface_dropped));
  }
  return stats;
}

}  // namespace closewire::cli
