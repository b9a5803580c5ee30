#include "harness/wire/http_head.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace closewire::wire {
namespace http = boost::beast::http;

namespace {

// Beast's parser consumes the start line once it is whole and the fields only once the blank line
// is in, so unconsumed head bytes are gathered here; a head longer than this is not a handshake.
constexpr std::size_t kMaxHead = 16 * 1024;

// True when any `name` field's comma-separated token list holds `token` (case-insensitive).
template <class Fields>
bool has_token(const Fields& fields, http::field name, std::string_view token) {
  auto [it, last] = fields.equal_range(name);
  for (; it != last; ++it) {
    if (http::token_list(it->value()).exists(boost::beast::string_view(token.data(), token.size())))
      return true;
  }
  return false;
}

}  // namespace

struct HttpHeadParser::Impl {
  std::optional<http::request_parser<http::empty_body>> request;
  std::optional<http::response_parser<http::empty_body>> response;
  std::string buffer;      // head bytes not yet consumed by the parser
  std::size_t fed = 0;     // head bytes taken from earlier feeds
  std::size_t parsed = 0;  // bytes the parser has consumed
  std::string first_line;

  template <class Parser>
  static void configure(Parser& p) {
    p.header_limit(kMaxHead);
    p.body_limit(boost::none);  // bodies are never parsed; a big Content-Length is no error
    p.eager(false);             // stop right after the head
  }
};

HttpHeadParser::HttpHeadParser(Kind kind) : impl_(std::make_unique<Impl>()), kind_(kind) {
  if (kind == Kind::request) {
    Impl::configure(impl_->request.emplace());
  } else {
    Impl::configure(impl_->response.emplace());
  }
}

HttpHeadParser::~HttpHeadParser() = default;
HttpHeadParser::HttpHeadParser(HttpHeadParser&&) noexcept = default;
HttpHeadParser& HttpHeadParser::operator=(HttpHeadParser&&) noexcept = default;

std::size_t HttpHeadParser::feed(std::span<const std::uint8_t> bytes) {
  if (state_ != State::need_more || bytes.empty()) return 0;
  Impl& im = *impl_;
  const std::size_t add = std::min(kMaxHead - im.fed, bytes.size());
  im.buffer.append(reinterpret_cast<const char*>(bytes.data()), add);

  boost::beast::error_code ec;
  std::size_t used = 0;
  bool header_done = false;
  auto run = [&](auto& parser) {
    used = parser.put(boost::asio::const_buffer(im.buffer.data(), im.buffer.size()), ec);
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
    im.first_line = im.buffer.substr(0, std::min(used, im.buffer.find("\r\n")));
  }
  im.buffer.erase(0, used);
  im.parsed += used;

  if (header_done) {
    state_ = State::done;
    // The head started before this feed; only its tail is in `bytes`.
    const std::size_t from_this_feed = im.parsed - im.fed;
    im.buffer = std::string();
    return from_this_feed;
  }
  im.fed += add;
  if (ec && ec != http::error::need_more) {
    state_ = State::error;
    error_ = ec.message();
    return 0;
  }
  if (im.fed >= kMaxHead) {
    state_ = State::error;
    error_ = "HTTP head longer than " + std::to_string(kMaxHead) + " bytes";
    return 0;
  }
  return bytes.size();  // all of it is (so far) head
}

bool HttpHeadParser::is_websocket_upgrade_request() const {
  if (state_ != State::done || kind_ != Kind::request) return false;
  const auto& req = impl_->request->get();
  return req.method() == http::verb::get && has_token(req, http::field::upgrade, "websocket") &&
         has_token(req, http::field::connection, "upgrade");
}

unsigned HttpHeadParser::status() const {
  if (state_ != State::done || kind_ != Kind::response) return 0;
  return impl_->response->get().result_int();
}

std::string HttpHeadParser::target() const {
  if (state_ != State::done || kind_ != Kind::request) return {};
  const auto t = impl_->request->get().target();
  return std::string(t.data(), t.size());
}

std::string HttpHeadParser::first_line() const {
  if (state_ != State::done) return {};
  return impl_->first_line;
}

}  // namespace closewire::wire
