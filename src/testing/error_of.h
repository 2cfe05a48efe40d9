// Tests: the message of the coroner::Error a callable throws, or "no error".
#pragma once

#include <string>

#include "base/error.h"

namespace coroner::testing {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace coroner::testing
