#include "harness/scenario/timing_priority.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace closewire {
namespace {

id_t this_thread() { return static_cast<id_t>(::syscall(SYS_gettid)); }

}  // namespace

TimingPriority::TimingPriority() {
  // Real-time FIFO at the lowest priority first: the event loop sleeps on timers and sockets
  // almost all the time and must run the moment one fires (kernel throttling keeps 5 % of each
  // second for everything else).
  sched_param param{};
  param.sched_priority = sched_get_priority_min(SCHED_FIFO);
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0) {
    how_ = How::fifo;
    return;
  }
  // Otherwise nice -10. On Linux nice is per thread: PRIO_PROCESS with the thread id changes
  // this thread only.
  errno = 0;
  old_nice_ = ::getpriority(PRIO_PROCESS, this_thread());
  if (errno == 0 && ::setpriority(PRIO_PROCESS, this_thread(), -10) == 0) how_ = How::nice;
}

TimingPriority::~TimingPriority() {
  if (how_ == How::fifo) {
    sched_param param{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
  } else if (how_ == How::nice) {
    ::setpriority(PRIO_PROCESS, this_thread(), old_nice_);
  }
}

}  // namespace closewire
