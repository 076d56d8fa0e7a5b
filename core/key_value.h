// The one rule for reading parameter values written as text: env parameters given as
// KEY=VALUE on a command line (rlwatch --param, rlserve --param) and every scalar a config
// holds (rltrain --set env.params.KEY=VALUE, or the same key in the YAML file). A value is read
// as the type its parameter declares (ParamSpec::default_value fixes it):
//
//   bool    true or false, in any letter case (True, FALSE). Nothing else: not 1/0, not yes/no.
//   int     a decimal integer (500, -3), or a number in float notation whose value is an exact
//           integer (1e3, 5.0, 2.5e2); 1.5 or 1e30 are errors.
//   float   a finite decimal number in any notation (0.5, 1e-4, 3); nan and inf are errors.
//   string  the text after the first '=' as given (it may hold '='); parameters with a fixed
//           set of choices accept only those.
//
// Lists: no env parameter takes one, so [64, 64] is an error for bool, int and float. Config
// settings that are lists (agent.hidden_sizes) are YAML lists whose items follow the int rule.
// An argument without '=' or with an empty key, an unknown key (the message lists the valid
// ones), a value of the wrong type or outside the declared range is an error naming the key
// and the value. Numeric command-line flags (--seed, --episodes, ...) use the same int and
// float rules.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/params.h"

namespace rl {

// The scalar readers of the rule; nullopt when `text` is not a value of that type. The config
// reader (core/config.cpp) reads every bool, int and float with these.
std::optional<bool> parse_bool(const std::string& text);
std::optional<int64_t> parse_int(const std::string& text);
std::optional<double> parse_float(const std::string& text);

// "KEY=VALUE" split at the first '='; nullopt when there is no '=' or the key is empty.
std::optional<std::pair<std::string, std::string>> split_key_value(const std::string& argument);

// Reads `text` as a value of `spec`'s type by the rule above (ranges and choices are checked
// by Params::resolve). Throws std::invalid_argument "KEY: expected an integer (e.g. 500 or
// 1e3), got 'x'".
ParamValue parse_param_text(const ParamSpec& spec, const std::string& text);

// Reads "KEY=VALUE" arguments of `flag` (e.g. "--param") as parameters of `specs`, declared
// by `owner` (e.g. an env id). Returns only the given keys (a key given twice: the last one
// wins). Throws std::invalid_argument naming the flag, the argument and what is valid.
std::map<std::string, ParamValue> parse_key_values(const std::vector<ParamSpec>& specs,
                                                   const std::vector<std::string>& arguments,
                                                   const std::string& flag,
                                                   const std::string& owner);

// parse_key_values with the declared parameters of registered env `env_id` (an unknown id
// throws the registry's error).
std::map<std::string, ParamValue> parse_env_params(const std::string& env_id,
                                                   const std::vector<std::string>& arguments,
                                                   const std::string& flag);

}  // namespace rl
