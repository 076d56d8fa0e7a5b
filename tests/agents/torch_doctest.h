// Include this first, instead of <doctest/doctest.h>, in tests that use LibTorch headers.
// Debian's LibTorch logs through glog, whose CHECK/CHECK_EQ/... macros abort the process and
// would silently replace doctest's assertions of the same names. Loading glog first, then
// dropping its macros, leaves doctest's definitions in force (glog's header is guarded, so
// later torch includes do not bring them back).
#pragma once

#include <c10/util/Logging.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE

#include <doctest/doctest.h>
