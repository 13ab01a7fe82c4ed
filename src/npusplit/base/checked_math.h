#pragma once
// Size arithmetic on values a model file declares. Dims, offsets and lengths come from
// strangers: a product of int64 dims can overflow (undefined behaviour), so every size, FLOP
// and byte count goes through these helpers. Two flavours:
//  - checked_*: std::nullopt on overflow or a negative operand, for sizes that must be exact
//    (allocations, file offsets, validation);
//  - sat_*: clamp at kSaturated, for figures that are only reported (FLOPs, parameter counts),
//    so a hostile model yields "huge", never a wrapped negative number.
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

namespace npusplit {

inline constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

// The largest tensor npusplit accepts, declared or allocated: 2 GiB, protobuf's limit for one
// message (a model whose weights live in its .onnx cannot hold a larger tensor anyway). A
// declared shape above it is refused with a one-line error instead of an allocation bomb.
inline constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;

inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Product of DIMS; nullopt if any dim is negative or the product overflows. Empty = 1 (scalar).
inline std::optional<int64_t> checked_numel(std::span<const int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    auto r = checked_mul(n, d);
    if (!r) return std::nullopt;
    n = *r;
  }
  return n;
}

// Saturating versions: negative operands are treated as 0 (an unknown contributes nothing).
inline int64_t sat_mul(int64_t a, int64_t b) {
  if (a <= 0 || b <= 0) return 0;
  int64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? kSaturated : r;
}

inline int64_t sat_add(int64_t a, int64_t b) {
  if (a < 0) a = 0;
  if (b < 0) b = 0;
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? kSaturated : r;
}

}  // namespace npusplit
