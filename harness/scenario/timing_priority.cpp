#include "harness/scenario/timing_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace closewire {

bool raise_timing_priority() {
  // On Linux, nice is per thread: PRIO_PROCESS with the thread id changes this thread only, and
  // threads it starts inherit it.
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  return ::setpriority(PRIO_PROCESS, tid, -10) == 0;
}

}  // namespace closewire
