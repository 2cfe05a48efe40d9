#include "explore/mode.h"

namespace coroner::explore {

using scan::FileType;

char type_letter(FileType type) {
  switch (type) {
    case FileType::kRegular:
    case FileType::kHardlink:
      return 'f';
    case FileType::kDirectory:
      return 'd';
    case FileType::kSymlink:
      return 'l';
    case FileType::kCharDevice:
      return 'c';
    case FileType::kBlockDevice:
      return 'b';
    case FileType::kFifo:
      return 'p';
    case FileType::kSocket:
      return 's';
  }
  return '?';
}

std::optional<FileType> type_from_letter(char c) {
  switch (c) {
    case 'f':
      return FileType::kRegular;
    case 'd':
      return FileType::kDirectory;
    case 'l':
      return FileType::kSymlink;
    case 'c':
      return FileType::kCharDevice;
    case 'b':
      return FileType::kBlockDevice;
    case 'p':
      return FileType::kFifo;
    case 's':
      return FileType::kSocket;
    default:
      return std::nullopt;
  }
}

std::string_view type_name(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return "file";
    case FileType::kHardlink:
      return "hardlink";
    case FileType::kDirectory:
      return "directory";
    case FileType::kSymlink:
      return "symlink";
    case FileType::kCharDevice:
      return "char-device";
    case FileType::kBlockDevice:
      return "block-device";
    case FileType::kFifo:
      return "fifo";
    case FileType::kSocket:
      return "socket";
  }
  return "unknown";
}

std::string mode_string(FileType type, uint32_t mode) {
  std::string s(10, '-');
  char t = type_letter(type);
  s[0] = t == 'f' ? '-' : t;
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if (mode & (0400u >> i)) s[1 + i] = rwx[i];
  }
  // The special bits replace the x of their class: lower case when x is also set.
  auto special = [&](uint32_t bit, int pos, char with_x, char without_x) {
    if (mode & bit) s[pos] = s[pos] == 'x' ? with_x : without_x;
  };
  special(04000, 3, 's', 'S');
  special(02000, 6, 's', 'S');
  special(01000, 9, 't', 'T');
  return s;
}

}  // namespace coroner::explore
