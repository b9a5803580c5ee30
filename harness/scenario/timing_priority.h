// Scheduling for timing-sensitive runs.
#pragma once

namespace closewire {

// Raises the calling thread's scheduling priority (SCHED_FIFO, else nice -10) when the process may, so a
// scenario's timers and socket events are served on time on a machine whose cores are busy;
// without the right (not root, no CAP_SYS_NICE) it leaves the priority as it is. Returns whether
// the priority was raised.
bool raise_timing_priority();

}  // namespace closewire
