// The figures the HTML report draws beyond the findings: the layer timeline (from
// explore::history_rows) and a size summary of the merged filesystem for the treemap, folded so
// the page stays small whatever the image (a few thousand boxes at most).
#pragma once

#include <cstdint>
#include <vector>

#include "explore/open_image.h"
#include "fs/tree.h"
#include "report/report.h"

namespace coroner::report {

struct FilesystemLimits {
  uint32_t max_depth = 8;        // directories deeper than this are shown folded
  uint32_t max_children = 24;    // per directory; the rest become one "other" box
  double min_fraction = 0.0005;  // entries smaller than this share of the image fold too
};

// Bytes and file counts of every present directory, folded by `limits`. Hardlinks count once
// (the path that holds the content; the others add 0 bytes).
Filesystem summarize_filesystem(const fs::Tree& tree, const FilesystemLimits& limits = {});

// One row per layer (bottom first): digest, history step, sizes, changes, wasted bytes.
std::vector<LayerRow> layer_rows(const explore::Image& image);

}  // namespace coroner::report
