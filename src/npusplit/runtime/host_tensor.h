#pragma once
// Moved to the ground floor (ONNX Runtime plumbing): npusplit/ort/host_tensor.h.
#include "npusplit/ort/host_tensor.h"
