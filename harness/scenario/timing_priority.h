// Scheduling for timing-sensitive runs.
#pragma once

namespace closewire {

// While alive, the calling thread runs at a raised scheduling priority (SCHED_FIFO, else nice
// -10) when the process may, so a scenario's timers and socket events are served on time on a
// machine whose cores are busy; without the right (not root, no CAP_SYS_NICE) nothing changes.
// Only the event loop should hold it: heavy work at that priority (opening a capture ring,
// analysing a capture) would hold up the timers of other scenarios running beside it.
class TimingPriority {
 public:
  TimingPriority();
  ~TimingPriority();
  TimingPriority(const TimingPriority&) = delete;
  TimingPriority& operator=(const TimingPriority&) = delete;

 private:
  enum class How { none, fifo, nice };
  How how_ = How::none;
  int old_nice_ = 0;
};

}  // namespace closewire
