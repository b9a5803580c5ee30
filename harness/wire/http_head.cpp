#include "harness/wire/http_head.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace closewire::wire {
namespace http = boost::beast::http;

namespace {

// Beast's parser consumes the start line once it is whole and the fields only once the blank line
// is in, so unconsumed head bytes are gathered here; a head longer than this is not a handshake.
constexpr std::size_t kMaxHead = 16 * 1024;

bool has_token(boost::beast::string_view value, std::string_view token) {
  return http::token_list(value).exists(boost::beast::string_view(token.data(), token.size()));
}

// Beast's parser keeping only what a handshake needs (method, status, the Upgrade and Connection
// tokens), instead of a fields container that allocates per field.
template <bool isRequest>
class HeadParser final : public http::basic_parser<isRequest> {
 public:
  HeadParser() {
    this->header_limit(kMaxHead);
    this->body_limit(boost::none);  // bodies are never parsed; a big Content-Length is no error
    this->eager(false);             // stop right after the head
  }

  http::verb method = http::verb::unknown;
  unsigned status = 0;
  bool upgrade_websocket = false;   // an Upgrade field lists "websocket"
  bool connection_upgrade = false;  // a Connection field lists "upgrade"
  HandshakeFields fields;           // what links legs and names proxies

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(http::verb m, string_view, string_view target, int,
                       error_code&) override {
    method = m;
    fields.target.assign(target.data(), target.size());
  }
  void on_response_impl(int code, string_view, int, error_code&) override {
    status = static_cast<unsigned>(code);
  }
  void on_field_impl(http::field name, string_view name_text, string_view value,
                     error_code&) override {
    if (name == http::field::upgrade && !upgrade_websocket) {
      upgrade_websocket = has_token(value, "websocket");
    } else if (name == http::field::connection && !connection_upgrade) {
      connection_upgrade = has_token(value, "upgrade");
    } else if (name == http::field::sec_websocket_key) {
      fields.key.assign(value.data(), value.size());
    } else if (name == http::field::sec_websocket_accept) {
      fields.accept.assign(value.data(), value.size());
    } else if (name == http::field::server) {
      fields.server.assign(value.data(), value.size());
    } else if (name == http::field::unknown && name_text.size() > 8 &&
               boost::beast::iequals(name_text.substr(0, 8), "x-envoy-")) {
      fields.envoy_fields = true;
    }
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}
};

}  // namespace

struct HttpHeadParser::Impl {
  explicit Impl(Kind kind) {
    if (kind == Kind::request) {
      request.emplace();
    } else {
      response.emplace();
    }
  }
  std::optional<HeadParser<true>> request;
  std::optional<HeadParser<false>> response;
  std::string buffer;      // head bytes not yet consumed by the parser (a head split over feeds)
  std::size_t fed = 0;     // head bytes taken from earlier feeds
  std::size_t parsed = 0;  // bytes the parser has consumed
};

HttpHeadParser::HttpHeadParser(Kind kind) : kind_(kind) {}

HttpHeadParser::~HttpHeadParser() = default;
HttpHeadParser::HttpHeadParser(HttpHeadParser&&) noexcept = default;
HttpHeadParser& HttpHeadParser::operator=(HttpHeadParser&&) noexcept = default;

std::size_t HttpHeadParser::feed(std::span<const std::uint8_t> bytes) {
  if (state_ != State::need_more || bytes.empty()) return 0;
  if (!impl_) impl_ = std::make_unique<Impl>(kind_);
  Impl& im = *impl_;
  const std::size_t add = std::min(kMaxHead - im.fed, bytes.size());
  // The parser reads straight from `bytes` unless earlier bytes wait in `buffer` (no copy of a
  // head that comes in one segment).
  std::string_view input(reinterpret_cast<const char*>(bytes.data()), add);
  const bool buffered = !im.buffer.empty();
  if (buffered) {
    im.buffer.append(input);
    input = im.buffer;
  }

  boost::beast::error_code ec;
  std::size_t used = 0;
  bool header_done = false;
  auto run = [&](auto& parser) {
    used = parser.put(boost::asio::const_buffer(input.data(), input.size()), ec);
    header_done = parser.is_header_done();
  };
  if (kind_ == Kind::request) {
    run(*im.request);
  } else {
    run(*im.response);
  }

  // Beast consumes the start line as soon as it is whole, then the fields once the blank line is
  // in; what it consumed must not be offered again.
  if (used > 0 && im.parsed == 0) {
    first_line_.assign(input.substr(0, std::min(used, input.find("\r\n"))));
  }
  im.parsed += used;

  if (header_done) {
    state_ = State::done;
    // The head started before this feed; only its tail is in `bytes`.
    const std::size_t from_this_feed = im.parsed - im.fed;
    finish_head();
    return from_this_feed;
  }
  if (buffered) {
    im.buffer.erase(0, used);
  } else {
    im.buffer.assign(input.substr(used));
  }
  im.fed += add;
  if (ec && ec != http::error::need_more) {
    state_ = State::error;
    error_ = ec.message();
    impl_.reset();
    return 0;
  }
  if (im.fed >= kMaxHead) {
    state_ = State::error;
    error_ = "HTTP head longer than " + std::to_string(kMaxHead) + " bytes";
    impl_.reset();
    return 0;
  }
  return bytes.size();  // all of it is (so far) head
}

// Keeps what the accessors report and frees the parser, while it is still in cache.
void HttpHeadParser::finish_head() {
  if (kind_ == Kind::request) {
    const HeadParser<true>& req = *impl_->request;
    websocket_upgrade_ =
        req.method == http::verb::get && req.upgrade_websocket && req.connection_upgrade;
    fields_ = req.fields;
  } else {
    status_ = impl_->response->status;
    fields_ = impl_->response->fields;
  }
  impl_.reset();
}

bool HttpHeadParser::is_websocket_upgrade_request() const {
  if (state_ != State::done || kind_ != Kind::request) return false;
  return websocket_upgrade_;
}

unsigned HttpHeadParser::status() const {
  if (state_ != State::done || kind_ != Kind::response) return 0;
  return status_;
}

const std::string& HttpHeadParser::first_line() const {
  static const std::string none;
  if (state_ != State::done) return none;
  return first_line_;  // a reference: the caller copies it only where it keeps it
}

}  // namespace closewire::wire
