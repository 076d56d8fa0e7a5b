#include "agents/torch_setup.h"

#include <dlfcn.h>
#include <torch/utils.h>

namespace rl {

namespace {

template <typename Fn>
Fn find_symbol(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, name));
}

}  // namespace

void set_compute_threads(int threads) {
  torch::set_num_threads(threads);
  if (auto set_blas_threads = find_symbol<void (*)(int)>("openblas_set_num_threads")) {
    set_blas_threads(threads);
  }
}

std::string blas_description() {
  const auto config = find_symbol<char* (*)()>("openblas_get_config");
  if (!config) return "reference BLAS (slow: install libopenblas0-pthread)";
  std::string text = config();  // Starts with "OpenBLAS <version>".
  if (auto get_threads = find_symbol<int (*)()>("openblas_get_num_threads")) {
    text += " (" + std::to_string(get_threads()) + " threads)";
  }
  return text;
}

}  // namespace rl
