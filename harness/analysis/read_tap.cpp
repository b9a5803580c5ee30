#include "harness/analysis/read_tap.h"

#include <unistd.h>

#include <cerrno>
#include <memory>

namespace closewire {
namespace {

struct Cookie {
  int fd;
  bool owns_fd;
  ReadTap tap;
};

ssize_t tapped_read(void* cookie, char* buffer, std::size_t size) {
  auto* c = static_cast<Cookie*>(cookie);
  ssize_t n;
  do {
    n = ::read(c->fd, buffer, size);
  } while (n < 0 && errno == EINTR);
  if (n > 0) c->tap({reinterpret_cast<const std::uint8_t*>(buffer), static_cast<std::size_t>(n)});
  return n;
}

int tapped_close(void* cookie) {
  std::unique_ptr<Cookie> c(static_cast<Cookie*>(cookie));
  return c->owns_fd ? ::close(c->fd) : 0;
}

}  // namespace

std::FILE* open_tapped(int fd, bool owns_fd, ReadTap tap) {
  auto cookie = std::make_unique<Cookie>(Cookie{fd, owns_fd, std::move(tap)});
  const cookie_io_functions_t io{tapped_read, nullptr, nullptr, tapped_close};
  std::FILE* file = fopencookie(cookie.get(), "rb", io);
  if (file != nullptr) cookie.release();  // fclose frees it
  return file;
}

}  // namespace closewire
