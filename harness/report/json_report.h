// Machine output: {"captures":[{"file":..., "connections":[...]}]}, written as it goes so a large
// capture never sits in memory as one JSON tree.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/analysis/analyzer.h"
#include "harness/analysis/chain.h"
#include "harness/analysis/chain_assembler.h"
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
  // Every connection also goes to the capture's chains (stitched and diagnosed on the pipe's thread
  // for a moved one), written with the capture's end ("chains" beside "connections"); they wait in
  // a temporary file meanwhile, so memory does not grow with the capture.
  // ], "chains":[...], "summary":{...}, "expectations":[...]}  (expectations only when given)
  void end_capture(const CaptureSummary& summary, const std::vector<Outcome>* results);
  void end_capture_with_error(const std::string& error);
  void end();  // ]}

 private:
  void write(const Connection& leg);
  void chain(AssembledChain&& chain);

  std::FILE* out_;
  bool first_capture_ = true;
  bool first_connection_ = true;
  std::string buffer_;   // reused for every connection
  std::FILE* chains_ = nullptr;  // this capture's chains so far (a temporary file)
  std::string chain_buffer_;     // reused for every chain
  bool first_chain_ = true;
  // Chains are stitched, diagnosed and written on a third thread, fed by the writing one: on a
  // large capture they would otherwise double the writing thread's work.
  ChainAssembler assembler_;  // fed in SYN order by chain_pipe_ (or after draining both pipes)
  ConnectionPipe chain_pipe_;
  ConnectionPipe pipe_;  // last: its thread feeds chain_pipe_; destroyed (drained) first
};

}  // namespace closewire::report
