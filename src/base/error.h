// Errors and exit codes. Absence is a value, corruption is an exception (Error), a bug is an
// assertion (CORONER_CHECK). Only cli/main.cc catches Error to print it and exit; scan/ catches it
// per file to turn a corrupt file into a note.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace coroner {

enum class ExitCode : int { kClean = 0, kFindings = 1, kBadInput = 2, kInternal = 3 };

// Malformed input or failed I/O. The message is one line: "<what>: <where>: <detail>".
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Prefixes context to an Error thrown by `f`, as LLVM's createFileError adds the file name:
// with_context("layer 3", [&] { ... }) turns "ELF: bad header" into "layer 3: ELF: bad header".
template <typename F>
auto with_context(std::string_view context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(std::string(context) + ": " + e.what());
  }
}

// A violated internal invariant: a bug in coroner, never a property of the input.
class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& what) : std::logic_error(what) {}
};

[[noreturn]] void check_failed(const char* cond, const char* file, int line);

}  // namespace coroner

#define CORONER_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::coroner::check_failed(#cond, __FILE__, __LINE__))
