// coroner's entry point: the only place that prints errors and chooses the exit code.
// 0 clean, 1 findings (grep: no match), 2 bad input or usage, 3 internal error.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "base/error.h"
#include "cli/commands.h"
#include "cli/options.h"

namespace {

// Messages escape hostile bytes where they are built (base/text.h escape); as a last guard, no
// control byte reaches the terminal (escaping everything again would double the backslashes).
std::string defang(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out += c;
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", u);
    out += buf;
  }
  return out;
}

int fail(coroner::ExitCode code, const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "coroner: %s\n", defang(message).c_str());
  return static_cast<int>(code);
}

}  // namespace

int main(int argc, char** argv) {
  using coroner::ExitCode;
  try {
    coroner::cli::ParseOutcome parsed = coroner::cli::parse_command_line(argc, argv);
    if (!parsed.request) {
      std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
      return parsed.exit_code;
    }
    coroner::cli::CommandResult result = coroner::cli::run_command(*parsed.request);
    if (std::fflush(stdout) != 0)
      return fail(ExitCode::kBadInput, "cannot write to standard output");
    for (const std::string& w : result.warnings) {
      std::fprintf(stderr, "coroner: warning: %s\n", defang(w).c_str());
    }
    return result.exit_code;
  } catch (const coroner::Error& e) {
    return fail(ExitCode::kBadInput, e.what());
  } catch (const coroner::InternalError& e) {
    return fail(ExitCode::kInternal, e.what());
  } catch (const std::exception& e) {
    return fail(ExitCode::kInternal, std::string("internal error: ") + e.what());
  }
}
