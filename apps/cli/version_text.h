#pragma once
// `npusplit --version`: the tool, the libraries it runs on and the rules built into it.
#include <string>

namespace npusplit::cli {
std::string version_text();
}
