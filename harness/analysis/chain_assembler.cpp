#include "harness/analysis/chain_assembler.h"

#include <algorithm>
#include <limits>

namespace closewire {
void ChainAssembler::advance(Nanos cursor) {
  // Stitching looks at every pending leg, so it runs once per batch of new legs (at least half as
  // many as are pending): linear work overall, while a chain waits at most one batch longer.
  if (pending_.empty() || cursor <= earliest_response_) return;
  if (added_since_flush_ < std::max<std::size_t>(16, pending_.size() / 2)) return;
  flush(cursor);
}

void ChainAssembler::add(const Connection& leg) {
  if (leg.websocket) {
    add(Connection(leg));
  } else {
    advance(leg.start);
  }
}

void ChainAssembler::add(Connection&& leg) {
  advance(leg.start);
  if (!leg.websocket) return;
  const Nanos response = upgrade_window(leg).response;
  earliest_response_ = pending_.empty() ? response : std::min(earliest_response_, response);
  pending_.push_back(std::move(leg));
  ++added_since_flush_;
}

void ChainAssembler::finish() {
  flush(std::numeric_limits<Nanos>::max());
}

void ChainAssembler::flush(Nanos cursor) {
  added_since_flush_ = 0;
  std::vector<Chain> chains = find_chains(pending_);
  std::vector<bool> gone(pending_.size(), false);
  for (Chain& c : chains) {
    const bool whole = std::all_of(c.legs.begin(), c.legs.end(), [&](std::size_t i) {
      return upgrade_window(pending_[i]).response < cursor;
    });
    if (!whole) continue;
    AssembledChain out;
    for (std::size_t k = 0; k < c.legs.size(); ++k) {
      out.legs.push_back(std::move(pending_[c.legs[k]]));
      gone[c.legs[k]] = true;
      c.legs[k] = k;
    }
    out.chain = std::move(c);
    sink_(std::move(out));
  }
  std::vector<Connection> rest;
  earliest_response_ = std::numeric_limits<Nanos>::max();
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (gone[i]) continue;
    earliest_response_ = std::min(earliest_response_, upgrade_window(pending_[i]).response);
    rest.push_back(std::move(pending_[i]));
  }
  pending_ = std::move(rest);
}

}  // namespace closewire
