#include "npusplit/io/split_manifest.h"

#include "npusplit/base/sha256.h"
#include "npusplit/base/text.h"
#include "npusplit/error.h"
#include "npusplit/io/model_io.h"

namespace npusplit {
namespace fs = std::filesystem;

namespace {

// A manifest is a few KiB; anything this large is not one (and is not parsed into memory).
constexpr uintmax_t kMaxManifestBytes = 16u << 20;

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The stage named by SECTION: a plain file name beside the manifest (split never writes anything
// else), whose bytes still hash to what the manifest recorded.
fs::path checked_stage(const nlohmann::json& doc, const char* section, const fs::path& manifest) {
  const std::string what = manifest.string();
  const auto it = doc.find(section);
  if (it == doc.end() || !it->is_object()) fail("{}: not a split manifest (no \"{}\" section)", what, section);
  const auto file = it->find("file");
  if (file == it->end() || !file->is_string() || file->get<std::string>().empty())
    fail("{}: \"{}\" names no file", what, section);
  const std::string name = file->get<std::string>();
  const fs::path rel(name);
  if (rel.has_parent_path() || rel.is_absolute() || name == "." || name == ".." ||
      name.find('\0') != std::string::npos)
    fail("{}: \"{}\" file '{}' is not a file name beside the manifest", what, section, printable(name));
  const auto hash = it->find("sha256");
  if (hash == it->end() || !hash->is_string() || !is_sha256_hex(hash->get<std::string>()))
    fail("{}: \"{}\" has no SHA-256 (written by an older npusplit?); run split again", what, section);
  const fs::path stage = manifest.parent_path() / rel;
  std::error_code ec;
  if (!fs::exists(stage, ec)) fail("{}: {} file {} is missing", what, section, stage.string());
  const std::string actual = sha256_file(stage);
  if (actual != hash->get<std::string>())
    fail("{}: {} ({}) does not match the manifest (SHA-256 {} recorded, {} found); run split again", what,
         section, stage.filename().string(), hash->get<std::string>().substr(0, 12), actual.substr(0, 12));
  return stage;
}

}  // namespace

SplitManifest read_split_manifest(const fs::path& path) {
  const std::string what = path.string();
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxManifestBytes) fail("{}: too large for a split manifest ({} bytes)", what, size);
  const std::string text = read_file(path);  // regular files only: no FIFO hang
  SplitManifest m;
  m.path = path;
  m.doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (m.doc.is_discarded() || !m.doc.is_object()) fail("{}: not a split manifest (not a JSON object)", what);
  m.stage1 = checked_stage(m.doc, "stage1", path);
  m.stage2 = checked_stage(m.doc, "stage2", path);
  if (m.doc.contains("stage2_fused")) m.stage2_fused = checked_stage(m.doc, "stage2_fused", path);
  return m;
}

}  // namespace npusplit
