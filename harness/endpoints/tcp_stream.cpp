#include "harness/endpoints/tcp_stream.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>

#include <boost/asio/post.hpp>

namespace closewire::endpoints {

int errno_of(const error_code& ec) {
  return ec.category() == boost::system::system_category() ? ec.value() : 0;
}

std::shared_ptr<TcpStream> TcpStream::create(tcp::socket socket, Sink sink, std::string side,
                                             std::shared_ptr<TlsContext> tls) {
  std::shared_ptr<TcpStream> s(new TcpStream(std::move(socket), std::move(sink), std::move(side)));
  if (tls) {
    s->tls_ = std::make_unique<TlsSession>(std::move(tls));
    s->tls_->start();
    s->flush_tls_output();  // a client's ClientHello
  }
  return s;
}

TcpStream::TcpStream(tcp::socket socket, Sink sink, std::string side)
    : socket_(std::move(socket)),
      sink_(std::move(sink)),
      side_(std::move(side)),
      timer_(socket_.get_executor()) {
  error_code ec;
  socket_.non_blocking(true, ec);
  // Every write leaves at once: "RST straight behind the Close frame" must follow real bytes.
  socket_.set_option(tcp::no_delay(true), ec);
}

TcpStream::~TcpStream() {
  error_code ec;
  if (rdhup_) rdhup_->close(ec);
}

void TcpStream::detach() {
  cb_ = {};
  sink_ = {};
}

void TcpStream::record(ObservationKind kind, std::string note, int error) {
  if (!sink_) return;
  sink_(observed(kind, side_, std::move(note), error));
}

// ---- TLS -------------------------------------------------------------------------------------

void TcpStream::flush_tls_output() {
  std::string out = tls_->take_output();
  if (!out.empty()) write_raw(std::move(out), {});
}

bool TcpStream::deliver_tls() {
  auto keep = shared_from_this();
  for (;;) {
    std::string plain;
    const auto r = tls_->read(plain, buf_.size());
    if (open_) flush_tls_output();  // handshake messages, tickets
    if (tls_->take_handshake_news()) {
      record(ObservationKind::tls_handshake, tls_->description());
      release_held_writes();
    }
    if (!plain.empty() && cb_.on_data)
      cb_.on_data({reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()});
    if (!open_) return false;
    if (r == TlsSession::Read::error) {
      read_done_ = true;
      const error_code ec = boost::system::errc::make_error_code(boost::system::errc::protocol_error);
      record(ObservationKind::read_error, "tls " + tls_->error());
      if (cb_.on_read_error) cb_.on_read_error(ec);
      if (open_) close_fd("plain close after a TLS error");
      return false;
    }
    if (r == TlsSession::Read::close_notify) {
      // Once; the TCP FIN (or RST) that follows is still read and logged as it comes.
      if (tls_->close_notify_received() && !close_notify_logged_) {
        close_notify_logged_ = true;
        record(ObservationKind::close_notify_received);
      }
      return true;
    }
    if (plain.size() < buf_.size() || !reading_) return true;
  }
}

void TcpStream::release_held_writes() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& h : held) write(std::move(h.plain), std::move(h.done));
  if (open_ && queue_.empty() && !write_pending_ && held_.empty()) run_flush_waiters();
}

void TcpStream::send_close_notify() {
  if (!tls_ || !close_notify_ || !open_) return;
  // Only between whole records: with ciphertext still queued, the alert cannot go out in order
  // (Envoy: "it's possible this won't go out if there is no room on the socket").
  if (!queue_.empty() || write_pending_) return;
  if (!tls_->send_close_notify()) return;
  const std::string alert = tls_->take_output();
  error_code ec;
  const std::size_t n = socket_.write_some(asio::buffer(alert), ec);
  if (!ec && n == alert.size()) record(ObservationKind::close_notify_sent);
}

// ---- reading ---------------------------------------------------------------------------------

void TcpStream::start_reading() {
  if (!open_ || read_done_ || reading_) return;
  reading_ = true;
  // Read before waiting: Asio's readiness waits are edge-triggered, and an edge that came while
  // nobody waited (bytes already queued) would never come again.
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->read_available(); });
}

void TcpStream::stop_reading() {
  reading_ = false;
}

void TcpStream::arm_read() {
  if (wait_pending_ || !reading_ || !open_ || read_done_) return;
  wait_pending_ = true;
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
    self->wait_pending_ = false;
    if (ec || !self->open_) return;
    self->read_available();
  });
}

void TcpStream::read_available() {
  auto keep = shared_from_this();  // a callback may drop the owner's last reference
  // Plaintext a stopped reader left inside OpenSSL comes first.
  if (tls_ && tls_->pending() && !deliver_tls()) return;
  // Read until the kernel has nothing more, unless a callback stops reading in between: what it
  // leaves stays in the receive queue.
  while (open_ && reading_ && !read_done_) {
    error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(buf_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      arm_read();
      return;
    }
    if (ec == asio::error::eof) {
      read_done_ = true;
      if (tls_)
        record(ObservationKind::eof, tls_->close_notify_received() ? "after close_notify"
                                                                   : "without close_notify");
      else
        record(ObservationKind::eof);
      if (cb_.on_eof) cb_.on_eof();
      // After our own half-close, the peer's FIN completes the close (Node's socket.end()).
      if (half_closed_ && open_) close_fd("plain close after the peer's FIN");
      return;
    }
    if (ec) {
      read_done_ = true;
      std::string note = ec.message();
      if (tls_)
        note += tls_->close_notify_received() ? " (after close_notify)" : " (without close_notify)";
      record(ObservationKind::read_error, note, errno_of(ec));
      if (cb_.on_read_error) cb_.on_read_error(ec);
      if (open_) close_fd("plain close after a read error");
      return;
    }
    if (tls_) {
      tls_->receive({buf_.data(), n});
      if (!deliver_tls()) return;
      continue;
    }
    if (cb_.on_data) cb_.on_data({buf_.data(), n});
  }
}

std::size_t TcpStream::unread_bytes() const {
  int n = 0;
  if (!socket_.is_open()) return 0;
  if (::ioctl(const_cast<tcp::socket&>(socket_).native_handle(), FIONREAD, &n) != 0) return 0;
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::string TcpStream::peer_gone() {
  if (!open_) return {};
  pollfd p{socket_.native_handle(), POLLRDHUP, 0};
  if (::poll(&p, 1, 0) != 1) return {};
  if (p.revents & (POLLERR | POLLHUP)) return "rst";
  if (p.revents & POLLRDHUP) return "fin";
  return {};
}

std::size_t TcpStream::drain() {
  std::size_t total = 0;
  for (;;) {
    error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(buf_), ec);
    if (ec) break;
    total += n;
  }
  return total;
}

// ---- writing ---------------------------------------------------------------------------------

void TcpStream::write(std::string bytes, WriteDone done) {
  if (tls_ && open_) {
    if (!tls_->handshake_done()) {
      held_.push_back({std::move(bytes), std::move(done)});
      return;
    }
    if (!tls_->encrypt(bytes)) {
      record(ObservationKind::write_failed, "tls " + tls_->error());
      if (done)
        asio::post(socket_.get_executor(), [done = std::move(done)] {
          done(boost::system::errc::make_error_code(boost::system::errc::protocol_error));
        });
      return;
    }
    bytes = tls_->take_output();
  }
  write_raw(std::move(bytes), std::move(done));
}

void TcpStream::write_raw(std::string bytes, WriteDone done) {
  if (!open_) {
    if (done)
      asio::post(socket_.get_executor(),
                 [done = std::move(done)] { done(asio::error::not_connected); });
    return;
  }
  std::size_t offset = 0;
  if (queue_.empty() && !write_pending_) {
    // Write at once, like Envoy's doWrite() and a browser's socket write: whatever the caller does
    // next (a shutdown, an RST, a peer's readiness check) comes after these bytes, in this handler.
    error_code ec;
    offset = socket_.write_some(asio::buffer(bytes), ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      // Report this error, not a retry's: the kernel hands out ECONNRESET once, then EPIPE.
      queue_.push_back({std::move(bytes), 0, std::move(done)});
      write_pending_ = true;
      asio::post(socket_.get_executor(),
                 [self = shared_from_this(), ec] { self->on_write(ec, 0); });
      return;
    }
    if (ec) offset = 0;
    if (offset > 0 && rearm_delay_) arm_delay_timer();
    if (!ec && offset == bytes.size()) {
      if (done) asio::post(socket_.get_executor(), [done = std::move(done)] { done({}); });
      return;
    }
  }
  queue_.push_back({std::move(bytes), offset, std::move(done)});
  do_write();
}

void TcpStream::after_flush(std::function<void()> fn) {
  if (queue_.empty() && held_.empty())
    fn();
  else
    flush_waiters_.push_back(std::move(fn));
}

void TcpStream::do_write() {
  if (write_pending_ || queue_.empty() || !open_) return;
  write_pending_ = true;
  const Pending& p = queue_.front();
  socket_.async_write_some(
      asio::buffer(p.data.data() + p.offset, p.data.size() - p.offset),
      [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_write(ec, n); });
}

void TcpStream::on_write(const error_code& ec, std::size_t n) {
  write_pending_ = false;
  if (!open_) return;
  auto keep = shared_from_this();
  if (ec) {
    record(ObservationKind::write_failed, ec.message(), errno_of(ec));
    auto failed = std::move(queue_);
    queue_.clear();
    flush_waiters_.clear();
    for (auto& p : failed)
      if (p.done) p.done(ec);
    if (cb_.on_write_error) cb_.on_write_error(ec);
    if (open_) close_fd("plain close after a write error");
    return;
  }
  // Envoy re-arms the delayed-close timer after every write that made progress.
  if (n > 0 && rearm_delay_) arm_delay_timer();
  Pending& p = queue_.front();
  p.offset += n;
  if (p.offset == p.data.size()) {
    WriteDone done = std::move(p.done);
    queue_.pop_front();
    if (done) done({});
  }
  if (!open_) return;
  if (!queue_.empty()) {
    do_write();
    return;
  }
  if (held_.empty()) run_flush_waiters();
}

void TcpStream::run_flush_waiters() {
  auto waiters = std::move(flush_waiters_);
  flush_waiters_.clear();
  for (auto& fn : waiters) fn();
}

// ---- closing ---------------------------------------------------------------------------------

void TcpStream::close(CloseMode mode, std::chrono::milliseconds delay) {
  if (!open_ || closing_) return;
  closing_ = true;
  std::string note(to_string(mode));
  if (mode == CloseMode::delayed || mode == CloseMode::close_unread)
    note += ' ' + std::to_string(delay.count()) + "ms";
  record(ObservationKind::close_started, note);
  auto self = shared_from_this();
  switch (mode) {
    case CloseMode::fin:
      after_flush([self] { self->finish_fin(); });
      break;
    case CloseMode::half_close:
      after_flush([self] {
        if (!self->open_) return;
        self->send_close_notify();  // Envoy's doWrite(end_stream), Node's tls end(): before the FIN
        error_code ec;
        self->socket_.shutdown(tcp::socket::shutdown_send, ec);
        self->half_closed_ = true;
        self->record(ObservationKind::half_closed);
        if (self->read_done_)
          self->close_fd("plain close: the peer's FIN had come already");
        else
          self->start_reading();  // the peer's FIN completes the close
      });
      break;
    case CloseMode::rst: {
      queue_.clear();
      held_.clear();
      flush_waiters_.clear();
      send_close_notify();  // with close_notify: the alert, then the RST right behind it
      error_code ec;
      socket_.set_option(asio::socket_base::linger(true, 0), ec);
      close_fd("rst (SO_LINGER 0)");
      break;
    }
    case CloseMode::close_unread:
      stop_reading();
      after_flush([self, delay] { self->close_when_unread(delay); });
      break;
    case CloseMode::delayed:
      flush_close(delay, true, "FlushWriteAndDelay");
      break;
  }
}

void TcpStream::close_flush_write(std::chrono::milliseconds safeguard) {
  if (!open_ || closing_) return;
  closing_ = true;
  record(ObservationKind::close_started, "flush-write");
  flush_close(safeguard, false, "FlushWrite");
}

void TcpStream::close_plain(std::string_view why) {
  if (!open_) return;
  closing_ = true;
  close_fd(std::string(why));
}

void TcpStream::finish_fin() {
  if (!open_) return;
  send_close_notify();
  // Bytes left unread would turn the close into an RST (§1): a FIN close reads them first.
  std::size_t drained = drain();
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  close_fd(drained ? "fin (read " + std::to_string(drained) + " bytes first)" : "fin");
}

void TcpStream::close_when_unread(std::chrono::milliseconds bound) {
  if (!open_) return;
  if (std::size_t n = unread_bytes(); n > 0) {
    close_fd("close with " + std::to_string(n) + " bytes unread");
    return;
  }
  // Wait, without reading, for bytes to arrive (or the peer's FIN/RST), at most `bound`.
  auto self = shared_from_this();
  unsigned generation = ++timer_generation_;
  timer_.expires_after(bound);
  timer_.async_wait([self, generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_ || !self->open_) return;
    self->close_fd("plain close: nothing arrived to leave unread");
  });
  socket_.async_wait(tcp::socket::wait_read, [self](const error_code& ec) {
    if (ec || !self->open_) return;
    std::size_t n = self->unread_bytes();
    self->close_fd(n ? "close with " + std::to_string(n) + " bytes unread"
                     : "plain close: the peer closed with nothing unread");
  });
}

void TcpStream::flush_close(std::chrono::milliseconds delay, bool wait_after_flush,
                            std::string_view label) {
  // Envoy stops watching read events: bytes the peer sends now stay in the kernel.
  stop_reading();
  watch_rdhup();
  if (!open_) return;  // the peer had closed already
  if (delay.count() > 0) {
    rearm_delay_ = delay;
    arm_delay_timer();
  }
  auto self = shared_from_this();
  std::string what(label);
  after_flush([self, delay, wait_after_flush, what] {
    if (!self->open_) return;
    if (!wait_after_flush || delay.count() == 0)
      self->close_fd("plain close after " + what + " flushed");
    // else: the timer or the peer's FIN ends the delay.
  });
}

void TcpStream::arm_delay_timer() {
  unsigned generation = ++timer_generation_;
  timer_.expires_after(*rearm_delay_);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_ || !self->open_) return;
    self->record(ObservationKind::delay_ended, "timer");
    self->close_fd("plain close after the delay");
  });
}

void TcpStream::watch_rdhup() {
  if (rdhup_) return;
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return;
  epoll_event ev{};
  ev.events = EPOLLRDHUP;  // silent while data arrives; fires on FIN (EPOLLERR/HUP on RST)
  ev.data.fd = socket_.native_handle();
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, socket_.native_handle(), &ev) != 0) {
    ::close(ep);
    return;
  }
  rdhup_.emplace(socket_.get_executor(), ep);
  if (!check_rdhup()) wait_rdhup();
}

bool TcpStream::check_rdhup() {
  epoll_event ev{};
  if (!rdhup_ || ::epoll_wait(rdhup_->native_handle(), &ev, 1, 0) != 1) return false;
  bool reset = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;
  record(ObservationKind::delay_ended, reset ? "peer rst" : "peer fin");
  close_fd(reset ? "plain close after the peer's RST" : "plain close after the peer's FIN");
  return true;
}

void TcpStream::wait_rdhup() {
  rdhup_->async_wait(asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const error_code& ec) {
                       if (ec || !self->open_) return;
                       if (!self->check_rdhup()) self->wait_rdhup();
                     });
}

void TcpStream::close_fd(std::string note) {
  if (!open_) return;
  // Every close of a TLS stream tries close_notify first, as Envoy's SslSocket::closeSocket does
  // (once: a half-close or FIN close sent it already).
  send_close_notify();
  open_ = false;
  closing_ = true;
  reading_ = false;
  ++timer_generation_;
  error_code ec;
  timer_.cancel();
  if (rdhup_) rdhup_->close(ec);
  socket_.close(ec);
  queue_.clear();
  held_.clear();
  flush_waiters_.clear();
  record(ObservationKind::closed, std::move(note));
  if (cb_.on_closed) {
    auto cb = cb_.on_closed;
    cb();
  }
}

}  // namespace closewire::endpoints
