// What both h2 ends of the endpoints are made of (h2_connection: the client, h2_server_connection:
// a proxy model's listening side): an nghttp2 session over a TLS TcpStream that negotiated ALPN h2,
// the TCP callbacks that feed it, its teardown and its record of the connection. Each end keeps its
// own streams and decides what to send.
#pragma once

#include <nghttp2/nghttp2.h>

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "harness/endpoints/tcp_stream.h"

namespace closewire::endpoints {

class H2End {
 public:
  H2End(const H2End&) = delete;
  H2End& operator=(const H2End&) = delete;

  TcpStream& tcp() { return *tcp_; }
  // No further callbacks; a plain close of the TCP connection.
  virtual void abandon();

 protected:
  // `session` has the derived end as its user data; the end owns it from here.
  H2End(std::shared_ptr<TcpStream> tcp, ByteStream::Sink sink, nghttp2_session* session);
  // No further TCP callbacks, a plain close, the session freed (nghttp2 calls back no more).
  virtual ~H2End();

  // Takes the TCP stream's callbacks while `self` lives: its bytes to nghttp2, then to
  // after_input(); the `peer`'s FIN loses the streams and closes plainly; the close loses them.
  void listen(std::weak_ptr<H2End> self, std::string_view peer);
  // The connection's own observation (SETTINGS, GOAWAY, protocol errors): side "connection".
  void record(ObservationKind kind, std::string note) const;
  // The peer's GOAWAY: its error code and the last stream it took.
  void record_goaway(const nghttp2_goaway& goaway) const;

  // Every stream still open ends with the connection, `why` said once; idempotent.
  virtual void lose_streams(const std::string& why) = 0;
  // What nghttp2 decided while it read (or while the streams were lost), acted on.
  virtual void after_input() = 0;
  // Everything nghttp2 has to send, in one write.
  virtual void send_now() = 0;

  std::shared_ptr<TcpStream> tcp_;
  ByteStream::Sink sink_;
  nghttp2_session* session_;
  bool in_nghttp2_ = false;  // inside nghttp2_session_mem_recv: no sending from its callbacks

 private:
  void on_bytes(std::span<const std::uint8_t> bytes);
};

// A name-value pair for nghttp2's submit calls, pointing into `name` and `value`.
inline nghttp2_nv h2_header(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

// An nghttp2 session with the six callbacks of `Callbacks` (a class holding them as static
// functions) and `user` as their user data.
template <typename Callbacks>
nghttp2_session* new_h2_session(bool server, void* user) {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) throw std::runtime_error("nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, Callbacks::on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(cb, Callbacks::on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, Callbacks::on_stream_close);
  nghttp2_session* session = nullptr;
  const int rv = server ? nghttp2_session_server_new(&session, cb, user)
                        : nghttp2_session_client_new(&session, cb, user);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0)
    throw std::runtime_error(server ? "nghttp2: cannot make a server session"
                                    : "nghttp2: cannot make a client session");
  return session;
}

// Everything the session has queued to send, appended to `out`: written at once, frames queued
// together (a Close and its END_STREAM) share a TLS record, as a proxy's and a browser's do.
inline void drain_h2_output(nghttp2_session* session, std::string& out) {
  for (;;) {
    const std::uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n <= 0) return;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

}  // namespace closewire::endpoints
