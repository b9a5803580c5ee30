#include "harness/analysis/chain.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace closewire {
namespace {

// On an h2 stream leg the stream's END_STREAM and RST_STREAM end it as a FIN and an RST end a
// TCP leg (only h2 stream legs carry them).
constexpr std::initializer_list<std::string_view> kFin = {kind::fin, kind::h2_end_stream};
constexpr std::initializer_list<std::string_view> kRst = {kind::rst, kind::h2_rst_stream};
constexpr std::initializer_list<std::string_view> kFinOrRst = {kind::fin, kind::rst,
                                                               kind::h2_end_stream,
                                                               kind::h2_rst_stream};

const Event* first_of(const Connection& c, Side from, std::initializer_list<std::string_view> kinds,
                      Nanos after = std::numeric_limits<Nanos>::min()) {
  for (const Event& e : c.events) {
    if (e.from != from || e.t < after) continue;
    for (auto k : kinds)
      if (e.kind == k) return &e;
  }
  return nullptr;
}

bool loopback(const std::string& ip) {
  return ip.starts_with("127.") || ip == "::1";
}

// `up` can be the leg a proxy opened for `down`: its request went out while the proxy waited for
// its answer to `down`'s request, and its 101 came back before `down`'s.
bool nested(const UpgradeWindow& down, const UpgradeWindow& up) {
  return down.request <= up.request && up.response <= down.response;
}

// The frames a relay forwards keep their order across the hop: the server's Close reaches the
// upstream leg first, the client's Close the downstream leg first.
bool frames_agree(const Connection& down, const Connection& up) {
  const Event* down_server = first_of(down, Side::server, {kind::close});
  const Event* up_server = first_of(up, Side::server, {kind::close});
  if (down_server && up_server) {
    if (down_server->code != up_server->code || down_server->reason != up_server->reason)
      return false;
    if (up_server->t > down_server->t) return false;
  }
  const Event* down_client = first_of(down, Side::client, {kind::close});
  const Event* up_client = first_of(up, Side::client, {kind::close});
  if (down_client && up_client && down_client->t > up_client->t) return false;
  return true;
}

// A proxy listens on one address and connects to another: two legs to the same server endpoint
// are two clients of one server, never one chain.
bool could_follow(const Connection& down, const UpgradeWindow& dw, const Connection& up,
                  const UpgradeWindow& uw) {
  return nested(dw, uw) && !(down.server == up.server) && up.start >= down.start;
}

std::string leg_name(std::size_t index, const Connection& c) {
  return fmt::format("leg {} ({} → {})", index + 1, c.client.str(), c.server.str());
}

}  // namespace

UpgradeWindow upgrade_window(const Connection& c) {
  std::optional<Nanos> request, response;
  for (const Event& e : c.events) {
    if (e.kind != kind::upgrade) continue;
    auto& t = e.from == Side::client ? request : response;
    if (!t) t = e.t;
  }
  return UpgradeWindow{request.value_or(c.start), response.value_or(c.start)};
}

Hop hop_facts(const Connection& down, const Connection& up) {
  Hop h;
  const Event* upstream_close = first_of(up, Side::server, kFinOrRst);
  // The hop closed its upstream leg first (an idle timeout closes both sides): the server's FIN
  // answers the hop, it is no close the hop passed on.
  const Event* hop_closed_upstream = first_of(up, Side::client, kFinOrRst);
  const Event* client_closed = first_of(down, Side::client, kFinOrRst);
  if (upstream_close && hop_closed_upstream && hop_closed_upstream->t <= upstream_close->t &&
      !(client_closed && client_closed->t <= hop_closed_upstream->t))
    upstream_close = nullptr;
  const Event* down_fin = first_of(down, Side::server, kFin);
  const Event* down_rst = first_of(down, Side::server, kRst);
  const Event* down_first =
      !down_fin ? down_rst : !down_rst ? down_fin : down_fin->t <= down_rst->t ? down_fin : down_rst;
  if (upstream_close && down_first && down_first->t >= upstream_close->t)
    h.hold = down_first->t - upstream_close->t;

  if (down_fin && down_rst && down_rst->t >= down_fin->t) {
    // An RST after its FIN: the kernel's answer to bytes that came after the close, or an
    // abortive close of its own.
    bool data_after_fin = false;
    for (const Event& e : down.events) {
      if (e.from == Side::client && e.t >= down_fin->t && e.t <= down_rst->t &&
          (e.kind.starts_with("ws.") || e.kind.starts_with("http.")))
        data_after_fin = true;
    }
    h.closed_with = data_after_fin ? "rst-on-data" : "fin+rst";
  } else if (down_rst) {
    h.closed_with = "rst";
  } else if (down_fin) {
    h.closed_with = "fin";
  }

  // Originated: sent downstream with nothing before it from upstream (nor a close from the
  // client it could be answering).
  const Event* client_close = first_of(down, Side::client, kFinOrRst);
  const Event* down_close_frame = first_of(down, Side::server, {kind::close});
  const Event* up_close_frame = first_of(up, Side::server, {kind::close});
  Nanos originated_at = std::numeric_limits<Nanos>::max();
  auto answered = [&](const Event& e, const Event* counterpart) {
    return (counterpart && counterpart->t <= e.t) || (client_close && client_close->t <= e.t);
  };
  if (down_close_frame && !(up_close_frame && up_close_frame->t <= down_close_frame->t)) {
    h.originated.push_back("close");
    originated_at = std::min(originated_at, down_close_frame->t);
  }
  if (down_fin && !answered(*down_fin, upstream_close)) {
    h.originated.push_back("fin");
    originated_at = std::min(originated_at, down_fin->t);
  }
  const Event* upstream_rst = upstream_close ? first_of(up, Side::server, kRst) : nullptr;
  if (down_rst && !answered(*down_rst, upstream_rst)) {
    h.originated.push_back("rst");
    originated_at = std::min(originated_at, down_rst->t);
  }
  // The idle time says "timeout" when the hop itself ended the connection (a FIN or Close of its
  // own); an RST behind a forwarded FIN is an abortive close, not a timeout.
  const bool ended_it = std::find(h.originated.begin(), h.originated.end(), "fin") !=
                            h.originated.end() ||
                        std::find(h.originated.begin(), h.originated.end(), "close") !=
                            h.originated.end();
  if (ended_it) {
    std::optional<Nanos> last_data;
    for (const Connection* c : {&down, &up}) {
      for (const Event& e : c->events) {
        if (e.t < originated_at && (e.kind.starts_with("ws.") || e.kind.starts_with("http.")))
          last_data = std::max(last_data.value_or(e.t), e.t);
      }
    }
    if (last_data) h.idle = originated_at - *last_data;
  }

  // The product: what the 101 it answered says about itself, when upstream's did not say it.
  const Handshake& mine = down.handshake;
  if (!mine.server.empty() && mine.server != up.handshake.server) {
    const std::string& s = mine.server;
    h.product = s.starts_with("istio-envoy") ? "istio-envoy"
                : s.starts_with("envoy")     ? "envoy"
                : s.starts_with("nginx")     ? "nginx"
                                             : s.substr(0, s.find('/'));
    h.product_evidence = fmt::format("Server: {} in its 101", s);
  } else if (mine.envoy_fields && !up.handshake.envoy_fields) {
    h.product = "envoy";
    h.product_evidence = "x-envoy-* fields in its 101";
  }
  return h;
}

Chain chain_of(const std::vector<Connection>& all, std::vector<std::size_t> legs) {
  Chain c;
  c.legs = std::move(legs);
  if (c.legs.size() > 1) c.linked_by = "topology";
  for (std::size_t i = 0; i + 1 < c.legs.size(); ++i)
    c.hops.push_back(hop_facts(all[c.legs[i]], all[c.legs[i + 1]]));
  return c;
}

std::vector<Chain> find_chains(const std::vector<Connection>& legs) {
  // The WebSocket legs (a 101 answered an upgrade request: both are on the wire), in request
  // order.
  std::vector<std::size_t> ws;
  std::map<std::size_t, UpgradeWindow> window;
  for (std::size_t i = 0; i < legs.size(); ++i) {
    if (!legs[i].websocket) continue;
    ws.push_back(i);
    window[i] = upgrade_window(legs[i]);
  }
  std::stable_sort(ws.begin(), ws.end(),
                   [&](std::size_t a, std::size_t b) { return window[a].request < window[b].request; });

  std::map<std::size_t, std::size_t> upstream_of;    // down leg -> up leg
  std::map<std::size_t, std::size_t> downstream_of;  // up leg -> down leg
  std::map<std::size_t, std::string> how;            // up leg -> "key" / "timing"
  std::map<std::size_t, std::vector<std::string>> notes;  // by leg, moved to its chain

  // 1. The same Sec-WebSocket-Key: each leg follows the latest earlier leg of that key whose
  // window holds its own (a nesting); two such chains open at once is an ambiguity.
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i : ws) {
    if (!legs[i].handshake.key.empty()) by_key[legs[i].handshake.key].push_back(i);
  }
  for (const auto& [key, group] : by_key) {
    if (group.size() < 2) continue;
    for (std::size_t k = 1; k < group.size(); ++k) {
      const std::size_t up = group[k];
      std::vector<std::size_t> candidates;
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t down = group[j];
        if (!upstream_of.count(down) &&
            could_follow(legs[down], window[down], legs[up], window[up]))
          candidates.push_back(down);
      }
      // Of nested candidates the innermost (latest request) is the next hop in; several that
      // are not nested in each other are unrelated connections reusing the key.
      std::vector<std::size_t> innermost;
      for (std::size_t c : candidates) {
        bool holds_another = false;
        for (std::size_t d : candidates)
          holds_another = holds_another || (d != c && nested(window[c], window[d]));
        if (!holds_another) innermost.push_back(c);
      }
      if (innermost.size() == 1) {
        upstream_of[innermost[0]] = up;
        downstream_of[up] = innermost[0];
        how[up] = "key";
      } else if (innermost.size() > 1) {
        std::string names;
        for (std::size_t c : innermost) names += (names.empty() ? "" : " or ") + leg_name(c, legs[c]);
        notes[up].push_back(fmt::format("ambiguous: {} could follow {} (the same key, at the same "
                                        "time); not linked",
                                        leg_name(up, legs[up]), names));
      }
    }
  }

  // 2. No shared key (a proxy that makes its own, a client with none): the request windows, the
  // target and the relayed frames must all agree, with exactly one candidate either way.
  for (std::size_t up : ws) {
    if (downstream_of.count(up)) continue;
    std::vector<std::size_t> candidates;
    for (std::size_t down : ws) {
      if (down == up || upstream_of.count(down)) continue;
      const auto& dk = legs[down].handshake.key;
      const auto& uk = legs[up].handshake.key;
      if (!dk.empty() && dk == uk) continue;  // decided (or left ambiguous) by the key
      if (could_follow(legs[down], window[down], legs[up], window[up]) &&
          legs[down].handshake.target == legs[up].handshake.target &&
          frames_agree(legs[down], legs[up]))
        candidates.push_back(down);
    }
    if (candidates.size() == 1) {
      upstream_of[candidates[0]] = up;
      downstream_of[up] = candidates[0];
      how[up] = "timing";
    } else if (candidates.size() > 1) {
      notes[up].push_back(fmt::format("ambiguous: {} could follow {} legs by timing; not linked",
                                      leg_name(up, legs[up]), candidates.size()));
    }
  }

  std::vector<Chain> chains;
  auto by_index = ws;
  std::sort(by_index.begin(), by_index.end());
  for (std::size_t first : by_index) {
    if (downstream_of.count(first)) continue;  // a later leg of some chain
    Chain c;
    for (std::size_t i = first;;) {
      c.legs.push_back(i);
      for (auto& n : notes[i]) c.notes.push_back(std::move(n));
      const auto next = upstream_of.find(i);
      if (next == upstream_of.end()) break;
      i = next->second;
    }
    for (std::size_t k = 0; k + 1 < c.legs.size(); ++k) {
      const Connection& down = legs[c.legs[k]];
      const Connection& up = legs[c.legs[k + 1]];
      c.hops.push_back(hop_facts(down, up));
      const std::string& by = how[c.legs[k + 1]];
      if (c.linked_by.empty() || (by == "timing" && c.linked_by == "key")) c.linked_by = by;
      // A proxy's two legs meet at its address: off loopback, a mismatch means a leg between
      // them is not in the capture.
      if (down.server.ip != up.client.ip && !loopback(down.server.ip) && !loopback(up.client.ip)) {
        c.notes.push_back(fmt::format(
            "gap: {} ends at {}, the next leg starts from {}: a leg between them may be missing",
            leg_name(c.legs[k], down), down.server.ip, up.client.ip));
      }
    }
    for (std::size_t i : c.legs) {
      const Connection& leg = legs[i];
      if (!leg.syn_seen)
        c.notes.push_back(fmt::format("{}: the capture began after its SYN", leg_name(i, leg)));
      if (!first_of(leg, Side::client, kFinOrRst) &&
          !first_of(leg, Side::server, kFinOrRst))
        c.notes.push_back(fmt::format("{}: still open when the capture ends", leg_name(i, leg)));
    }
    chains.push_back(std::move(c));
  }
  return chains;
}

}  // namespace closewire
