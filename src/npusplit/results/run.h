#pragma once
// What `npusplit run` did: what ran (the header) and how each input went (media/run.h).
#include <string>

#include "npusplit/media/run.h"

namespace npusplit {

// What ran: the model, its stages' back ends, its input size and output layout.
struct RunHeader {
  std::string model, backend, layout;
  int width = 0, height = 0;
};

struct RunResult {
  RunHeader header;
  RunReport report;
};

}  // namespace npusplit
