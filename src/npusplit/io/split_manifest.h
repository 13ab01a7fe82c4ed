#pragma once
// Reading a split manifest back (`<stem>_split.json`). `split` writes stage1, stage2 and the
// manifest as one set, the manifest last, recording each stage's SHA-256. Every command that
// starts from a manifest opens it here, so a stage file that does not belong to its manifest
// (an interrupted or mixed-up set, a stage edited by hand) is refused in one line instead of
// being run with the wrong contract.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>

namespace npusplit {

struct SplitManifest {
  std::filesystem::path path;  // the manifest itself
  std::filesystem::path stage1, stage2;
  std::optional<std::filesystem::path> stage2_fused;
  nlohmann::json doc;  // the whole document, for fields a reader needs beyond the files
};

// Throws npusplit::Error (one line) when the manifest is unreadable, not a split manifest, names
// a stage file that is not a plain file name beside it, or a stage's bytes no longer match the
// recorded hash.
SplitManifest read_split_manifest(const std::filesystem::path& path);

}  // namespace npusplit
