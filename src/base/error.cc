#include "base/error.h"

namespace coroner {

void check_failed(const char* cond, const char* file, int line) {
  throw InternalError(std::string("internal error: check failed: ") + cond + " at " + file + ":" +
                      std::to_string(line));
}

}  // namespace coroner
