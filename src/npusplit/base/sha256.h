#pragma once
// SHA-256 (OpenSSL's EVP), for the manifest's record of which stage files belong to it.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace npusplit {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex();  // finishes the digest: call once

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(const std::string& bytes);
std::string sha256_file(const std::filesystem::path& path);  // npusplit::Error if unreadable

}  // namespace npusplit
