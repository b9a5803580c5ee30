#include "harness/analysis/diagnosis.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "harness/analysis/known_reports.h"
#include "harness/wire/close_payload.h"

namespace closewire {
namespace {

// The catalogue of docs/diagnosis.md §3, in its order: ids are stable once shipped.
constexpr std::array<std::string_view, 12> kMechanisms = {"clean",
                                                          "close-timeout",
                                                          "reset-before-reply",
                                                          "reset-after-reply",
                                                          "fin-before-reply",
                                                          "no-close-frame",
                                                          "frame-after-close",
                                                          "protocol-error",
                                                          "no-status-code",
                                                          "stream-reset-before-reply",
                                                          "stream-idle-timeout",
                                                          "open"};

// A hop that holds its close this long is a delayed close (Envoy's ~1 s per hop), not a relay's
// scheduling noise (well under 1 ms).
constexpr Nanos kLongHold = 100 * kNanosPerMilli;

// ---------------------------------------------------------------------------------------------
// The knobs (docs/diagnosis.md §4): one row per mechanism, one column per product, and the server
// column for server-side causes. "—" means the product has nothing to turn for it. The doc's
// table holds the same texts: change both together.
struct FixRow {
  std::string_view mechanism;
  std::string_view envoy;
  std::string_view nginx;
  std::string_view haproxy;
  std::string_view server;
};

constexpr std::string_view kNoKnob = "—";

constexpr std::array<FixRow, 10> kFixes = {{
    {"close-timeout",
     "delayed_close_timeout: 0s on the HTTP connection manager (Istio: an EnvoyFilter, as in the "
     "seed), or Envoy >= 1.23 (envoy.reloadable_features.no_delay_close_for_upgrades true by "
     "default)",
     kNoKnob, kNoKnob,
     "the server: close TCP once the closing handshake is done (it never sent its FIN)"},
    {"reset-before-reply", "a reset or overload action; check envoy_cluster_upstream_cx_destroy_*",
     "reset_timedout_connection on with a timeout", "remove option nolinger",
     "the server: close with FIN after the client's Close reply, not abortively (SO_LINGER 0)"},
    {"reset-after-reply",
     "no client data during the delayed close (pings), or delayed_close_timeout: 0s",
     "lingering_close always", "remove option nolinger",
     "the server: read the client's Close reply before close() (unread bytes make an RST)"},
    {"no-close-frame", "idle_timeout, stream_idle_timeout on the route or HCM",
     "proxy_read_timeout / proxy_send_timeout", "timeout tunnel, timeout client-fin / server-fin",
     "the server: send a Close frame before it closes TCP"},
    {"fin-before-reply", kNoKnob, kNoKnob, kNoKnob,
     "the server: wait for the client's Close reply before FIN (ws does)"},
    {"frame-after-close", kNoKnob, kNoKnob, kNoKnob,
     "the server: send nothing after its Close frame"},
    {"protocol-error", kNoKnob, kNoKnob, kNoKnob,
     "the server: send frames and Close payloads that follow RFC 6455"},
    {"no-status-code", kNoKnob, kNoKnob, kNoKnob,
     "the server: send a code with its Close (close(code, reason)), if the client expects one"},
    {"stream-reset-before-reply",
     "keep WebSockets on HTTP/1.1: no allow_connect in http2_protocol_options (no websocket "
     "upgrade_configs over h2)",
     kNoKnob,
     "h2-workaround-bogus-websocket-clients in global (browsers then use HTTP/1.1)",
     "the server: wait for the client's Close reply before its FIN (ws does), so the reply "
     "passes before the proxy resets the stream"},
    {"stream-idle-timeout", "stream_idle_timeout / idle_timeout on the route or HCM", kNoKnob,
     "timeout tunnel (timeout client / server when it is unset)",
     "the application: send data or pings more often than the proxy's idle timeout"},
}};

const FixRow* fix_row(std::string_view mechanism) {
  for (const FixRow& row : kFixes) {
    if (row.mechanism == mechanism) return &row;
  }
  return nullptr;
}

enum class Product { envoy, nginx, haproxy };

struct ProductColumn {
  Product product;
  std::string_view name;
  std::string_view FixRow::*cell;
};

constexpr std::array<ProductColumn, 3> kProducts = {{
    {Product::envoy, "Envoy/Istio", &FixRow::envoy},
    {Product::nginx, "nginx", &FixRow::nginx},
    {Product::haproxy, "HAProxy", &FixRow::haproxy},
}};

// Hop::product as the packets said it ("envoy", "istio-envoy", "nginx/1.22.1", "HAProxy").
std::optional<ProductColumn> column_of(std::string product) {
  std::transform(product.begin(), product.end(), product.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (product.find("envoy") != std::string::npos) return kProducts[0];
  if (product.starts_with("nginx")) return kProducts[1];
  if (product.starts_with("haproxy")) return kProducts[2];
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Words and times.

// "2,041.0 ms": times in the summary are read by people, so thousands get a separator.
std::string ms(Nanos d) {
  std::string s = fmt::format("{:.1f}", static_cast<double>(d) / kNanosPerMilli);
  const std::size_t sign = (!s.empty() && s[0] == '-') ? 1 : 0;
  for (std::size_t i = s.find('.'); i > sign + 3; i -= 3) s.insert(i - 3, ",");
  return s + " ms";
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string hop_name(std::size_t i) {
  return fmt::format("hop {}", i);
}

std::string verdict_words(const Verdict& v) {
  if (!v.closed || !v.code) return "nothing yet";
  if (*v.code == wire::kAbnormalClosure) return "1006";
  return fmt::format("{}, {}", *v.code, v.was_clean ? "clean" : "not clean");
}

// ---------------------------------------------------------------------------------------------
// What each browser reports, from the client-facing leg.

using Reports = std::array<Verdict, kAllProfiles.size()>;

std::size_t slot(Profile p) {
  return static_cast<std::size_t>(std::find(kAllProfiles.begin(), kAllProfiles.end(), p) -
                                  kAllProfiles.begin());
}

// judge_all, with Firefox's rule as close-semantics §3 states it from 201 real runs: not clean
// exactly when its Close reply never reached the wire (it read the FIN/RST before queueing it). A
// reply on the wire was queued first, whatever the wire order says, and then it is clean.
Reports browser_reports(const Connection& leg, const CloseFacts& f) {
  Reports r = judge_all(leg);
  Verdict& ff = r[slot(Profile::firefox)];
  if (f.server_close && f.client_close && ff.closed && !ff.was_clean &&
      ff.code == f.server_close->code && ff.code != wire::kAbnormalClosure) {
    ff.was_clean = true;
    ff.why = "its Close reply reached the wire: queued before it read the server side's close";
  }
  return r;
}

bool same_report(const Verdict& a, const Verdict& b) {
  return a.closed == b.closed && a.code == b.code && a.was_clean == b.was_clean;
}

// What a profile reports when nothing went wrong: the server's code, clean.
bool as_expected(const Verdict& v, const CloseFacts& f) {
  return v.closed && f.server_close && v.code == f.server_close->code && v.was_clean;
}

// The names in the sentence: Chrome's two builds are one "Chrome" when they agree; the RFC
// profile is no browser, so the sentence leaves it out (affects still lists it).
std::string browser_names(const std::vector<Profile>& ps) {
  const auto has = [&ps](Profile p) { return std::find(ps.begin(), ps.end(), p) != ps.end(); };
  std::vector<std::string> names;
  if (has(Profile::chrome) && has(Profile::chrome_legacy)) {
    names.push_back("Chrome");
  } else if (has(Profile::chrome)) {
    names.push_back("Chrome 106+");
  } else if (has(Profile::chrome_legacy)) {
    names.push_back("Chrome <= 105");
  }
  if (has(Profile::firefox)) names.push_back("Firefox");
  if (has(Profile::safari)) names.push_back("Safari");
  return join(names, ", ");
}

// "Chrome <= 105 reports 1006; Chrome 106+, Firefox, Safari report 4321, clean": the groups that
// differ from (code, clean) first, since they are the news.
std::string who_reports_what(const Reports& r, const CloseFacts& f) {
  std::vector<std::vector<Profile>> groups;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (kAllProfiles[i] == Profile::rfc) continue;
      if (as_expected(r[i], f) != (pass == 1)) continue;
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const auto& gr) { return same_report(r[slot(gr[0])], r[i]); });
      if (g == groups.end()) {
        groups.push_back({kAllProfiles[i]});
      } else {
        g->push_back(kAllProfiles[i]);
      }
    }
  }
  std::vector<std::string> parts;
  for (const auto& g : groups) {
    const bool one = g.size() == 1 ||
                     (g.size() == 2 && g[1] == Profile::chrome_legacy && g[0] == Profile::chrome);
    parts.push_back(fmt::format("{} {} {}", browser_names(g), one ? "reports" : "report",
                                verdict_words(r[slot(g[0])])));
  }
  return join(parts, "; ");
}

// ---------------------------------------------------------------------------------------------
// The chain: hop facts and where a close started.

struct Context {
  const std::vector<Connection>& legs;
  const Chain& chain;
  CloseFacts f;  // of the client-facing leg, whose verdicts are the chain's
  Reports reports;
  Nanos base = 0;  // the chain's first SYN

  std::string at(const Event* e) const { return ms(e->t - base); }
};

Nanos chain_start(const std::vector<Connection>& legs, const Chain& chain) {
  Nanos start = legs[chain.legs[0]].start;
  for (std::size_t i : chain.legs) start = std::min(start, legs[i].start);
  return start;
}

std::size_t hop_count(const Context& c) {
  // A hop joins two legs: a chain whose hop facts are missing has none to attribute to.
  return std::min(c.chain.hops.size(), c.chain.legs.empty() ? 0 : c.chain.legs.size() - 1);
}

bool originated(const Hop& h, std::string_view what) {
  return std::find(h.originated.begin(), h.originated.end(), what) != h.originated.end();
}

// Did the upstream side of hop i (the server side of leg i + 1) end its TCP with a FIN?
bool upstream_ended_with_fin(const Context& c, std::size_t i) {
  const CloseFacts up = close_facts(c.legs[c.chain.legs[i + 1]]);
  const Event* end = up.server_end();
  return end && reads_as_eof(*end);
}

// An RST the hop made itself: it says so, or it reset while its upstream closed gracefully
// (an abortive close, or the kernel answering bytes it did not read).
bool made_rst(const Context& c, std::size_t i) {
  const Hop& h = c.chain.hops[i];
  if (originated(h, "rst")) return true;
  const bool resets =
      h.closed_with == "rst" || h.closed_with == "fin+rst" || h.closed_with == "rst-on-data";
  return resets && upstream_ended_with_fin(c, i);
}

// The client-most hop that started it, else the server: a close a proxy only forwarded is the
// server's.
template <typename Pred>
std::string first_origin(const Context& c, Pred started_here) {
  for (std::size_t i = 0; i < hop_count(c); ++i) {
    if (started_here(i)) return fmt::format("hop:{}", i);
  }
  return "server";
}

std::string close_frame_origin(const Context& c) {
  return first_origin(c, [&c](std::size_t i) { return originated(c.chain.hops[i], "close"); });
}

std::optional<std::size_t> hop_index(std::string_view origin) {
  if (!origin.starts_with("hop:")) return std::nullopt;
  return static_cast<std::size_t>(std::stoul(std::string(origin.substr(4))));
}

// The hops whose close hold is long enough to be a delayed close.
std::vector<std::size_t> holding_hops(const Context& c) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < hop_count(c); ++i) {
    if (c.chain.hops[i].hold && *c.chain.hops[i].hold >= kLongHold) out.push_back(i);
  }
  return out;
}

// "hop 0 held its FIN 1,003.2 ms after hop 1's, hop 1 1,001.8 ms after the server's".
std::string holds_sentence(const Context& c) {
  std::vector<std::string> parts;
  const std::size_t n = hop_count(c);
  for (std::size_t i = 0; i < n; ++i) {
    const Hop& h = c.chain.hops[i];
    const std::string upstream = i + 1 < n ? hop_name(i + 1) + "'s" : "the server's";
    if (!h.hold) {
      parts.push_back(fmt::format("{} has no hold in the capture", hop_name(i)));
      continue;
    }
    const std::string what = h.closed_with == "rst" ? "its RST" : "its FIN";
    parts.push_back(fmt::format("{}{} {} after {}", hop_name(i),
                                parts.empty() ? " held " + what : "", ms(*h.hold), upstream));
  }
  return join(parts, ", ");
}

// ---------------------------------------------------------------------------------------------
// Fixes.

// One text per product for a hop the packets do not name; the named product's own otherwise.
std::vector<std::string> proxy_fix(const FixRow& row, const Context& c,
                                   const std::vector<std::size_t>& hops) {
  std::vector<std::string> names;
  for (std::size_t i : hops) names.push_back(std::to_string(i));
  const Hop& h = c.chain.hops[hops[0]];
  const std::string who = fmt::format("{} {}", hops.size() > 1 ? "hops" : "hop", join(names, ", "));
  if (const auto col = column_of(h.product)) {
    const std::string_view cell = row.*(col->cell);
    const std::string how = h.product_evidence.empty() ? h.product : h.product_evidence;
    if (cell == kNoKnob) {
      return {fmt::format("{} ({}): no {} knob known for {}", who, how, col->name, row.mechanism)};
    }
    return {fmt::format("{} ({}): {}", who, how, cell)};
  }
  std::vector<std::string> out;
  for (const ProductColumn& col : kProducts) {
    const std::string_view cell = row.*(col.cell);
    if (cell == kNoKnob) continue;
    out.push_back(
        fmt::format("{} (a proxy the packets do not name), if {}: {}", who, col.name, cell));
  }
  if (out.empty()) out.push_back(fmt::format("{}: {}", who, row.server));
  return out;
}

std::vector<std::string> fix_for(std::string_view mechanism, const std::string& origin,
                                 const Context& c) {
  const FixRow* row = fix_row(mechanism);
  if (!row || origin == "client") return {};
  if (mechanism == "close-timeout") {
    // Every holding hop adds to the delay; hops of one product get one text.
    std::vector<std::string> out;
    std::vector<std::size_t> held = holding_hops(c);
    if (held.empty()) return {std::string(row->server)};
    while (!held.empty()) {
      const std::string product = c.chain.hops[held[0]].product;
      std::vector<std::size_t> same, rest;
      for (std::size_t i : held) (c.chain.hops[i].product == product ? same : rest).push_back(i);
      for (std::string& s : proxy_fix(*row, c, same)) out.push_back(std::move(s));
      held = std::move(rest);
    }
    return out;
  }
  if (const auto hop = hop_index(origin)) return proxy_fix(*row, c, {*hop});
  return {std::string(row->server)};
}

// ---------------------------------------------------------------------------------------------
// The mechanisms, each a test on the client-facing leg's facts plus its summary and origin.

bool invalid_close(const CloseFacts& f) {
  if (!f.server_close) return false;
  const std::string& note = f.server_close->note;
  return !f.server_close->code || (!note.empty() && note != close_note::no_status);
}

bool is_open(const Context& c) {
  return std::any_of(c.reports.begin(), c.reports.end(),
                     [](const Verdict& v) { return !v.closed; });
}

// The server side's first FIN/RST ends the browser's wait before its close timeout fires.
const Event* end_in_time(const CloseFacts& f) {
  const Event* end = f.server_end();
  return end && end->t < f.close_timeout_at() ? end : nullptr;
}

bool reset_before_reply(const CloseFacts& f) {
  return f.server_close && f.server_rst && !f.client_close;
}

struct Found {
  std::string mechanism;
  std::string origin;
  std::string summary;
};

Found open_close(const Context& c) {
  const Verdict& chrome = c.reports[slot(Profile::chrome)];
  const Nanos until = c.f.last_seen - c.base;
  return {"open", c.f.server_close ? close_frame_origin(c) : "server",
          fmt::format("open: the capture ends at {} before the close completes ({})", ms(until),
                      chrome.why)};
}

Found protocol_error(const Context& c) {
  const Event* e = c.f.server_error ? c.f.server_error : c.f.server_close;
  return {"protocol-error", close_frame_origin(c),
          fmt::format("protocol-error: the server side broke RFC 6455 at {} ({})", c.at(e),
                      e->note.empty() ? e->text : e->note)};
}

Found no_close_frame(const Context& c) {
  const Event* end = c.f.server_end();
  if (!end || (c.f.client_end && c.f.client_end->t < end->t && !c.f.client_close)) {
    return {"no-close-frame", "client",
            fmt::format("no-close-frame: the client closed TCP at {} without a Close frame from "
                        "either side",
                        c.at(c.f.client_end))};
  }
  const std::string_view what = end_name(*end);
  const std::string origin = first_origin(c, [&c](std::size_t i) {
    const Hop& h = c.chain.hops[i];
    return originated(h, "fin") || originated(h, "rst");
  });
  std::string idle;
  if (const auto hop = hop_index(origin); hop && c.chain.hops[*hop].idle) {
    idle = fmt::format("; {} made it after {} with no byte on either leg (an idle timeout?)",
                       hop_name(*hop), ms(*c.chain.hops[*hop].idle));
  }
  return {"no-close-frame", origin,
          fmt::format("no-close-frame: the server side's {} came at {} with no Close frame before "
                      "it{}",
                      what, c.at(end), idle)};
}

Found frame_after_close(const Context& c) {
  return {"frame-after-close", close_frame_origin(c),
          fmt::format("frame-after-close: the server side sent {} at {}, after its Close at {}",
                      c.f.frame_after_close->kind, c.at(c.f.frame_after_close),
                      c.at(c.f.server_close))};
}

// h2 (§6): the proxy reset the stream right behind the server's Close, before the browser's
// reply: 1006 in Chrome and Firefox alike.
Found stream_rst_before_reply(const Context& c) {
  const Event* rst = c.f.server_rst;
  return {"stream-reset-before-reply",
          first_origin(c, [&c](std::size_t i) { return made_rst(c, i); }),
          fmt::format("stream-reset-before-reply: the server side's {} ({}) came at {}, {} after "
                      "its Close, before the client's Close reply",
                      end_name(*rst), rst->text.empty() ? "no code" : rst->text, c.at(rst),
                      ms(rst->t - c.f.server_close->t))};
}

// h2: the stream ended (END_STREAM, RST_STREAM) with no Close frame: what an idle timeout does
// (HAProxy's timeout tunnel: an empty END_STREAM + RST_STREAM(CANCEL), the connection lives on).
Found stream_idle_timeout(const Context& c) {
  const Event* end = c.f.server_end();
  const std::string origin = first_origin(c, [&c](std::size_t i) {
    const Hop& h = c.chain.hops[i];
    return originated(h, "fin") || originated(h, "rst");
  });
  std::string idle;
  if (const auto hop = hop_index(origin); hop && c.chain.hops[*hop].idle) {
    idle = fmt::format(", {} with no byte on either leg", ms(*c.chain.hops[*hop].idle));
  }
  return {"stream-idle-timeout", origin,
          fmt::format("stream-idle-timeout: the server side ended the stream with {} at {}{}, "
                      "no Close frame before it",
                      end_name(*end), c.at(end), idle)};
}

Found rst_before_reply(const Context& c) {
  const Event* rst = c.f.server_rst;
  return {"reset-before-reply", first_origin(c, [&c](std::size_t i) { return made_rst(c, i); }),
          fmt::format("reset-before-reply: the server side's RST came at {}, {} after its Close, "
                      "and no Close reply from the client reached the wire",
                      c.at(rst), ms(rst->t - c.f.server_close->t))};
}

Found close_timeout(const Context& c) {
  const CloseFacts& f = c.f;
  const Event* end = f.server_end();
  const bool replied = f.client_close && f.client_close->t >= f.server_close->t;
  const Nanos done = f.handshake_done();
  std::string text = replied ? fmt::format("the client's reply went out at {}", ms(done - c.base))
                             : fmt::format("the server's Close came at {}", c.at(f.server_close));
  const bool client_first = f.client_end && (!end || f.client_end->t < end->t);
  if (client_first) {
    text += fmt::format("; it closed TCP itself {} later, before the server side's {}",
                        ms(f.client_end->t - done),
                        end ? fmt::format("{} ({} later)", end_name(*end),
                                          ms(end->t - done))
                            : std::string("FIN (none in the capture)"));
  } else if (end) {
    text += fmt::format(", the server side's {} came {} later",
                        end_name(*end), ms(end->t - done));
  } else {
    text += ", and no FIN from the server side followed";
  }
  const std::vector<std::size_t> held = holding_hops(c);
  std::string origin = held.empty() ? "server" : fmt::format("hop:{}", held[0]);
  std::string holds = hop_count(c) > 0 ? holds_sentence(c) + "; " : "";
  if (held.empty()) {
    holds += hop_count(c) > 0 ? "no hop held its close: the server never closed in time; "
                              : "the server side never closed in time; ";
  }
  return {"close-timeout", origin, holds + "close-timeout: " + text};
}

Found rst_after_reply(const Context& c) {
  const Event* rst = c.f.server_end();
  return {"reset-after-reply", first_origin(c, [&c](std::size_t i) { return made_rst(c, i); }),
          fmt::format("reset-after-reply: the client's reply went out at {}, the server side's "
                      "RST came {} later, before any FIN",
                      c.at(c.f.client_close), ms(rst->t - c.f.client_close->t))};
}

Found fin_first(const Context& c) {
  const Event* fin = c.f.server_end();
  const std::string origin = first_origin(c, [&c](std::size_t i) {
    return originated(c.chain.hops[i], "fin") || originated(c.chain.hops[i], "close");
  });
  std::string reply =
      c.f.client_close
          ? fmt::format("before the client's reply (at {}, already queued)", c.at(c.f.client_close))
          : std::string("and the client's reply never reached the wire");
  std::string later_rst;
  if (c.f.server_rst && c.f.server_rst->t > fin->t) {
    later_rst = fmt::format("; its RST at {} came after the FIN, which the client read first",
                            c.at(c.f.server_rst));
  }
  return {
      "fin-before-reply", origin,
      fmt::format("fin-before-reply: the server side's FIN came at {}, {} after its Close, {}{}",
                  c.at(fin), ms(fin->t - c.f.server_close->t), reply, later_rst)};
}

Found no_status(const Context& c) {
  std::vector<Profile> fives;
  std::size_t browsers = 0;
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i) {
    if (kAllProfiles[i] == Profile::rfc) continue;
    ++browsers;
    if (c.reports[i].closed && c.reports[i].code == wire::kNoStatus)
      fives.push_back(kAllProfiles[i]);
  }
  // Behind another mechanism (a legacy Chrome's 1006) not everyone gets to report 1005.
  const std::string who = fives.size() == browsers ? "everyone reports"
                          : fives.empty() ? "what a browser reports when the close completes"
                                          : browser_names(fives) + " report";
  return {
      "no-status-code", close_frame_origin(c),
      fmt::format("no-status-code: the Close at {} carried no status code, so 1005 is {} (not a "
                  "failure, but not the code an application may expect)",
                  c.at(c.f.server_close), fives.empty() ? who : "what " + who)};
}

Found clean_close(const Context& c) {
  const CloseFacts& f = c.f;
  const Event* end = f.server_end();
  const bool client_started = f.client_close && f.client_close->t < f.server_close->t;
  return {"clean", client_started ? "client" : close_frame_origin(c),
          fmt::format("clean: the closing handshake ended at {}, the server side's {} came {} "
                      "later",
                      ms(f.handshake_done() - c.base), end ? end_name(*end) : "FIN",
                      end ? ms(end->t - f.handshake_done()) : "(none)")};
}

// The mechanisms that apply, the one that decides the browsers' report first: whatever makes a
// browser report 1006 comes before what only makes it "not clean", and that before 1005.
std::vector<Found> mechanisms(const Context& c) {
  const CloseFacts& f = c.f;
  std::vector<Found> out;
  const bool open = is_open(c);
  if (open) out.push_back(open_close(c));
  if (f.server_error || invalid_close(f)) out.push_back(protocol_error(c));
  if (!f.server_close) {
    const Event* end = f.server_end();
    const bool stream_ended =
        f.h2 && end && (end->kind == kind::h2_end_stream || end->kind == kind::h2_rst_stream);
    if (!open) out.push_back(stream_ended ? stream_idle_timeout(c) : no_close_frame(c));
    return out;
  }
  if (f.frame_after_close) out.push_back(frame_after_close(c));
  const Event* end = end_in_time(f);
  if (f.h2 && f.reset_before_reply()) {
    out.push_back(stream_rst_before_reply(c));
  } else if (f.h2 && end && end->kind == kind::h2_rst_stream) {
    // A stream reset after the reply changes no browser's report (§6).
  } else if (reset_before_reply(f)) {
    out.push_back(rst_before_reply(c));
  } else if (!open && !end) {
    out.push_back(close_timeout(c));
  } else if (end && end->kind == kind::rst) {
    out.push_back(rst_after_reply(c));
  } else if (end && (!f.client_close || end->t < f.client_close->t)) {
    out.push_back(fin_first(c));
  }
  if (f.server_close->note == close_note::no_status) out.push_back(no_status(c));
  if (out.empty()) out.push_back(clean_close(c));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Who each mechanism moves (close-semantics §3): a profile is claimed by the first mechanism in
// the list that can move it, so a report is explained once.
bool can_move(std::string_view m, Profile p, const Verdict& v) {
  if (m == "open") return !v.closed;
  if (m == "protocol-error" || m == "no-close-frame" || m == "stream-idle-timeout") return true;
  if (m == "stream-reset-before-reply") return p != Profile::safari;
  if (m == "frame-after-close") return p != Profile::firefox && p != Profile::safari;
  if (m == "reset-before-reply") return p != Profile::safari;
  if (m == "close-timeout") return p == Profile::chrome_legacy;
  if (m == "reset-after-reply") return p == Profile::chrome || p == Profile::chrome_legacy;
  if (m == "fin-before-reply") return p == Profile::firefox;
  return false;
}

std::vector<std::pair<Profile, Verdict>> affects_of(
    std::string_view m, const Context& c, std::array<bool, kAllProfiles.size()>& claimed) {
  std::vector<std::pair<Profile, Verdict>> out;
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i) {
    const Verdict& v = c.reports[i];
    if (m == "no-status-code") {
      // 1005 is the code the server sent, so it is "as expected"; the news is that it is 1005.
      if (v.closed && v.code == wire::kNoStatus) out.emplace_back(kAllProfiles[i], v);
      continue;
    }
    if (claimed[i] || !can_move(m, kAllProfiles[i], v) || as_expected(v, c.f)) continue;
    claimed[i] = true;
    out.emplace_back(kAllProfiles[i], v);
  }
  return out;
}

}  // namespace

std::vector<std::string_view> mechanism_ids() {
  return {kMechanisms.begin(), kMechanisms.end()};
}

std::vector<Diagnosis> diagnose(const std::vector<Connection>& legs, const Chain& chain) {
  if (chain.legs.empty()) return {};
  const Connection& leg = legs[chain.legs[0]];
  const CloseFacts f = close_facts(leg);
  const Context c{legs, chain, f, browser_reports(leg, f), chain_start(legs, chain)};
  std::vector<Diagnosis> out;
  std::array<bool, kAllProfiles.size()> claimed{};
  for (Found& m : mechanisms(c)) {
    Diagnosis d;
    d.affects = affects_of(m.mechanism, c, claimed);
    d.fix = fix_for(m.mechanism, m.origin, c);
    d.summary = std::move(m.summary);
    // The report line belongs with the mechanism that decides it (no-status-code says its own).
    if (out.empty() && m.mechanism != "no-status-code" && m.mechanism != "open") {
      d.summary += "; " + who_reports_what(c.reports, f);
    }
    d.mechanism = std::move(m.mechanism);
    d.origin = std::move(m.origin);
    d.known_reports = known_reports_for(d.mechanism, d.origin);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace closewire
