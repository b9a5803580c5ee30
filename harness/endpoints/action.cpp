#include "harness/endpoints/action.h"

#include "harness/endpoints/peer.h"

namespace closewire::endpoints {

Action Action::frame(Kind kind, std::string payload) {
  Action a;
  a.kind = kind;
  a.payload = std::move(payload);
  return a;
}

Action Action::close(std::optional<std::uint16_t> code, std::string reason) {
  Action a;
  a.code = code;
  a.reason = std::move(reason);
  return a;
}

Action Action::close_socket(CloseMode mode, std::chrono::milliseconds delay) {
  Action a;
  a.kind = Kind::close_socket;
  a.mode = mode;
  a.duration = delay;
  return a;
}

Action Action::wait(std::chrono::milliseconds d) {
  Action a;
  a.kind = Kind::wait;
  a.duration = d;
  return a;
}

void perform(Peer& peer, const Action& a) {
  switch (a.kind) {
    case Action::Kind::text:
      peer.send_text(a.payload);
      break;
    case Action::Kind::binary:
      peer.send_binary(a.payload);
      break;
    case Action::Kind::ping:
      peer.send_ping(a.payload);
      break;
    case Action::Kind::pong:
      peer.send_pong(a.payload);
      break;
    case Action::Kind::close:
      peer.send_close(a.code, a.reason, a.again);
      break;
    case Action::Kind::close_socket:
      if (a.close_notify) peer.stream().set_close_notify(*a.close_notify);
      peer.close_socket(a.mode, a.duration);
      break;
    case Action::Kind::stop_reading:
      peer.stop_reading();
      break;
    case Action::Kind::raw:
      peer.send_raw(a.payload);
      break;
    case Action::Kind::wait:
      break;
  }
}

}  // namespace closewire::endpoints
