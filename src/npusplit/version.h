#pragma once
// The tool's version: `--version`, and part of `prepare`'s up-to-date stamp.
namespace npusplit {
inline constexpr const char* kVersion = "0.1.0";
}
