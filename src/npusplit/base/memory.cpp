#include "npusplit/base/memory.h"

#include <fstream>
#include <string>

namespace npusplit {

double peak_rss_mib() {
  std::ifstream st("/proc/self/status");
  std::string line;
  while (std::getline(st, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

}  // namespace npusplit
