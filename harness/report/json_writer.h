// The hot path of `replay --json`: a connection written straight into a text buffer, with the
// same content as report::connection_json but without building a JSON tree per event (which
// cost most of a large replay's time).
#pragma once

#include <string>
#include <string_view>

#include <vector>

#include "harness/analysis/chain.h"
#include "harness/analysis/connection.h"
#include "harness/analysis/diagnosis.h"

namespace closewire::report {

void append_json_string(std::string& out, std::string_view text);  // quoted, escaped, UTF-8 safe
void append_connection_json(std::string& out, const Connection& leg);
// A chain: {"legs": [Connection::index...], "linked_by", "start_ns", "hops", "diagnosis",
// "notes"} (report::chain_json reads this text back for run's JSON: one writer for both).
void append_chain_json(std::string& out, const std::vector<Connection>& legs, const Chain& chain,
                       const std::vector<Diagnosis>& diagnoses);

}  // namespace closewire::report
