#include "scan/index_builder.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#include "base/bytes.h"
#include "base/error.h"
#include "base/text.h"

namespace coroner::scan {

namespace {

constexpr size_t kMaxDuplicateNotes = 20;

std::string size_str(uint64_t n) { return std::to_string(n) + " bytes"; }

}  // namespace

std::string_view IndexBuilder::intern_name(std::string_view s) {
  if (s.empty()) return {};
  for (std::string_view n : names_) {
    if (n == s) return n;
  }
  std::string_view v = out_.arena.add(s);
  if (names_.size() < 64) names_.push_back(v);
  return v;
}

Facts& IndexBuilder::facts_of(Entry& e) {
  if (e.facts == Entry::kNoFacts) {
    e.facts = static_cast<uint32_t>(out_.facts.size());
    out_.facts.emplace_back();
  }
  return out_.facts[e.facts];
}

void IndexBuilder::note(std::string message) {
  if (noted_.insert(message).second) out_.notes.push_back(std::move(message));
}

int64_t IndexBuilder::add(RawEntry& raw) {
  // Context is added only on failure: escaping every name up front costs ~1% of a scan.
  try {
    normalize_path(raw.name, path_);
  } catch (const Error& e) {
    throw Error(escape(raw.name) + ": " + e.what());
  }
  WhiteoutName wh = classify_whiteout(path_);
  if (wh.kind == Whiteout::kFile && wh.target.empty()) {
    // A bare ".wh." names no file. containerd and moby's naive applier join the empty name to
    // the directory and delete the directory itself; overlayfs snapshotters fail the layer with
    // EEXIST. No runtime agrees, so we keep the scan going and say so.
    note(escape(path_) + ": whiteout with an empty name ignored (containerd would delete the " +
         "parent directory, overlayfs snapshotters refuse the layer)");
    return -1;
  }
  Entry e;
  e.path = out_.arena.add(wh.kind == Whiteout::kNone ? std::string_view(path_) : wh.target);
  e.whiteout = wh.kind;
  e.type = raw.type;
  if (raw.type == FileType::kHardlink) {
    with_context(escape(raw.name), [&] {
      with_context("hardlink target " + escape(raw.link), [&] { normalize_path(raw.link, link_); });
    });
    e.link = out_.arena.add(link_);
  } else if (raw.type == FileType::kSymlink) {
    e.link = out_.arena.add(raw.link);
  }
  e.uname = intern_name(raw.uname);
  e.gname = intern_name(raw.gname);
  e.size = raw.type == FileType::kRegular ? raw.size : 0;
  e.data_offset = raw.data_offset;
  e.mtime = raw.mtime;
  e.uid = raw.uid;
  e.gid = raw.gid;
  e.mode = raw.mode & 07777;
  if (raw.type == FileType::kCharDevice || raw.type == FileType::kBlockDevice) {
    Facts& f = facts_of(e);
    f.dev_major = raw.dev_major;
    f.dev_minor = raw.dev_minor;
  }
  if (!raw.xattrs.empty()) facts_of(e).xattrs = std::move(raw.xattrs);
  // Whiteouts only act on lower layers (OCI image-spec layer.md), so they are no duplicates.
  if (wh.kind == Whiteout::kNone) {
    path_hashes_.emplace_back(std::hash<std::string_view>{}(e.path),
                              static_cast<uint32_t>(out_.entries.size()));
  }
  out_.entries.push_back(e);
  return static_cast<int64_t>(out_.entries.size() - 1);
}

bool IndexBuilder::wants_whole(Entry& e, std::span<const std::byte> head) {
  e.kind = classify_content(head, e.size);
  capture_ = options_.capture && options_.capture(e.path, e.size);
  if (!capture_ && e.size <= options_.capture_scripts_up_to &&
      (e.kind == ContentKind::kScript || (e.kind == ContentKind::kText && (e.mode & 0111)))) {
    capture_ = true;
  }
  if (capture_ && e.size > options_.max_capture) {
    note(escape(e.path) + ": not captured: " + size_str(e.size) + " is over the limit of " +
         size_str(options_.max_capture));
    capture_ = false;
  }
  if (capture_) {
    // Counted by the declared size, before the content is read: an upper bound.
    uint64_t before = captured_total_->fetch_add(e.size);
    if (before + e.size > options_.max_captured_total) {
      captured_total_->fetch_sub(e.size);
      note(escape(e.path) + ": not captured: the scan keeps at most " +
           size_str(options_.max_captured_total) +
           " of captured files over all layers, and that is used up");
      capture_ = false;
    }
  }
  parse_elf_ = e.kind == ContentKind::kElf;
  if (parse_elf_ && e.size > options_.max_elf) {
    note(escape(e.path) + ": ELF not parsed: " + size_str(e.size) + " is over the limit of " +
         size_str(options_.max_elf));
    parse_elf_ = false;
  }
  return capture_ || parse_elf_;
}

void IndexBuilder::use_content(Entry& e, std::span<const std::byte> content, bool whole) {
  if (e.kind == ContentKind::kScript) facts_of(e).first_line = std::string(first_line(content));
  if (parse_elf_ && whole) {
    Facts& f = facts_of(e);
    // The per-file catch boundary: a corrupt ELF is a fact (elf-corrupt), not a failed scan.
    try {
      f.elf = elf::parse(content);
    } catch (const Error& err) {
      f.elf_error = err.what();
    }
  }
  if (capture_ && whole) out_.captured[std::string(e.path)] = std::string(as_chars(content));
}

void IndexBuilder::use_elf_stream(Entry& e) {
  elf::StreamResult r = elf_.finish();
  if (r.info) {
    facts_of(e).elf = std::move(*r.info);
  } else if (!r.error.empty()) {
    facts_of(e).elf_error = std::move(r.error);  // as elf::parse's Error in use_content
  } else {
    // As for a file over max_elf: said, not guessed (no elf-corrupt, no partial facts).
    note(escape(e.path) + ": ELF not parsed: it " + r.not_kept);
  }
}

void IndexBuilder::drop_whole() {
  whole_.release();
  elf_.release();
  std::string().swap(buf_);
}

void IndexBuilder::end_scanner(int64_t i) {
  size_t before = out_.content_matches.size();
  scanner_->end(out_.content_matches);
  for (size_t k = before; k < out_.content_matches.size(); ++k) {
    out_.content_matches[k].entry = static_cast<uint32_t>(i);
  }
}

void IndexBuilder::finish() {
  // The buffers of whole contents are not needed once the layer is read.
  whole_.release();
  elf_.release();
  std::string().swap(buf_);
  // Vector growth leaves up to half of the capacity unused; one copy at the end returns it.
  out_.entries.shrink_to_fit();
  out_.facts.shrink_to_fit();
  std::vector<std::pair<std::string_view, uint32_t>> dups;
  std::sort(path_hashes_.begin(), path_hashes_.end());
  for (size_t i = 0; i < path_hashes_.size();) {
    size_t j = i + 1;
    while (j < path_hashes_.size() && path_hashes_[j].first == path_hashes_[i].first) ++j;
    if (j - i > 1) {
      // Equal hashes: count equal paths (a collision of different paths is not a duplicate).
      std::vector<std::string_view> paths;
      for (size_t k = i; k < j; ++k) paths.push_back(out_.entries[path_hashes_[k].second].path);
      std::sort(paths.begin(), paths.end());
      for (size_t a = 0; a < paths.size();) {
        size_t b = a + 1;
        while (b < paths.size() && paths[b] == paths[a]) ++b;
        if (b - a > 1) dups.emplace_back(paths[a], static_cast<uint32_t>(b - a));
        a = b;
      }
    }
    i = j;
  }
  std::sort(dups.begin(), dups.end());
  for (size_t i = 0; i < dups.size() && i < kMaxDuplicateNotes; ++i) {
    note(escape(dups[i].first) + ": written " + std::to_string(dups[i].second) +
         " times in this layer; the last one wins");
  }
  if (dups.size() > kMaxDuplicateNotes) {
    note(std::to_string(dups.size() - kMaxDuplicateNotes) + " more paths written several times");
  }
}

}  // namespace coroner::scan
