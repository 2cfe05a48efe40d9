// Test helper: reads a fixture of src/pkg/testdata (laid out like an image root).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace coroner::pkg::testing {

inline std::string fixture(std::string_view path) {
  std::ifstream in(std::string(CORONER_PKG_TESTDATA) + "/" + std::string(path), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace coroner::pkg::testing
