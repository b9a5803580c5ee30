#include "harness/scenario/timing_priority.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace closewire {

bool raise_timing_priority() {
  // Real-time FIFO at the lowest priority first: a scenario thread sleeps on timers and sockets
  // almost all the time, and must run the moment one fires even when every core is busy (kernel
  // throttling keeps 5 % of each second for everything else).
  sched_param param{};
  param.sched_priority = sched_get_priority_min(SCHED_FIFO);
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0) return true;
  // Otherwise nice -10. On Linux nice is per thread: PRIO_PROCESS with the thread id changes
  // this thread only, and threads it starts inherit it.
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  return ::setpriority(PRIO_PROCESS, tid, -10) == 0;
}

}  // namespace closewire
