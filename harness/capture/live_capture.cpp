#include "harness/capture/live_capture.h"

#include "harness/capture/capture_ring.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <utility>

namespace closewire {
namespace {

constexpr char kSentinelMagic[] = "closewire-sentinel";
constexpr std::uint32_t kStartSentinel = 1;
constexpr std::uint32_t kStopSentinel = 2;

}  // namespace

struct LiveCapture::Handles {
  pcap_dumper_t* dumper = nullptr;
  ~Handles() {
    if (dumper) pcap_dump_close(dumper);
  }
};

bool can_capture(std::string* why) {
  try {
    CaptureRing::open("lo");
    return true;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return false;
  }
}

LiveCapture::LiveCapture(LiveCaptureOptions options, std::shared_ptr<CaptureRingPool> rings)
    : options_(std::move(options)),
      sentinel_(options_.confirm_with_sentinel.value_or(options_.interface == "lo")),
      rings_(std::move(rings)),
      handles_(std::make_unique<Handles>()) {
  std::string filter = port_filter(options_.tcp_ports, options_.host);
  if (sentinel_) {
    // The sentinel: a UDP datagram to a port of our own, inside the filter but not written out.
    sentinel_socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (sentinel_socket_ < 0 ||
        ::bind(sentinel_socket_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(sentinel_socket_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      const int error = errno;
      if (sentinel_socket_ >= 0) ::close(sentinel_socket_);
      throw CaptureEnvironmentError(
          fmt::format("cannot open the capture's sentinel socket: {}", std::strerror(error)));
    }
    sentinel_port_ = ntohs(addr.sin_port);
    filter = fmt::format("({}) or (udp dst port {})", filter, sentinel_port_);
  }

  try {
    ring_ = rings_ ? rings_->take(options_.interface) : nullptr;
    if (!ring_) ring_ = CaptureRing::open(options_.interface, options_.buffer_bytes);
    pcap_t* p = ring_->handle();
    ring_->filter(filter);
    char err[PCAP_ERRBUF_SIZE] = {};
    if (pcap_setnonblock(p, 1, err) != 0) throw std::runtime_error(fmt::format("capture: {}", err));
    handles_->dumper = pcap_dump_open(p, options_.output_path.c_str());
    if (!handles_->dumper) {
      throw std::runtime_error(
          fmt::format("{}: cannot write the capture: {}", options_.output_path, pcap_geterr(p)));
    }
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      throw CaptureEnvironmentError(fmt::format("capture: pipe: {}", std::strerror(errno)));
    }
    thread_ = std::thread([this] { run(); });
    if (sentinel_) {
      send_sentinel(kStartSentinel);
      wait_for_sentinel(kStartSentinel);
    } else {
      // The ring is live once its filter is set: the file header on disk is the confirmation
      // (and what a snapshot taken before any packet holds).
      checkpoint();
    }
  } catch (...) {
    // No destructor runs for a constructor that throws: stop the thread and close the fds here.
    end_thread();
    for (int fd : {wake_[0], wake_[1], sentinel_socket_}) {
      if (fd >= 0) ::close(fd);
    }
    throw;
  }
}

LiveCapture::~LiveCapture() {
  if (!stopped_) {
    try {
      stop();
    } catch (...) {
    }
  }
  for (int fd : {wake_[0], wake_[1], sentinel_socket_}) {
    if (fd >= 0) ::close(fd);
  }
}

void LiveCapture::wake() {
  const char one = 1;
  (void)!::write(wake_[1], &one, 1);
}

void LiveCapture::end_thread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  if (wake_[1] >= 0) wake();
  if (thread_.joinable()) thread_.join();
}

void LiveCapture::send_sentinel(std::uint32_t number) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(sentinel_port_);
  char payload[sizeof kSentinelMagic + 4];
  std::memcpy(payload, kSentinelMagic, sizeof kSentinelMagic);
  std::memcpy(payload + sizeof kSentinelMagic, &number, 4);
  ::sendto(sentinel_socket_, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to),
           sizeof to);
}

void LiveCapture::wait_for_sentinel(std::uint32_t number) {
  std::unique_lock lock(mutex_);
  // Resend now and then: a datagram sent before the ring was fully live is not seen.
  for (int waited = 0; waited < options_.sentinel_timeout_ms; waited += 50) {
    if (cv_.wait_for(lock, std::chrono::milliseconds(50),
                     [&] { return last_sentinel_seen_ >= number || !thread_error_.empty(); })) {
      break;
    }
    lock.unlock();
    send_sentinel(number);
    lock.lock();
  }
  if (!thread_error_.empty()) throw std::runtime_error(thread_error_);
  if (last_sentinel_seen_ < number) {
    throw CaptureEnvironmentError(fmt::format("capture on {} saw no sentinel within {} ms",
                                              options_.interface, options_.sentinel_timeout_ms));
  }
}

// Every packet in the ring into the file, until the ring is empty (pcap_dispatch returns 0).
void LiveCapture::drain() {
  auto on_packet = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<LiveCapture*>(user);
    // Sentinels: Ethernet + IPv4 + UDP to our port, carrying the magic; they are not written.
    if (self->sentinel_ && h->caplen >= 14 + 20 + 8 + sizeof kSentinelMagic + 4) {
      const u_char* ip = bytes + 14;
      const std::size_t ihl = (ip[0] & 0x0f) * 4u;
      if ((ip[0] >> 4) == 4 && ip[9] == IPPROTO_UDP &&
          h->caplen >= 14 + ihl + 8 + sizeof kSentinelMagic + 4) {
        const u_char* udp = ip + ihl;
        if (((udp[2] << 8) | udp[3]) == self->sentinel_port_ &&
            std::memcmp(udp + 8, kSentinelMagic, sizeof kSentinelMagic) == 0) {
          std::uint32_t n;
          std::memcpy(&n, udp + 8 + sizeof kSentinelMagic, 4);
          std::lock_guard lock(self->mutex_);
          self->last_sentinel_seen_ = std::max(self->last_sentinel_seen_, n);
          self->cv_.notify_all();
          return;
        }
      }
    }
    pcap_dump(reinterpret_cast<u_char*>(self->handles_->dumper), h, bytes);
    ++self->packets_;
  };
  for (;;) {
    const int n = pcap_dispatch(ring_->handle(), -1, on_packet, reinterpret_cast<u_char*>(this));
    if (n == 0) return;
    if (n < 0) {
      throw std::runtime_error(
          fmt::format("capture on {}: {}", options_.interface, pcap_geterr(ring_->handle())));
    }
  }
}

void LiveCapture::run() {
  pollfd fds[2] = {{pcap_get_selectable_fd(ring_->handle()), POLLIN, 0}, {wake_[0], POLLIN, 0}};
  for (;;) {
    ::poll(fds, 2, 20);
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
    // A checkpoint asked for, the stop, or an error: the file as of now, flushed.
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
      cv_.notify_all();
    }
    if (stopping || !error.empty()) return;
  }
}

std::uint64_t LiveCapture::checkpoint() {
  std::unique_lock lock(mutex_);
  if (stopped_ || !thread_error_.empty()) return checkpointed_;
  const std::uint64_t ticket = ++requested_;
  wake();
  // Bounded: the thread answers within one poll round; a stuck thread is an environment error.
  if (!cv_.wait_for(lock, std::chrono::seconds(5),
                    [&] { return done_ >= ticket || !thread_error_.empty(); })) {
    throw CaptureEnvironmentError(
        fmt::format("capture on {} stopped answering", options_.interface));
  }
  if (!thread_error_.empty()) throw std::runtime_error(thread_error_);
  return checkpointed_;
}

std::uint64_t LiveCapture::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void LiveCapture::snapshot(const std::string& to) const {
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

LiveCaptureStats LiveCapture::stop() {
  if (stopped_) return stats_;
  std::string error;
  if (sentinel_) {
    // Once the capture saw the stop sentinel, every earlier packet on lo is in the file.
    try {
      send_sentinel(kStopSentinel);
      wait_for_sentinel(kStopSentinel);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  // The thread's last round drains the ring and flushes the file: the stop without a sentinel.
  end_thread();
  stopped_ = true;
  if (error.empty()) error = thread_error_;
  stats_.packets_written = packets_;
  const CaptureRing::Drops drops = ring_->drops_since_filter();
  stats_.kernel_dropped = drops.kernel;
  stats_.interface_dropped = drops.interface;
  pcap_dump_close(handles_->dumper);
  handles_->dumper = nullptr;
  if (rings_) {
    rings_->give_back(std::move(ring_));
  } else {
    // Closing a packet socket waits for a kernel grace period (~20 ms): the file is complete, so
    // that wait happens off the caller's path.
    std::thread([ring = std::move(ring_)] {}).detach();
  }
  // Drops first: a stop sentinel that never showed up is then one of the packets lost.
  if (stats_.kernel_dropped || stats_.interface_dropped) {
    throw std::runtime_error(fmt::format(
        "capture on {} dropped {} packets (kernel) and {} (interface): the capture is incomplete",
        options_.interface, stats_.kernel_dropped, stats_.interface_dropped));
  }
  if (!error.empty()) throw std::runtime_error(error);
  return stats_;
}

}  // namespace closewire
