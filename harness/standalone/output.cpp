#include "harness/standalone/output.h"

#include <cstdio>

namespace closewire::standalone {

Output stdio_output() {
  return Output{
      .say =
          [](const std::string& text) {
            std::fputs(text.c_str(), stdout);
            std::fflush(stdout);
          },
      .warn =
          [](const std::string& line) {
            std::fflush(stdout);
            std::fprintf(stderr, "%s\n", line.c_str());
          },
  };
}

}  // namespace closewire::standalone
