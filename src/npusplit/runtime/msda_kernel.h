#pragma once
// Moved to the ground floor (ONNX Runtime plumbing): npusplit/ort/msda_kernel.h.
#include "npusplit/ort/msda_kernel.h"
