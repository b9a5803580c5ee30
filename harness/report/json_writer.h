// The hot path of `replay --json`: a connection written straight into a text buffer, with the
// same content as report::connection_json but without building a JSON tree per event (which
// cost most of a large replay's time).
#pragma once

#include <string>
#include <string_view>

#include "harness/analysis/connection.h"

namespace closewire::report {

void append_json_string(std::string& out, std::string_view text);  // quoted, escaped, UTF-8 safe
void append_connection_json(std::string& out, const Connection& leg);

}  // namespace closewire::report
