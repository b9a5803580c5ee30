#include "harness/report/json_writer.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "harness/analysis/verdict.h"

namespace closewire::report {
namespace {

void append_double(std::string& out, double v) { fmt::format_to(std::back_inserter(out), "{}", v); }

void append_code(std::string& out, const std::optional<std::uint16_t>& code) {
  if (code) {
    fmt::format_to(std::back_inserter(out), "{}", *code);
  } else {
    out += "null";
  }
}

void append_event(std::string& out, const Event& e, Nanos leg_start) {
  out += "{\"t\":";
  append_double(out, static_cast<double>(e.t) / kNanosPerSecond);
  fmt::format_to(std::back_inserter(out), ",\"t_ns\":{},\"ms\":", e.t);
  append_double(out, static_cast<double>(e.t - leg_start) / kNanosPerMilli);
  out += e.from == Side::client ? ",\"from\":\"client\",\"kind\":" : ",\"from\":\"server\",\"kind\":";
  append_json_string(out, e.kind);
  fmt::format_to(std::back_inserter(out), ",\"packet\":{}", e.packet);
  if (e.kind == kind::close) {
    out += ",\"code\":";
    append_code(out, e.code);
    out += ",\"reason\":";
    append_json_string(out, e.reason);
  } else if (!e.reason.empty()) {
    out += ",\"text\":";
    append_json_string(out, e.reason);
  }
  if (e.bytes) fmt::format_to(std::back_inserter(out), ",\"bytes\":{}", e.bytes);
  if (!e.note.empty()) {
    out += ",\"note\":";
    append_json_string(out, e.note);
  }
  out += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  bool plain = true;
  for (unsigned char c : text) plain = plain && c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  // Rare: control characters, quotes, non-ASCII or invalid UTF-8; nlohmann escapes and replaces.
  out += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_connection_json(std::string& out, const Connection& leg) {
  fmt::format_to(std::back_inserter(out), "{{\"index\":{},\"client\":", leg.index);
  append_json_string(out, leg.client.str());
  out += ",\"server\":";
  append_json_string(out, leg.server.str());
  out += leg.websocket ? ",\"websocket\":true" : ",\"websocket\":false";
  out += leg.syn_seen ? ",\"syn_seen\":true,\"start\":" : ",\"syn_seen\":false,\"start\":";
  append_double(out, static_cast<double>(leg.start) / kNanosPerSecond);
  out += ",\"events\":[";
  for (std::size_t i = 0; i < leg.events.size(); ++i) {
    if (i) out += ',';
    append_event(out, leg.events[i], leg.start);
  }
  out += "],\"verdicts\":";
  if (!leg.websocket) {
    out += "null}";
    return;
  }
  out += '{';
  bool first = true;
  for (Profile p : kAllProfiles) {
    const Verdict v = judge(leg, p);
    if (!first) out += ',';
    first = false;
    append_json_string(out, to_string(p));
    out += ":{\"code\":";
    append_code(out, v.code);
    out += ",\"reason\":";
    append_json_string(out, v.reason);
    out += v.was_clean ? ",\"was_clean\":true" : ",\"was_clean\":false";
    out += v.closed ? ",\"closed\":true,\"why\":" : ",\"closed\":false,\"why\":";
    append_json_string(out, v.why);
    out += '}';
  }
  out += "}}";
}

}  // namespace closewire::report
