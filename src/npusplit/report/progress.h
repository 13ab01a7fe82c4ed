#pragma once
// Moved below every layer that reports progress or writes JSON: npusplit/base/progress.h.
#include "npusplit/base/progress.h"
