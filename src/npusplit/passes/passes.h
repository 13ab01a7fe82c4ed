#pragma once
// Factories of the registered passes (one per file in this folder).
#include <memory>

#include "npusplit/passes/pass.h"

namespace npusplit {
std::unique_ptr<Pass> make_fold_static_pass();
std::unique_ptr<Pass> make_drop_noop_cast_pass();
std::unique_ptr<Pass> make_reduce_keepdims_pass();
std::unique_ptr<Pass> make_batch_one_pass();
std::unique_ptr<Pass> make_rank5_to_rank4_pass();
std::unique_ptr<Pass> make_rope_masked_pass();
std::unique_ptr<Pass> make_broadcast_explicit_pass();
std::unique_ptr<Pass> make_scale_into_weights_pass();
}  // namespace npusplit
