#include "harness/report/json_report.h"

#include "harness/analysis/verdict.h"
#include "harness/report/chain_report.h"
#include "harness/report/json_writer.h"

namespace closewire::report {
namespace {

nlohmann::json event_json(const Event& e, Nanos leg_start) {
  nlohmann::json j = {
      {"t", static_cast<double>(e.t) / kNanosPerSecond},
      {"t_ns", e.t},
      {"ms", static_cast<double>(e.t - leg_start) / kNanosPerMilli},
      {"from", to_string(e.from)},
      {"kind", e.kind},
      {"packet", e.packet},
  };
  if (e.kind == kind::close) {
    j["code"] = e.code ? nlohmann::json(*e.code) : nlohmann::json(nullptr);
    j["reason"] = e.reason;
  } else if (!e.text.empty()) {
    j["text"] = e.text;
  }
  if (e.bytes) j["bytes"] = e.bytes;
  if (!e.note.empty()) j["note"] = e.note;
  return j;
}

nlohmann::json verdicts_json(const Connection& leg) {
  nlohmann::json all = nlohmann::json::object();
  const auto verdicts = judge_all(leg);
  for (std::size_t i = 0; i < kAllProfiles.size(); ++i) {
    const Profile p = kAllProfiles[i];
    const Verdict& v = verdicts[i];
    all[std::string(to_string(p))] = {
        {"code", v.code ? nlohmann::json(*v.code) : nlohmann::json(nullptr)},
        {"reason", v.reason},
        {"was_clean", v.was_clean},
        {"closed", v.closed},
        {"why", v.why},
    };
    if (v.error_event) all[std::string(to_string(p))]["error_event"] = *v.error_event;
    if (v.undecided) all[std::string(to_string(p))]["undecided"] = true;
  }
  return all;
}

}  // namespace

nlohmann::json connection_json(const Connection& leg) {
  nlohmann::json events = nlohmann::json::array();
  for (const Event& e : leg.events) events.push_back(event_json(e, leg.start));
  nlohmann::json j = {
      {"index", leg.index},          {"client", leg.client.str()},
      {"server", leg.server.str()},  {"websocket", leg.websocket},
      {"syn_seen", leg.syn_seen},    {"start", static_cast<double>(leg.start) / kNanosPerSecond},
      {"events", std::move(events)},
  };
  if (is_h2(leg)) {
    j["transport"] = "h2";
    if (leg.h2_stream != 0) j["stream"] = leg.h2_stream;
  }
  if (leg.tls) {
    const TlsInfo& tls = *leg.tls;
    auto or_null = [](const std::string& s) {
      return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
    };
    j["tls"] = {{"version", or_null(tls.version)},
                {"cipher", or_null(tls.cipher)},
                {"sni", or_null(tls.sni)},
                {"decrypted", tls.decrypted}};
  }
  j["verdicts"] =
      leg.websocket || undecryptable_tls(leg) ? verdicts_json(leg) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json outcomes_json(const std::vector<Outcome>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : results) {
    nlohmann::json j = {{"expectation", o.expectation->text},
                        {"where", o.expectation->where},
                        {"passed", o.passed}};
    if (o.leg) j["leg"] = o.leg->name;
    if (o.gap_measured) j["measured_ms"] = static_cast<double>(*o.gap_measured) / kNanosPerMilli;
    if (o.gap_expected) j["expected_ms"] = static_cast<double>(*o.gap_expected) / kNanosPerMilli;
    if (!o.passed) {
      j["expected"] = o.expected;
      j["found"] = o.found;
    }
    out.push_back(std::move(j));
  }
  return out;
}

JsonStream::JsonStream(std::FILE* out)
    : out_(out),
      assembler_([this](AssembledChain&& c) { chain(std::move(c)); }),
      chain_pipe_([this](std::vector<Connection>& batch) {
        for (Connection& leg : batch) assembler_.add(std::move(leg));
      }),
      pipe_([this](std::vector<Connection>& batch) {
        for (Connection& leg : batch) {
          write(leg);
          chain_pipe_.push(std::move(leg));
        }
      }) {}

JsonStream::~JsonStream() {
  pipe_.drain();
  chain_pipe_.drain();
  if (chains_) std::fclose(chains_);
}

void JsonStream::begin() {
  std::fputs("{\"captures\":[", out_);
}

void JsonStream::begin_capture(const std::string& file) {
  pipe_.drain();
  if (!first_capture_) std::fputc(',', out_);
  first_capture_ = false;
  first_connection_ = true;
  buffer_ = "{\"file\":";
  append_json_string(buffer_, file);  // a file name need not be UTF-8
  buffer_ += ",\"connections\":[";
  std::fputs(buffer_.c_str(), out_);
}

void JsonStream::connection(const Connection& leg) {
  pipe_.drain();
  write(leg);
  chain_pipe_.push(Connection(leg));
}

void JsonStream::connection(Connection&& leg) {
  pipe_.push(std::move(leg));
}

void JsonStream::write(const Connection& leg) {
  if (!first_connection_) std::fputc(',', out_);
  first_connection_ = false;
  buffer_.clear();
  append_connection_json(buffer_, leg);
  std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
}

void JsonStream::chain(AssembledChain&& a) {
  if (!chains_) chains_ = std::tmpfile();
  if (!chains_) throw std::runtime_error("cannot open a temporary file for the chains");
  chain_buffer_.clear();
  if (!first_chain_) chain_buffer_ += ',';
  append_chain_json(chain_buffer_, a.legs, a.chain, diagnose(a.legs, a.chain));
  std::fwrite(chain_buffer_.data(), 1, chain_buffer_.size(), chains_);
  first_chain_ = false;
}

void JsonStream::end_capture(const CaptureSummary& s, const std::vector<Outcome>* results) {
  // In order: the writing thread is idle once pipe_ drained, so this thread may hand chain_pipe_
  // its last partial batch.
  pipe_.drain();
  chain_pipe_.drain();
  assembler_.finish();
  std::fputs("],\"chains\":[", out_);
  if (chains_) {
    std::rewind(chains_);
    char buf[1 << 16];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, chains_)) > 0;)
      std::fwrite(buf, 1, n, out_);
    std::fclose(chains_);
    chains_ = nullptr;
  }
  first_chain_ = true;
  nlohmann::json summary = {
      {"packets", s.packets},         {"tcp_packets", s.tcp_packets},
      {"connections", s.connections}, {"websockets", s.websockets},
      {"link_type", s.link_type},     {"nanosecond_timestamps", s.nanosecond_timestamps}};
  std::fprintf(out_, "],\"summary\":%s", summary.dump().c_str());
  if (results)
    std::fprintf(out_, ",\"expectations\":%s",
                 outcomes_json(*results)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                     .c_str());
  std::fputc('}', out_);
}

void JsonStream::end_capture_with_error(const std::string& error) {
  pipe_.drain();
  chain_pipe_.drain();
  assembler_ = ChainAssembler([this](AssembledChain&& c) { chain(std::move(c)); });
  if (chains_) std::fclose(chains_);
  chains_ = nullptr;
  first_chain_ = true;
  buffer_ = "],\"error\":";
  append_json_string(buffer_, error);  // it may quote a file name
  buffer_ += '}';
  std::fputs(buffer_.c_str(), out_);
}

void JsonStream::end() {
  pipe_.drain();
  std::fputs("]}\n", out_);
}

}  // namespace closewire::report
