// RLCADE_VECTOR_CLONES before a function with hot element-wise loops compiles it three times,
// for x86-64-v4 (AVX-512), x86-64-v3 (AVX2, FMA) and the baseline, and picks the best the CPU
// supports when the program loads. The build itself stays portable (no -march flags). Results
// can differ in the last bits between CPUs (FMA rounding), never between runs on one machine.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define RLCADE_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RLCADE_VECTOR_CLONES
#endif
