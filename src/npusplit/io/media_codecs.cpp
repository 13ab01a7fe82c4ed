#include "npusplit/io/media_codecs.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "npusplit/error.h"

namespace fs = std::filesystem;

namespace npusplit {

std::vector<std::string> media_codecs_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("NPUSPLIT_PLUGIN_DIR"); env && *env) dirs.emplace_back(env);
  Dl_info info{};
  std::error_code ec;
  fs::path self;
  if (::dladdr(reinterpret_cast<void*>(&media_codecs_search_path), &info) != 0 && info.dli_fname && *info.dli_fname)
    self = fs::weakly_canonical(info.dli_fname, ec);
  if (self.empty() || ec) self = fs::read_symlink("/proc/self/exe", ec);
  if (!self.empty()) {
    const fs::path d = self.parent_path();
    dirs.push_back(d.string());
    dirs.push_back((d.parent_path() / "lib" / "npusplit").string());
    dirs.push_back(d.parent_path().string());
  }
#ifdef NPUSPLIT_PLUGIN_INSTALL_DIR
  dirs.emplace_back(NPUSPLIT_PLUGIN_INSTALL_DIR);
#endif
  return dirs;
}

std::string media_codecs_location() {
  for (const auto& d : media_codecs_search_path()) {
    const fs::path p = fs::path(d) / kMediaCodecsFile;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return {};
}

MediaCodecs& load_media_codecs(const std::vector<std::string>& dirs) {
  std::string tried, why;
  for (const auto& d : dirs) {
    const fs::path p = fs::path(d) / kMediaCodecsFile;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      tried += (tried.empty() ? "" : ", ") + d;
      continue;
    }
    // Never unloaded: OpenCV's back ends keep threads and static state.
    void* h = ::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = ::dlerror();
      why = fmt::format("{}: {}", p.string(), e ? e : "cannot be loaded");
      continue;
    }
    auto entry = reinterpret_cast<MediaCodecsEntry>(::dlsym(h, kMediaCodecsEntry));
    if (!entry) {
      why = fmt::format("{}: has no {} entry point", p.string(), kMediaCodecsEntry);
      continue;
    }
    if (MediaCodecs* c = entry()) return *c;
  }
  if (!why.empty()) fail("the image/video plugin cannot be loaded ({})", why);
  fail("the image/video plugin {} was not found (looked in {}; set NPUSPLIT_PLUGIN_DIR)", kMediaCodecsFile, tried);
}

MediaCodecs& media_codecs() {
  static std::once_flag once;
  static MediaCodecs* codecs = nullptr;
  static std::string error;
  std::call_once(once, [] {
    try {
      codecs = &load_media_codecs(media_codecs_search_path());
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!codecs) fail("{}", error);
  return *codecs;
}

}  // namespace npusplit
