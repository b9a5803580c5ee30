#include "harness/endpoints/key_log.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace closewire::endpoints {

KeyLogFile::KeyLogFile(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "w");
  if (!file_)
    throw std::runtime_error("cannot write the key log " + path_ + ": " + std::strerror(errno));
}

KeyLogFile::~KeyLogFile() {
  if (file_) std::fclose(file_);
}

void KeyLogFile::write(std::string_view line) {
  const std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

}  // namespace closewire::endpoints
