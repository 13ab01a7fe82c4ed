#pragma once
// `npusplit demo`'s text, from its typed result.
#include <string>

#include "npusplit/results/demo.h"

namespace npusplit {

std::string demo_text(const DemoResult& r);

}  // namespace npusplit
