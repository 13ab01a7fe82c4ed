#pragma once
// Names in a model file are bytes from strangers: they may be invalid UTF-8, hold control
// characters or be megabytes long. printable() makes one safe to put in a one-line message.
#include <string>
#include <string_view>

namespace npusplit {

// Valid UTF-8 is kept; invalid bytes and control characters become \xNN; anything past
// MAX_CHARS is cut and marked with "...".
std::string printable(std::string_view s, size_t max_chars = 200);

// True when S is valid UTF-8 (overlong forms and surrogates rejected).
bool is_valid_utf8(std::string_view s);

}  // namespace npusplit
