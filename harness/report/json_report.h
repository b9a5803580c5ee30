// Machine output: {"captures":[{"file":..., "connections":[...]}]}, written as it goes so a large
// capture never sits in memory as one JSON tree.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/chain.h"
#include "harness/analysis/connection.h"
#include "harness/analysis/diagnosis.h"
#include "harness/expect/evaluate.h"
#include "harness/report/connection_pipe.h"

namespace closewire::report {

nlohmann::json connection_json(const Connection& leg);
nlohmann::json outcomes_json(const std::vector<Outcome>& results);

class JsonStream {
 public:
  explicit JsonStream(std::FILE* out);
  ~JsonStream();
  void begin();                                 // {"captures":[
  void begin_capture(const std::string& file);  // {"file":..., "connections":[
  void connection(const Connection& leg);       // written now
  void connection(Connection&& leg);            // written on the pipe's thread, in order
  // A chain of this capture, written with the capture's end ("chains" beside "connections"); kept
  // in a temporary file meanwhile, so memory does not grow with the capture.
  void chain(const std::vector<Connection>& legs, const Chain& chain,
             const std::vector<Diagnosis>& diagnoses);
  // ], "chains":[...], "summary":{...}, "expectations":[...]}  (expectations only when given)
  void end_capture(const CaptureSummary& summary, const std::vector<Outcome>* results);
  void end_capture_with_error(const std::string& error);
  void end();  // ]}

 private:
  void write(const Connection& leg);

  std::FILE* out_;
  bool first_capture_ = true;
  bool first_connection_ = true;
  std::string buffer_;   // reused for every connection
  ConnectionPipe pipe_;  // drained before anything else is written
  std::FILE* chains_ = nullptr;  // this capture's chains so far (a temporary file)
  bool first_chain_ = true;
};

}  // namespace closewire::report
