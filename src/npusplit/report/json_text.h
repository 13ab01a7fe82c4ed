#pragma once
// Moved below every layer that reports progress or writes JSON: npusplit/base/json_text.h.
#include "npusplit/base/json_text.h"
