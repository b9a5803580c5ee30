#include "harness/capture/live_capture.h"

#include "harness/capture/capture_ring.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <utility>

namespace closewire {
namespace {

constexpr char kSentinelMagic[] = "closewire-sentinel";
constexpr std::uint32_t kStartSentinel = 1;
constexpr std::uint32_t kStopSentinel = 2;

std::string filter_for(const std::vector<std::uint16_t>& ports, std::uint16_t sentinel_port) {
  return fmt::format("({}) or (udp dst port {})", tcp_port_filter(ports), sentinel_port);
}

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
      rings_(std::move(rings)),
      handles_(std::make_unique<Handles>()) {
  // The sentinel: a UDP datagram to a port of our own, inside the filter but not written out.
  sentinel_socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (sentinel_socket_ < 0 ||
      ::bind(sentinel_socket_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sentinel_socket_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw CaptureEnvironmentError(
        fmt::format("cannot open the capture's sentinel socket: {}", std::strerror(errno)));
  }
  sentinel_port_ = ntohs(addr.sin_port);

  try {
    ring_ = rings_ ? rings_->take(options_.interface) : nullptr;
    if (!ring_) ring_ = CaptureRing::open(options_.interface, options_.buffer_bytes);
    pcap_t* p = ring_->handle();
    ring_->filter(filter_for(options_.tcp_ports, sentinel_port_));
    char err[PCAP_ERRBUF_SIZE] = {};
    if (pcap_setnonblock(p, 1, err) != 0) throw std::runtime_error(fmt::format("capture: {}", err));
    handles_->dumper = pcap_dump_open(p, options_.output_path.c_str());
    if (!handles_->dumper) {
      throw std::runtime_error(
          fmt::format("{}: cannot write the capture: {}", options_.output_path, pcap_geterr(p)));
    }
    thread_ = std::thread([this] { run(); });
    send_sentinel(kStartSentinel);
    wait_for_sentinel(kStartSentinel);
  } catch (...) {
    // No destructor runs for a constructor that throws: stop the thread and close the socket here.
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(sentinel_socket_);
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
  if (sentinel_socket_ >= 0) ::close(sentinel_socket_);
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
    if (seen_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] {
          return last_sentinel_seen_ >= number || !thread_error_.empty();
        })) {
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

void LiveCapture::run() {
  pollfd pfd{pcap_get_selectable_fd(ring_->handle()), POLLIN, 0};
  auto on_packet = [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<LiveCapture*>(user);
    // Sentinels: Ethernet + IPv4 + UDP to our port, carrying the magic; they are not written.
    if (h->caplen >= 14 + 20 + 8 + sizeof kSentinelMagic + 4) {
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
          // The stop sentinel: everything sent before it is in the file; the loop may end.
          if (n >= kStopSentinel) self->stopping_ = true;
          self->seen_cv_.notify_all();
          return;
        }
      }
    }
    pcap_dump(reinterpret_cast<u_char*>(self->handles_->dumper), h, bytes);
    ++self->stats_.packets_written;
  };
  while (!stopping_.load()) {
    if (::poll(&pfd, 1, 20) < 0 && errno != EINTR) break;
    const int n = pcap_dispatch(ring_->handle(), -1, on_packet, reinterpret_cast<u_char*>(this));
    if (n == PCAP_ERROR) {
      std::lock_guard lock(mutex_);
      thread_error_ =
          fmt::format("capture on {}: {}", options_.interface, pcap_geterr(ring_->handle()));
      seen_cv_.notify_all();
      break;
    }
  }
}

LiveCaptureStats LiveCapture::stop() {
  if (stopped_) return stats_;
  stopped_ = true;
  std::string error;
  try {
    send_sentinel(kStopSentinel);
    wait_for_sentinel(kStopSentinel);
  } catch (const std::exception& e) {
    error = e.what();
  }
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  const CaptureRing::Drops drops = ring_->drops_since_filter();
  stats_.kernel_dropped = drops.kernel;
  stats_.interface_dropped = drops.interface;
  pcap_dump_flush(handles_->dumper);
  pcap_dump_close(handles_->dumper);
  handles_->dumper = nullptr;
  if (rings_) {
    rings_->give_back(std::move(ring_));
  } else {
    // Closing a packet socket waits for a kernel grace period (~20 ms): the file is complete, so
    // that wait happens off the caller's path.
    std::thread([ring = std::move(ring_)] {}).detach();
  }
  if (!error.empty()) throw std::runtime_error(error);
  if (stats_.kernel_dropped || stats_.interface_dropped) {
    throw std::runtime_error(
        fmt::format("capture on {} dropped {} packets (kernel) and {} (interface): the run is void",
                    options_.interface, stats_.kernel_dropped, stats_.interface_dropped));
  }
  return stats_;
}

}  // namespace closewire
