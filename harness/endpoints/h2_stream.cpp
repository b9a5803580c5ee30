#include "harness/endpoints/h2_stream.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <cstring>

#include "harness/endpoints/h2_connection.h"

namespace closewire::endpoints {

namespace {

std::string rst_name(std::uint32_t code) {
  return std::string("RST_STREAM(") + nghttp2_http2_strerror(code) + ")";
}

}  // namespace

H2Stream::H2Stream(std::shared_ptr<H2Connection> connection) : connection_(std::move(connection)) {}

H2Stream::~H2Stream() {
  if (id_ > 0) connection_->forget(id_);
}

void H2Stream::detach() {
  cb_ = {};
  sink_ = {};
}

void H2Stream::record(ObservationKind kind, std::string note, int error) {
  if (!sink_) return;
  sink_(observed(kind, {}, std::move(note), error));
}

void H2Stream::set_close_notify(bool send) {
  connection_->tcp().set_close_notify(send);
}

const TlsSession* H2Stream::tls_session() const {
  return connection_->tcp().tls_session();
}

tcp::socket& H2Stream::socket() {
  return connection_->tcp().socket();
}

std::string H2Stream::peer_gone() {
  if (!open_) return {};
  if (reset_or_lost()) return "rst";
  if (remote_end_) return "fin";
  return {};
}

// ---- reading ---------------------------------------------------------------------------------

void H2Stream::start_reading() {
  if (reading_ || !open_) return;
  reading_ = true;
  asio::post(socket().get_executor(), [self = shared_from_this()] { self->deliver(); });
}

void H2Stream::received_reset(std::uint32_t error_code) {
  if (reset_code_) return;
  reset_code_ = error_code;
  if (open_) return;  // handed on in order by deliver()
  // After the stream closed here. One that was on the wire before our own RST_STREAM (its bytes
  // had reached our socket when ours left) reset the stream before our end: logged as the
  // stream's, as the capture's verdict counts it (client_profile.cpp). One that left after ours
  // merely crossed it: the connection's note only.
  if (!rst_sent_ || reset_was_pending_) {
    record(ObservationKind::read_error, rst_name(error_code) + " after the stream closed",
           ECONNRESET);
    return;
  }
  if (!sink_) return;
  sink_(observed(ObservationKind::read_error, "connection",
                 rst_name(error_code) + " on stream " + std::to_string(id_) +
                     " after our RST_STREAM: the two crossed"));
}

void H2Stream::connection_lost(std::string why) {
  if (lost_.empty()) lost_ = std::move(why);
}

void H2Stream::deliver() {
  if (delivering_ || !open_) return;
  auto keep = shared_from_this();  // a callback may drop the owner's last reference
  delivering_ = true;
  while (open_ && reading_ && !in_.empty() && cb_.on_data) {
    const std::string data = std::move(in_);
    in_.clear();
    cb_.on_data({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  }
  if (open_ && reading_ && remote_end_ && !remote_end_delivered_ && in_.empty()) {
    remote_end_delivered_ = true;
    record(ObservationKind::eof, "END_STREAM");
    if (cb_.on_eof) cb_.on_eof();
  }
  if (open_ && reading_ && reset_or_lost() && !reset_delivered_ && in_.empty()) {
    log_reset();
    if (cb_.on_read_error) cb_.on_read_error(asio::error::connection_reset);
    finish(reset_code_ ? "stream reset by the peer" : "stream lost with its connection");
  }
  delivering_ = false;
  unread_at_send_ = false;  // that read is done
  maybe_finish();
}

// ---- writing ---------------------------------------------------------------------------------

void H2Stream::write(std::string bytes, WriteDone done) {
  const auto post_failure = [this, &done](const error_code& ec) {
    if (done) asio::post(socket().get_executor(), [done = std::move(done), ec] { done(ec); });
  };
  if (!open_ || rst_sent_) return post_failure(asio::error::not_connected);
  if (reset_or_lost() || end_requested_) {
    // The stream is gone (or ended by us): the bytes cannot go out.
    record(ObservationKind::write_failed,
           reset_code_      ? rst_name(*reset_code_) + " received: the stream is gone"
           : !lost_.empty() ? lost_
                            : "write after END_STREAM",
           reset_or_lost() ? ECONNRESET : EPIPE);
    return post_failure(reset_or_lost() ? asio::error::connection_reset : asio::error::broken_pipe);
  }
  queued_total_ += bytes.size();
  out_ += bytes;
  dones_.push_back({queued_total_, std::move(done)});
  connection_->resume(id_);
  connection_->schedule_send();
}

std::optional<std::size_t> H2Stream::take_output(std::uint8_t* buf, std::size_t max, bool& eof) {
  const std::size_t n = std::min(max, out_.size());
  std::memcpy(buf, out_.data(), n);
  out_.erase(0, n);
  taken_total_ += n;
  eof = out_.empty() && end_requested_;
  if (n == 0 && !eof) return std::nullopt;
  return n;
}

void H2Stream::log_reset() {
  reset_delivered_ = true;
  // Our last DATA left with server bytes already waiting in our socket, and this reset was among
  // them: it was on the wire first (loopback), though we read it only now.
  if (unread_at_send_) record(ObservationKind::peer_gone_before_reply, "rst");
  record(ObservationKind::read_error, reset_code_ ? rst_name(*reset_code_) : lost_,
         reset_code_ ? ECONNRESET : 0);
}

void H2Stream::sent(std::size_t bytes, bool end_stream, bool unread_before) {
  auto keep = shared_from_this();
  sent_total_ += bytes;
  if (bytes > 0) unread_at_send_ = unread_before;
  while (!dones_.empty() && dones_.front().end <= sent_total_) {
    WriteDone done = std::move(dones_.front().done);
    dones_.pop_front();
    if (done) done({});
  }
  if (end_stream && !end_sent_) {
    end_sent_ = true;
    record(ObservationKind::half_closed, "END_STREAM");
  }
  maybe_finish();
}

void H2Stream::fail_dones(const error_code& ec) {
  // Bytes nghttp2 took are in the TCP stream already: their writes complete when it reports them.
  while (!dones_.empty() && dones_.back().end > taken_total_) {
    if (auto done = std::move(dones_.back().done))
      asio::post(socket().get_executor(), [done = std::move(done), ec] { done(ec); });
    dones_.pop_back();
  }
}

// ---- closing ---------------------------------------------------------------------------------

void H2Stream::close(CloseMode mode, std::chrono::milliseconds) {
  if (!open_ || closing_) return;
  closing_ = true;
  record(ObservationKind::close_started, std::string(to_string(mode)));
  if (mode == CloseMode::fin || mode == CloseMode::half_close) {
    if (reset_or_lost()) return;  // nothing can go out; the reset is on its way
    end_requested_ = true;
    connection_->resume(id_);
    connection_->schedule_send();
    return;
  }
  reset_now("RST_STREAM(CANCEL) (" + std::string(to_string(mode)) + ")");
}

void H2Stream::close_plain(std::string_view why) {
  if (!open_ || rst_sent_) return;
  closing_ = true;
  if (reset_or_lost()) return finish(std::string(why));
  if (nghttp2_closed_) return finish("END_STREAM both ways");
  reset_now("RST_STREAM(CANCEL): " + std::string(why));
}

void H2Stream::reset_now(std::string why) {
  if (rst_sent_) return;
  rst_sent_ = true;
  // What is queued goes out first, as a socket's close() sends its queued bytes.
  connection_->send_now();
  connection_->reset(id_, NGHTTP2_CANCEL);
  // Server bytes in our socket by the time ours left (before the write, or during it: within
  // microseconds both ways on loopback) count as sent before ours.
  reset_was_pending_ =
      connection_->unread_before_last_write() || connection_->tcp().unread_bytes() > 0;
  finish(std::move(why));
}

void H2Stream::maybe_finish() {
  // Ended both ways, each end handed on: the stream is closed, as a socket after FIN both ways.
  if (open_ && nghttp2_closed_ && end_sent_ && remote_end_delivered_)
    finish("END_STREAM both ways");
}

void H2Stream::finish(std::string why) {
  if (!open_) return;
  auto keep = shared_from_this();
  // A reset that arrived behind what closed us, unread yet: logged before the close.
  if (reset_or_lost() && !reset_delivered_) log_reset();
  open_ = false;
  closing_ = true;
  reading_ = false;
  out_.clear();
  fail_dones(asio::error::not_connected);
  record(ObservationKind::closed, std::move(why));
  if (cb_.on_closed) {
    auto cb = cb_.on_closed;
    cb();
  }
}

}  // namespace closewire::endpoints
