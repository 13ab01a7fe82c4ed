#pragma once
// Peak resident memory of this process so far (MiB; VmHWM), for NPUSPLIT_LOG=debug traces.
namespace npusplit {
double peak_rss_mib();
}  // namespace npusplit
