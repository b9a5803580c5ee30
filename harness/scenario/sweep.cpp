#include "harness/scenario/sweep.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "harness/spec/duration.h"
#include "harness/spec/spec_error.h"
#include "harness/spec/yaml_fields.h"

namespace closewire {
namespace {

std::string location(const std::string& file, const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return file;
  return fmt::format("{}:{}:{}", file, m.line + 1, m.column + 1);
}

// The message of a SpecError without its "FILE[:LINE:COL]: " prefix, and that prefix.
std::pair<std::string, std::string> split_location(const std::string& message,
                                                   const std::string& file) {
  if (!message.starts_with(file + ":")) return {"", message};
  std::size_t i = file.size();
  for (int part = 0; part < 2 && i < message.size() && message[i] == ':'; ++part) {
    std::size_t j = i + 1;
    while (j < message.size() && std::isdigit(static_cast<unsigned char>(message[j]))) ++j;
    if (j == i + 1) break;
    i = j;
  }
  if (message.compare(i, 2, ": ") != 0) return {"", message};
  return {message.substr(0, i), message.substr(i + 2)};
}

std::string value_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

std::string strip_spaces(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }),
          s.end());
  return s;
}

// A value as a number on a scale: durations in ns, or plain numbers.
struct Quantity {
  bool duration = false;
  double value = 0;
};

std::optional<Quantity> quantity(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const double v = std::stod(text, &used);
    if (used == text.size()) return Quantity{false, v};
  } catch (const std::exception&) {
  }
  if (auto d = parse_duration(text)) return Quantity{true, static_cast<double>(*d)};
  return std::nullopt;
}

bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const auto qa = quantity(a), qb = quantity(b);
  return qa && qb && qa->duration == qb->duration && qa->value == qb->value;
}

std::string format_range_value(Quantity q) {
  if (!q.duration) return fmt::format("{}", static_cast<long long>(q.value));
  const auto ns = static_cast<Nanos>(q.value);
  if (ns != 0 && ns % kNanosPerSecond == 0) return fmt::format("{}s", ns / kNanosPerSecond);
  if (ns % kNanosPerMilli == 0) return fmt::format("{}ms", ns / kNanosPerMilli);
  if (ns % 1000 == 0) return fmt::format("{}us", ns / 1000);
  return fmt::format("{}ns", ns);
}

// The dimension's values from a list node or a range scalar.
std::vector<SweepValue> dimension_values(const YAML::Node& n, const std::string& file,
                                         const std::string& key) {
  std::vector<SweepValue> out;
  if (n.IsSequence()) {
    for (const auto& v : n) {
      if (v.IsNull()) throw_spec_error(file, v, fmt::format("{}: an empty value", key));
      out.push_back({value_text(v), v});
    }
    if (out.empty())
      throw_spec_error(file, n, fmt::format("{}: an empty dimension (no values)", key));
    return out;
  }
  if (!n.IsScalar())
    throw_spec_error(file, n,
                     fmt::format("{}: a list of values, or a range like \"0s..1.5s/250ms\"", key));
  try {
    for (auto& text : expand_sweep_range(n.Scalar())) out.push_back({text, YAML::Node(text)});
  } catch (const std::invalid_argument& e) {
    throw_spec_error(file, n, fmt::format("{}: {}", key, e.what()));
  }
  return out;
}

// "KEY=VALUES" from the command line: [a, b] (YAML), A..B/STEP, or a,b,c.
SweepDimension vary_argument(const std::string& arg) {
  const auto bad = [&](const std::string& why) {
    throw SpecError(fmt::format("--vary {}: {}", arg, why));
  };
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    bad("write KEY=VALUES, e.g. client.profile=chrome,firefox");
  SweepDimension d;
  try {
    d.key = parse_sweep_key(strip_spaces(arg.substr(0, eq)));
  } catch (const std::invalid_argument& e) {
    bad(e.what());
  }
  d.where = "--vary " + d.key.text;
  const std::string values = arg.substr(eq + 1);
  if (values.starts_with("[")) {
    YAML::Node list;
    try {
      list = YAML::Load(values);
    } catch (const YAML::Exception& e) {
      bad(e.msg);
    }
    if (!list.IsSequence()) bad("not a list: " + values);
    for (const auto& v : list) d.values.push_back({value_text(v), v});
  } else if (values.find("..") != std::string::npos) {
    try {
      for (auto& text : expand_sweep_range(values)) d.values.push_back({text, YAML::Node(text)});
    } catch (const std::invalid_argument& e) {
      bad(e.what());
    }
  } else {
    std::stringstream in(values);
    for (std::string v; std::getline(in, v, ',');) {
      if (v.empty()) bad("an empty value");
      d.values.push_back({v, YAML::Node(v)});
    }
  }
  if (d.values.empty()) bad("an empty dimension (no values)");
  return d;
}

SweepCondition parse_condition(const YAML::Node& value, const std::string& file,
                               std::size_t dimension, const SweepDimension& dim) {
  SweepCondition c;
  c.dimension = dimension;
  c.text = dim.key.text + ": " + value_text(value);
  if (value.IsSequence()) {
    for (const auto& v : value) c.values.push_back(yaml::scalar(v, file, "a when value"));
  } else {
    std::string text = yaml::scalar(value, file, "a when value");
    static const std::pair<const char*, SweepCondition::Op> kOps[] = {
        {">=", SweepCondition::Op::ge},
        {"<=", SweepCondition::Op::le},
        {"!=", SweepCondition::Op::ne},
        {">", SweepCondition::Op::gt},
        {"<", SweepCondition::Op::lt}};
    for (const auto& [op, kind] : kOps) {
      if (text.starts_with(op)) {
        c.op = kind;
        c.operand = strip_spaces(text.substr(std::string_view(op).size()));
        break;
      }
    }
    if (c.op == SweepCondition::Op::any_of) c.values.push_back(text);
  }
  if (c.op == SweepCondition::Op::any_of || c.op == SweepCondition::Op::ne) {
    // A typo in a rule matches nothing: an error; a dimension --vary replaced may leave a rule's
    // values out on purpose.
    if (dim.where.starts_with("--vary")) return c;
    for (const auto& v : c.op == SweepCondition::Op::ne ? std::vector{c.operand} : c.values) {
      const bool known = std::any_of(dim.values.begin(), dim.values.end(),
                                     [&](const SweepValue& x) { return same_value(x.text, v); });
      if (!known) {
        std::vector<std::string> texts;
        for (const auto& x : dim.values) texts.push_back(x.text);
        throw_spec_error(
            file, value,
            fmt::format("'{}' is not a value of {} ({})", v, dim.key.text, fmt::join(texts, ", ")));
      }
    }
    return c;
  }
  const auto operand = quantity(c.operand);
  if (!operand)
    throw_spec_error(file, value,
                     fmt::format("'{}' is not a duration or a number to compare with", c.operand));
  for (const auto& x : dim.values) {
    const auto q = quantity(x.text);
    if (!q || q->duration != operand->duration) {
      throw_spec_error(file, value,
                       fmt::format("{} cannot compare {}'s value '{}' with {}", c.text,
                                   dim.key.text, x.text, c.operand));
    }
  }
  return c;
}

bool condition_holds(const SweepCondition& c, const std::string& value) {
  using Op = SweepCondition::Op;
  switch (c.op) {
    case Op::any_of:
      return std::any_of(c.values.begin(), c.values.end(),
                         [&](const std::string& v) { return same_value(value, v); });
    case Op::ne:
      return !same_value(value, c.operand);
    default:
      break;
  }
  const auto a = quantity(value), b = quantity(c.operand);
  if (!a || !b) return false;
  switch (c.op) {
    case Op::lt:
      return a->value < b->value;
    case Op::le:
      return a->value <= b->value;
    case Op::gt:
      return a->value > b->value;
    case Op::ge:
      return a->value >= b->value;
    default:
      return false;
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SpecError(fmt::format("{}: cannot read the file", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

YAML::Node parse_text(const std::string& text, const std::string& path) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw_spec_error(path, e.mark, e.msg);
  }
}

}  // namespace

std::vector<std::string> expand_sweep_range(const std::string& text) {
  const auto dots = text.find("..");
  const auto slash = text.find('/', dots == std::string::npos ? 0 : dots);
  if (dots == std::string::npos || slash == std::string::npos)
    throw std::invalid_argument(
        fmt::format("'{}' is not a range FROM..TO/STEP, e.g. 0s..1.5s/250ms", text));
  const std::string a = strip_spaces(text.substr(0, dots));
  const std::string b = strip_spaces(text.substr(dots + 2, slash - dots - 2));
  const std::string s = strip_spaces(text.substr(slash + 1));
  if (s.starts_with("-") || s == "0")
    throw std::invalid_argument(fmt::format("'{}': the step must be more than zero", text));
  const auto qa = quantity(a), qb = quantity(b), qs = quantity(s);
  if (!qa || !qb || !qs || qa->duration != qb->duration || qa->duration != qs->duration) {
    throw std::invalid_argument(
        fmt::format("'{}': FROM, TO and STEP are all durations or all integers", text));
  }
  if (qs->value <= 0)
    throw std::invalid_argument(fmt::format("'{}': the step must be more than zero", text));
  if (qb->value < qa->value)
    throw std::invalid_argument(fmt::format("'{}': TO is before FROM", text));
  const double n = std::floor((qb->value - qa->value) / qs->value + 1e-9) + 1;
  if (n > static_cast<double>(kSweepMaxPointsDefault))
    throw std::invalid_argument(
        fmt::format("'{}' has {:.0f} values: more than {}", text, n, kSweepMaxPointsDefault));
  if (!qa->duration) {
    for (const auto& q : {*qa, *qb, *qs})
      if (q.value != std::floor(q.value))
        throw std::invalid_argument(fmt::format("'{}': numbers in a range are integers", text));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
    out.push_back(
        format_range_value({qa->duration, qa->value + qs->value * static_cast<double>(i)}));
  return out;
}

bool is_sweep_file(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    return root.IsMap() && root["sweep"];
  } catch (const std::exception&) {
    return false;
  }
}

bool sweep_rule_applies(const Sweep& sweep, const SweepRule& rule, const SweepPoint& point) {
  return std::all_of(rule.when.begin(), rule.when.end(), [&](const SweepCondition& c) {
    return condition_holds(c,
                           sweep.dimensions[c.dimension].values[point.value_of[c.dimension]].text);
  });
}

std::string sweep_point_label(const Sweep& sweep, const SweepPoint& point) {
  std::string out;
  for (std::size_t d = 0; d < sweep.dimensions.size(); ++d) {
    out += fmt::format("{}{}={}", d ? ", " : "", sweep.dimensions[d].key.text,
                       sweep.dimensions[d].values[point.value_of[d]].text);
  }
  return out;
}

Sweep load_sweep(const std::string& path, const SweepOptions& options) {
  const std::string text = read_text(path);
  YAML::Node root = parse_text(text, path);
  if (!root.IsMap() || !root["sweep"])
    throw SpecError(
        fmt::format("{}: no 'sweep:' block (closewire run runs a plain scenario)", path));
  const YAML::Node block = root["sweep"];
  if (!block.IsMap()) throw_spec_error(path, block, "sweep is a map {vary, expect}");
  yaml::check_keys(block, {"vary", "expect"}, path, "sweep");

  Sweep sweep;
  sweep.file = path;
  // The base scenario as written: its own errors are its own, not a sweep value's.
  const Scenario base = parse_sweep_point(root, path);
  sweep.name = base.name;
  sweep.about = base.about;

  if (block["vary"]) {
    const YAML::Node vary = block["vary"];
    if (!vary.IsMap())
      throw_spec_error(path, vary, "vary is a map KEY: [VALUES] (or KEY: \"FROM..TO/STEP\")");
    for (const auto& kv : vary) {
      SweepDimension d;
      const std::string key_text = strip_spaces(yaml::key(kv.first, path));
      try {
        d.key = parse_sweep_key(key_text);
      } catch (const std::invalid_argument& e) {
        throw_spec_error(path, kv.first, fmt::format("key '{}': {}", key_text, e.what()));
      }
      d.where = location(path, kv.first.Mark());
      for (const auto& other : sweep.dimensions)
        if (other.key.text == d.key.text)
          throw_spec_error(path, kv.first, fmt::format("'{}' is varied twice", d.key.text));
      d.values = dimension_values(kv.second, path, d.key.text);
      sweep.dimensions.push_back(std::move(d));
    }
  }
  for (const auto& arg : options.vary) {
    SweepDimension d = vary_argument(arg);
    auto same = std::find_if(sweep.dimensions.begin(), sweep.dimensions.end(),
                             [&](const SweepDimension& x) { return x.key.text == d.key.text; });
    if (same != sweep.dimensions.end()) {
      *same = std::move(d);
    } else {
      sweep.dimensions.push_back(std::move(d));
    }
  }
  if (sweep.dimensions.empty())
    throw_spec_error(path, block, "a sweep varies at least one key (vary: {KEY: [VALUES]})");

  // Every value alone in the base scenario: a key that does not exist is an error at the key, a
  // value the scenario cannot take one at the value.
  for (const auto& d : sweep.dimensions) {
    for (const auto& v : d.values) {
      YAML::Node tree = parse_text(text, path);
      try {
        set_sweep_key(tree, d.key, v.node);
      } catch (const std::invalid_argument& e) {
        throw SpecError(fmt::format("{}: key '{}': {}", d.where, d.key.text, e.what()));
      }
      try {
        (void)parse_sweep_point(tree, path);
      } catch (const SpecError& e) {
        const auto [at, message] = split_location(e.what(), path);
        const std::string value_at = location(path, v.node.Mark());
        if (at == value_at || (v.node.Mark().is_null() && d.where.starts_with("--vary"))) {
          throw SpecError(fmt::format("{}: {} = {}: {}",
                                      v.node.Mark().is_null() ? d.where : value_at, d.key.text,
                                      v.text, message));
        }
        throw SpecError(fmt::format("{}: key '{}' = {}: {}", d.where, d.key.text, v.text, message));
      }
    }
  }

  std::size_t total = 1;
  for (const auto& d : sweep.dimensions) {
    if (total > std::numeric_limits<std::size_t>::max() / d.values.size()) {
      total = std::numeric_limits<std::size_t>::max();
      break;
    }
    total *= d.values.size();
  }
  if (total > options.max_points) {
    throw SpecError(fmt::format(
        "{}: the sweep has {} points, more than {} (raise --max-points to run it)", path,
        total == std::numeric_limits<std::size_t>::max() ? std::string("too many")
                                                         : std::to_string(total),
        options.max_points));
  }
  sweep.total_points = total;

  if (block["expect"]) {
    const YAML::Node rules = block["expect"];
    if (!rules.IsSequence()) throw_spec_error(path, rules, "sweep.expect is a list of rules");
    for (YAML::Node item : rules) {
      if (!item.IsMap())
        throw_spec_error(path, item, "a rule is {when: {KEY: VALUE}, EXPECTATION...}");
      SweepRule rule;
      if (item["when"]) {
        const YAML::Node when = item["when"];
        if (!when.IsMap())
          throw_spec_error(path, when, "when is a map {KEY: VALUE | [VALUES] | \">= X\"}");
        for (const auto& kv : when) {
          const std::string key = strip_spaces(yaml::key(kv.first, path));
          auto d = std::find_if(sweep.dimensions.begin(), sweep.dimensions.end(),
                                [&](const SweepDimension& x) { return x.key.text == key; });
          if (d == sweep.dimensions.end()) {
            std::vector<std::string> keys;
            for (const auto& x : sweep.dimensions) keys.push_back(x.key.text);
            throw_spec_error(
                path, kv.first,
                fmt::format("'{}' is not varied (varied: {})", key, fmt::join(keys, ", ")));
          }
          rule.when.push_back(parse_condition(
              kv.second, path, static_cast<std::size_t>(d - sweep.dimensions.begin()), *d));
        }
        item.remove("when");
      }
      if (item.size() == 0)
        throw_spec_error(path, item, "a rule needs an expectation beside 'when'");
      YAML::Node list(YAML::NodeType::Sequence);
      list.push_back(item);
      auto parsed = parse_expectations(list, path);
      for (auto& x : parsed) {
        if (!rule.when.empty()) {
          std::string conditions;
          for (const auto& c : rule.when) conditions += (conditions.empty() ? "" : ", ") + c.text;
          x.text += " (when " + conditions + ")";
        }
        sweep.rules.push_back({rule.when, std::move(x)});
      }
    }
  }

  // The points, the last key varying fastest; this shard's: every shards-th from shard - 1.
  const std::size_t width = std::to_string(total).size();
  for (std::size_t index = 0; index < total; ++index) {
    if (index % options.shards != options.shard - 1) continue;
    SweepPoint p;
    p.index = index;
    p.value_of.resize(sweep.dimensions.size());
    std::size_t rest = index;
    for (std::size_t d = sweep.dimensions.size(); d-- > 0;) {
      p.value_of[d] = rest % sweep.dimensions[d].values.size();
      rest /= sweep.dimensions[d].values.size();
    }
    YAML::Node tree = parse_text(text, path);
    for (std::size_t d = 0; d < sweep.dimensions.size(); ++d)
      set_sweep_key(tree, sweep.dimensions[d].key, sweep.dimensions[d].values[p.value_of[d]].node);
    try {
      p.scenario = parse_sweep_point(tree, path);
    } catch (const SpecError& e) {
      throw SpecError(
          fmt::format("{} (point {}: {})", e.what(), index + 1, sweep_point_label(sweep, p)));
    }
    p.scenario.name = fmt::format("{}-p{:0{}}", base.name, index + 1, width);
    for (const auto& rule : sweep.rules)
      if (sweep_rule_applies(sweep, rule, p)) p.scenario.expectations.push_back(rule.expectation);
    check_expectation_names(p.scenario);
    p.scenario = make_variant(p.scenario, options.variant);
    sweep.points.push_back(std::move(p));
  }
  return sweep;
}

}  // namespace closewire
