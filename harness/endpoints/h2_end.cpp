#include "harness/endpoints/h2_end.h"

namespace closewire::endpoints {

H2End::H2End(std::shared_ptr<TcpStream> tcp, ByteStream::Sink sink, nghttp2_session* session)
    : tcp_(std::move(tcp)), sink_(std::move(sink)), session_(session) {}

H2End::~H2End() {
  tcp_->detach();
  tcp_->close_plain("h2 connection destroyed");
  nghttp2_session_del(session_);
}

void H2End::abandon() {
  tcp_->detach();
  sink_ = {};
  tcp_->close_plain("h2 connection abandoned");
}

void H2End::listen(std::weak_ptr<H2End> self, std::string_view peer) {
  TcpStream::Callbacks cb;
  cb.on_data = [self](std::span<const std::uint8_t> bytes) {
    if (auto end = self.lock()) end->on_bytes(bytes);
  };
  cb.on_eof = [self, fin = "the " + std::string(peer) + "'s FIN on the h2 connection"] {
    if (auto end = self.lock()) {
      end->lose_streams(fin);
      end->tcp_->close_plain("plain close after " + fin);
    }
  };
  cb.on_closed = [self] {
    if (auto end = self.lock()) end->lose_streams("the h2 connection closed");
  };
  tcp_->set_callbacks(std::move(cb));
}

void H2End::record(ObservationKind kind, std::string note) const {
  if (!sink_) return;
  sink_(observed(kind, "connection", std::move(note)));
}

void H2End::record_goaway(const nghttp2_goaway& goaway) const {
  record(ObservationKind::http_head, std::string("GOAWAY ") +
                                         nghttp2_http2_strerror(goaway.error_code) +
                                         ", last stream " + std::to_string(goaway.last_stream_id));
}

void H2End::on_bytes(std::span<const std::uint8_t> bytes) {
  in_nghttp2_ = true;
  const ssize_t rv = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
  in_nghttp2_ = false;
  if (rv < 0) {
    const std::string why =
        std::string("h2 protocol error: ") + nghttp2_strerror(static_cast<int>(rv));
    record(ObservationKind::read_error, why);
    send_now();  // nghttp2's GOAWAY, if it made one
    lose_streams(why);
    tcp_->close_plain("plain close after an h2 protocol error");
    return;
  }
  after_input();
}

}  // namespace closewire::endpoints
