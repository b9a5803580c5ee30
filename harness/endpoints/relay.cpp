#include "harness/endpoints/relay.h"

#include <vector>

#include <fmt/format.h>

#include "harness/wire/close_payload.h"

namespace closewire::endpoints {

namespace {
using K = ObservationKind;

constexpr std::string_view kBadGateway =
    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
}  // namespace

std::shared_ptr<Relay> Relay::create(tcp::socket downstream, RelayConfig config,
                                     std::size_t connection, std::shared_ptr<ObservationLog> log) {
  return std::shared_ptr<Relay>(
      new Relay(std::move(downstream), std::move(config), connection, std::move(log)));
}

Relay::Relay(tcp::socket downstream, RelayConfig config, std::size_t connection,
             std::shared_ptr<ObservationLog> log)
    : config_(std::move(config)),
      connection_(connection),
      log_(std::move(log)),
      pending_down_(std::move(downstream)),
      up_socket_(pending_down_.get_executor()),
      idle_timer_(pending_down_.get_executor()),
      to_up_(pending_down_.get_executor(), Side::upstream, wire::HttpHeadParser::Kind::request),
      to_down_(pending_down_.get_executor(), Side::downstream,
               wire::HttpHeadParser::Kind::response) {
  to_up_.faults = config_.to_upstream;
  to_down_.faults = config_.to_downstream;
}

void Relay::add(Observation o) {
  if (stopped_) return;
  o.connection = connection_;
  log_->add(std::move(o));
}

void Relay::record(Side side, K kind, std::string note) {
  add(observed(kind, name(side), std::move(note)));
}

std::shared_ptr<TcpStream> Relay::make_stream(tcp::socket socket, Side side) {
  std::weak_ptr<Relay> weak = weak_from_this();
  auto s = TcpStream::create(
      std::move(socket),
      [weak, side](Observation o) {
        auto self = weak.lock();
        if (!self) return;
        if (side == Side::downstream && o.kind == K::tls_handshake)
          self->downstream_handshake_done();
        // Over h2 the downstream TCP connection is not a leg: its streams are.
        if (side == Side::downstream && self->h2_) o.side = "connection";
        self->add(std::move(o));
      },
      std::string(name(side)),
      side == Side::downstream ? config_.downstream_tls : config_.upstream_tls);
  TcpStream::Callbacks cb;
  Direction* from = side == Side::downstream ? &to_up_ : &to_down_;
  cb.on_data = [weak, from](std::span<const std::uint8_t> bytes) {
    if (auto self = weak.lock()) self->ingest(*from, bytes);
  };
  cb.on_eof = [weak, side] {
    if (auto self = weak.lock()) self->side_gone(side, true);
  };
  auto on_error = [weak, side](const error_code& ec) {
    auto self = weak.lock();
    if (self && ec == asio::error::connection_reset) self->reset_[side == Side::upstream] = true;
  };
  cb.on_read_error = on_error;
  cb.on_write_error = on_error;
  cb.on_closed = [weak, side] {
    if (auto self = weak.lock()) self->side_gone(side, false);
  };
  s->set_callbacks(std::move(cb));
  return s;
}

void Relay::start() {
  down_ = make_stream(std::move(pending_down_), Side::downstream);
  record(Side::downstream, K::connected);
  down_->start_reading();
  arm_idle_timer();
  // Offering h2, a relay that connects at accept waits for ALPN: over h2 each stream connects.
  if (!config_.connect_after_request_head && !config_.downstream_h2) connect();
}

void Relay::downstream_handshake_done() {
  if (!config_.downstream_h2 || h2_ || stopped_) return;
  const TlsSession* session = down_ ? down_->tls_session() : nullptr;
  if (!session || session->alpn() != "h2") {
    if (!config_.connect_after_request_head) connect();
    return;
  }
  // Called from the stream's sink, not its data callback: the callbacks can be replaced here, and
  // the plaintext behind the handshake goes to the h2 session.
  idle_timer_.cancel();  // the model's idle timeout is for a TCP downstream (relay.h)
  std::weak_ptr<Relay> weak = weak_from_this();
  h2_ = H2ServerConnection::create(
      down_,
      [weak](Observation o) {
        if (auto self = weak.lock()) self->add(std::move(o));
      },
      [weak](const H2ServerConnection::Request& r) {
        if (auto self = weak.lock()) self->h2_request(r);
      });
}

void Relay::h2_request(const H2ServerConnection::Request& r) {
  if (stopped_) return;
  if (r.method != "CONNECT" || r.protocol != "websocket") {
    // The models relay WebSockets only: anything else gets 400 from the proxy itself.
    add(observed(K::http_head, "connection",
                 r.method + " " + r.path + " (h2 stream " + std::to_string(r.id) + "): 400"));
    h2_->respond(r.id, 400);
    return;
  }
  std::weak_ptr<Relay> weak = weak_from_this();
  auto tunnel = H2Tunnel::create(
      h2_, r, {config_.upstream, config_.upstream_tls, config_.h2_reset_after_end_stream},
      [weak](Observation o) {
        if (auto self = weak.lock()) self->add(std::move(o));
      });
  tunnels_.push_back(tunnel);
  tunnel->start();
}

void Relay::arm_idle_timer() {
  if (config_.idle_timeout.count() <= 0 || stopped_) return;
  idle_timer_.expires_after(config_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->idle_timed_out();
  });
}

void Relay::idle_timed_out() {
  if (stopped_) return;
  const std::string why = fmt::format("idle timeout: no byte for {} ms, closing both sides ({})",
                                      config_.idle_timeout.count(), to_string(config_.on_idle));
  // Both noted first: closing one side can close the other at once (side_gone).
  const Side sides[] = {Side::downstream, Side::upstream};
  for (Side side : sides) {
    if (stream(side) && stream(side)->is_open()) record(side, K::fault, why);
  }
  for (Side side : sides) close_side(side, SideClose::with_mode(config_.on_idle));
}

void Relay::connect() {
  if (connecting_ || up_ || stopped_) return;
  connecting_ = true;
  up_socket_.async_connect(config_.upstream, [self = shared_from_this()](const error_code& ec) {
    self->connecting_ = false;
    if (self->stopped_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      self->add(observed(K::closed, "upstream", "connect failed: " + ec.message(), errno_of(ec)));
      self->gone_[1] = true;
      self->push(self->to_down_, std::string(kBadGateway), [self] {
        self->close_side(Side::downstream, SideClose::flush_write(std::chrono::milliseconds(0)));
      });
      return;
    }
    self->up_ = self->make_stream(std::move(self->up_socket_), Side::upstream);
    self->record(Side::upstream, K::connected);
    self->up_->start_reading();
    self->pump(self->to_up_);
  });
}

void Relay::ingest(Direction& d, std::span<const std::uint8_t> bytes) {
  if (d.cut || stopped_) return;
  arm_idle_timer();  // (re-armed: cancels the pending wait)
  Side from = d.to == Side::upstream ? Side::downstream : Side::upstream;
  std::size_t head_used = 0;
  if (!d.head_done) {
    head_used = d.head.feed(bytes);
    if (d.head.state() == wire::HttpHeadParser::State::done) {
      d.head_done = true;
      if (d.to == Side::upstream) {
        record(from, K::http_head, d.head.first_line());
        if (config_.connect_after_request_head) connect();
      } else {
        record(from, d.head.status() == 101 ? K::upgraded : K::http_head, d.head.first_line());
      }
    } else if (d.head.state() == wire::HttpHeadParser::State::error) {
      d.head_done = true;  // not HTTP: relay it as it is
      record(from, K::fault, "unparsable HTTP head: " + d.head.error());
      head_used = bytes.size();
    }
  }
  // Frames after the head: log them, and find where a Close frame ends for reset_behind_close.
  std::optional<std::size_t> cut_at;
  auto frame_part = bytes.subspan(head_used);
  if (d.head_done && !frame_part.empty()) {
    std::uint64_t base = d.frame_bytes;
    std::vector<wire::Frame> frames;
    d.decoder.feed(frame_part, frames);
    d.frame_bytes += frame_part.size();
    for (const auto& f : frames) {
      Observation o = observed(K::frame_received, name(from));
      o.opcode = f.opcode;
      bool is_close = f.opcode == static_cast<std::uint8_t>(wire::Opcode::close);
      if (is_close) {
        auto payload = wire::parse_close_payload(f.payload);
        o.code = payload.code;
        o.reason = payload.reason;
      }
      add(std::move(o));
      if (is_close && d.faults.reset_behind_close && !cut_at)
        cut_at = head_used + static_cast<std::size_t>(f.stream_offset + f.wire_size() - base);
    }
  }
  bool behind_close = cut_at.has_value();
  if (d.faults.reset_after_bytes) {
    std::uint64_t limit = *d.faults.reset_after_bytes;
    if (d.relayed + bytes.size() >= limit) {
      std::size_t at = static_cast<std::size_t>(limit - std::min(limit, d.relayed));
      if (!cut_at || at < *cut_at) {
        cut_at = at;
        behind_close = false;
      }
    }
  }
  std::size_t take = cut_at ? std::min(*cut_at, bytes.size()) : bytes.size();
  d.relayed += take;
  std::string chunk(reinterpret_cast<const char*>(bytes.data()), take);
  if (!cut_at) {
    push(d, std::move(chunk), {});
    return;
  }
  d.cut = true;
  std::string what = behind_close ? "rst behind the Close frame"
                                  : "rst after " + std::to_string(d.relayed) + " bytes";
  Side to = d.to;
  push(d, std::move(chunk), [self = shared_from_this(), to, what] {
    auto& s = self->stream(to);
    if (!s || !s->is_open()) return;
    // The bytes must be in the kernel before the RST, or SO_LINGER 0 would drop them.
    s->after_flush([self, to, what] {
      auto& s = self->stream(to);
      if (!s || !s->is_open()) return;
      self->record(to, K::fault, what);
      s->close(CloseMode::rst);
    });
  });
}

void Relay::push(Direction& d, std::string bytes, std::function<void()> action) {
  d.items.push_back({Clock::now() + d.faults.latency, std::move(bytes), std::move(action)});
  pump(d);
}

void Relay::pump(Direction& d) {
  while (!d.items.empty() && !stopped_) {
    auto& dest = stream(d.to);
    if (!dest && d.to == Side::upstream && !gone_[1]) return;  // until connected
    Item& front = d.items.front();
    if (front.due > Clock::now()) {
      if (!d.timer_pending) {
        d.timer_pending = true;
        d.timer.expires_at(front.due);
        d.timer.async_wait([self = shared_from_this(), &d](const error_code& ec) {
          d.timer_pending = false;
          if (!ec) self->pump(d);
        });
      }
      return;
    }
    Item item = std::move(front);
    d.items.pop_front();
    if (!item.bytes.empty() && dest && dest->is_open()) dest->write(std::move(item.bytes));
    if (item.action) item.action();
  }
}

void Relay::side_gone(Side side, bool eof) {
  int i = side == Side::upstream ? 1 : 0;
  auto& s = stream(side);
  // The relay reads until the peer's FIN, then closes that socket (Envoy: RemoteClose).
  if (eof && s && s->is_open() && !s->closing()) s->close_plain("plain close after the peer's FIN");
  if (gone_[i]) return;
  gone_[i] = true;
  if (stopped_) return;
  if (side == Side::upstream) {
    auto self = shared_from_this();
    if (!to_down_.head_done) {
      // Nothing upgraded yet: Envoy answers 503 itself.
      push(to_down_, std::string(kBadGateway), [self] {
        self->close_side(Side::downstream, SideClose::flush_write(std::chrono::milliseconds(0)));
      });
      return;
    }
    // Envoy with the RST guard raises the upstream's RST as a reset and aborts the downstream.
    const bool reset = reset_[1] && config_.reset_downstream_on_upstream_reset;
    push(to_down_, {}, [self, reset] {
      if (reset) self->record(Side::downstream, K::fault, "upstream reset: downstream reset");
      self->close_side(Side::downstream, reset ? SideClose::with_mode(CloseMode::rst)
                                               : self->config_.downstream_on_upstream_close);
    });
  } else {
    if (!up_) {
      error_code ec;
      up_socket_.close(ec);  // cancels a connect in progress
      gone_[1] = true;
      return;
    }
    auto self = shared_from_this();
    push(to_up_, {},
         [self] { self->close_side(Side::upstream, self->config_.upstream_on_downstream_close); });
  }
}

void Relay::close_side(Side side, const SideClose& how) {
  auto& s = stream(side);
  if (!s || !s->is_open()) return;
  s->set_close_notify(how.close_notify);
  switch (how.how) {
    case SideClose::How::mode:
      s->close(how.mode, how.delay);
      break;
    case SideClose::How::flush_write:
      s->close_flush_write(how.delay);
      break;
    case SideClose::How::plain:
      s->close_plain("plain close (no flush)");
      break;
  }
}

void Relay::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ec;
  to_up_.timer.cancel();
  to_down_.timer.cancel();
  idle_timer_.cancel();
  to_up_.items.clear();
  to_down_.items.clear();
  up_socket_.close(ec);
  for (auto& t : tunnels_) t->stop();
  if (h2_) h2_->abandon();
  for (auto* s : {&down_, &up_}) {
    if (!*s) continue;
    (*s)->detach();
    (*s)->close_plain("proxy stopped");
  }
}

}  // namespace closewire::endpoints
