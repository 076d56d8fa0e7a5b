// The number format of the gradients' all-reduce (distributed.gradient_dtype): float32 sums
// the gradients as they are; bfloat16 and float16 round each rank's gradients to 16 bits before
// the sum, sum in 16 bits and widen the result back before averaging (PyTorch DDP's
// bf16/fp16 compression hooks), halving the bytes each all-reduce moves at the cost of the
// rounding. float16 keeps 3 more bits of mantissa but overflows above 65504.
#pragma once

#include <string>
#include <vector>

namespace rl::distributed {

enum class GradientDtype { kFloat32, kBfloat16, kFloat16 };

// The config names, in the order of the enum: "float32", "bfloat16", "float16".
const std::vector<std::string>& gradient_dtype_names();
// Throws std::invalid_argument listing the names for any other `name`.
GradientDtype parse_gradient_dtype(const std::string& name);
std::string gradient_dtype_name(GradientDtype dtype);

}  // namespace rl::distributed
