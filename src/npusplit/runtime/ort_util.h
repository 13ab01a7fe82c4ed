#pragma once
// Moved to the ground floor (ONNX Runtime plumbing): npusplit/ort/ort_util.h.
#include "npusplit/ort/ort_util.h"
