// A stdio stream over a file descriptor that shows every byte read through it to a callback, so a
// second reader can follow a file libpcap reads (harness/analysis/pcapng_clock.h) without reading
// it again, from a file or a pipe alike.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <span>

namespace closewire {

using ReadTap = std::function<void(std::span<const std::uint8_t>)>;

// A read-only FILE* on `fd` (not seekable); `tap` sees each chunk as the stream's buffer is
// filled, in order. fclose closes `fd` when `owns_fd`. nullptr (errno set) when it cannot be made;
// `fd` is then still the caller's to close.
std::FILE* open_tapped(int fd, bool owns_fd, ReadTap tap);

}  // namespace closewire
