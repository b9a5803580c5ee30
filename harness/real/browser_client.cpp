#include "harness/real/browser_client.h"

#include <boost/asio/post.hpp>
#include <mutex>

namespace closewire::real {

namespace asio = boost::asio;

struct BrowserClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& i, BrowserPage p) : io(&i), page(std::move(p)) {}

  std::mutex mutex;      // guards `io`: the answer arrives on the connection's thread
  asio::io_context* io;  // null once stopped
  BrowserPage page;      // the rest: the scenario's thread only
  std::optional<BrowserOutcome> outcome;
  std::function<void()> finished_cb;
  bool stopped = false;

  void start() {
    if (page.navigate_method.empty()) return evaluate();
    auto self = shared_from_this();
    page.connection->async_call(
        page.navigate_method, page.navigate_params,
        [self](const nlohmann::json& result, const std::string& error) {
          std::lock_guard lock(self->mutex);
          if (!self->io) return;  // stopped: `page` is being let go
          std::string why = error;
          if (why.empty() && self->page.read_navigation) {
            try {
              why = self->page.read_navigation(result);
            } catch (const std::exception& e) {
              why = std::string("unreadable answer: ") + e.what();
            }
          }
          if (!why.empty()) {
            asio::post(*self->io, [self, why] {
              self->finish(nlohmann::json(), "the page of the WebSocket's origin did not load: " + why);
            });
            return;
          }
          // Under the lock: stop() lets go of the page only after it has taken the lock.
          self->evaluate();
        });
  }

  void evaluate() {
    auto self = shared_from_this();
    page.connection->async_call(
        page.method, page.params, [self](const nlohmann::json& result, const std::string& error) {
          std::lock_guard lock(self->mutex);
          if (self->io)
            asio::post(*self->io, [self, result, error] { self->finish(result, error); });
        });
  }

  void finish(const nlohmann::json& result, const std::string& error) {
    if (stopped) return;
    outcome = BrowserOutcome{};
    outcome->error = error;
    try {
      if (error.empty()) outcome = page.read_result(result);
    } catch (const std::exception& e) {  // a field of an unexpected type
      outcome->error = std::string("unreadable answer: ") + e.what();
    }
    if (finished_cb) finished_cb();
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    {
      std::lock_guard lock(mutex);
      io = nullptr;
    }
    if (page.close) page.close();
    // Lets go of the page's own connection (its thread ends here, not in a late answer) and of
    // the browser.
    page = BrowserPage{};
  }
};

BrowserClient::BrowserClient(asio::io_context& io, BrowserPage page)
    : impl_(std::make_shared<Impl>(io, std::move(page))) {}

BrowserClient::~BrowserClient() {
  stop();
}
void BrowserClient::start() {
  impl_->start();
}
void BrowserClient::on_finished(std::function<void()> fn) {
  impl_->finished_cb = std::move(fn);
}
void BrowserClient::stop() {
  impl_->stop();
}
bool BrowserClient::finished() const {
  return impl_->outcome.has_value();
}
std::optional<BrowserOutcome> BrowserClient::outcome() const {
  return impl_->outcome;
}

}  // namespace closewire::real
