#include "agents/distributed/gradient_dtype.h"

#include <stdexcept>

namespace rl::distributed {

const std::vector<std::string>& gradient_dtype_names() {
  static const std::vector<std::string> names{"float32", "bfloat16", "float16"};
  return names;
}

GradientDtype parse_gradient_dtype(const std::string& name) {
  const auto& names = gradient_dtype_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<GradientDtype>(i);
  }
  throw std::invalid_argument("gradient dtype '" + name +
                              "' is not one of float32, bfloat16, float16");
}

std::string gradient_dtype_name(GradientDtype dtype) {
  return gradient_dtype_names().at(static_cast<size_t>(dtype));
}

}  // namespace rl::distributed
