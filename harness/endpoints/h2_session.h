// An nghttp2 session as both h2 ends of the endpoints make it and drain it (h2_connection: the
// client, h2_server_connection: a proxy model's listening side): the same six callbacks, from a
// class holding them as static functions.
#pragma once

#include <nghttp2/nghttp2.h>

#include <stdexcept>
#include <string>

namespace closewire::endpoints {

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
