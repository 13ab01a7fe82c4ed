#include "npusplit/pipeline/two_stage.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "npusplit/error.h"

namespace npusplit {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

const TensorSpec* find_spec(const std::vector<TensorSpec>& v, const std::string& name, int* index = nullptr) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].name == name) {
      if (index) *index = static_cast<int>(i);
      return &v[i];
    }
  return nullptr;
}

// A blocking queue of slot numbers that can be closed (then pop returns -1 at once).
class SlotQueue {
 public:
  void push(int v) {
    {
      std::lock_guard<std::mutex> l(m_);
      q_.push_back(v);
    }
    cv_.notify_one();
  }
  int pop() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return closed_ || !q_.empty(); });
    if (closed_) return -1;
    int v = q_.front();
    q_.pop_front();
    return v;
  }
  void close() {
    {
      std::lock_guard<std::mutex> l(m_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<int> q_;
  bool closed_ = false;
};

const std::vector<TensorSpec> kNone;

}  // namespace

HostTensor* Frame::input(const std::string& name) {
  for (auto& t : inputs)
    if (t.name() == name) return &t;
  return nullptr;
}

const HostTensor* Frame::output(const std::string& name) const {
  for (const auto& t : outputs)
    if (t.name() == name) return &t;
  return nullptr;
}

TwoStagePipeline::TwoStagePipeline(std::unique_ptr<Stage> model) : stage1_(std::move(model)) {
  if (!stage1_) fail("pipeline: no model");
  inputs_ = stage1_->inputs();
  for (size_t i = 0; i < inputs_.size(); ++i) stage1_src_.push_back(static_cast<int>(i));
}

TwoStagePipeline::TwoStagePipeline(std::unique_ptr<Stage> stage1, std::unique_ptr<Stage> stage2,
                                   const std::vector<std::string>& extra_inputs)
    : stage1_(std::move(stage1)), stage2_(std::move(stage2)) {
  if (!stage1_ || !stage2_) fail("pipeline: stage1 and stage2 are both needed");
  const auto& s1_in = stage1_->inputs();
  const auto& s1_out = stage1_->outputs();
  const auto& s2_in = stage2_->inputs();
  const auto& s2_out = stage2_->outputs();

  inputs_ = s1_in;
  for (size_t i = 0; i < inputs_.size(); ++i) stage1_src_.push_back(static_cast<int>(i));

  for (const auto& in : s2_in) {
    int idx = -1;
    if (const TensorSpec* o = find_spec(s1_out, in.name, &idx)) {
      if (o->dtype == in.dtype && o->dims == in.dims) {
        stage2_src_.push_back(-idx - 1);
        continue;
      }
      fail("stage2 input '{}' {} matches no stage1 output or model input (stage1 gives '{}' {}: wrong stage order, "
           "or stages from different splits?)",
           in.name, spec_str(in), o->name, spec_str(*o));
    }
    if (const TensorSpec* m = find_spec(inputs_, in.name, &idx)) {  // a model input stage1 reads too
      if (m->dtype != in.dtype || m->dims != in.dims)
        fail("stage2 input '{}' {} differs from the model input of that name ({})", in.name, spec_str(in),
             spec_str(*m));
      stage2_src_.push_back(idx);
      continue;
    }
    if (std::find(extra_inputs.begin(), extra_inputs.end(), in.name) != extra_inputs.end()) {
      inputs_.push_back(in);  // a model input only stage2 reads
      stage2_src_.push_back(static_cast<int>(inputs_.size()) - 1);
      continue;
    }
    fail("stage2 input '{}' {} matches no stage1 output or model input (wrong stage order?)", in.name, spec_str(in));
  }
  // Also catches a reversed pair whose stage2 inputs all happened to be model inputs.
  for (const auto& in : s1_in)
    if (find_spec(s2_out, in.name))
      fail("stage1 input '{}' is an output of stage2 (wrong stage order?)", in.name);
  if (s1_out.empty()) fail("{}: stage1 has no outputs", stage1_->description());
}

TwoStagePipeline::~TwoStagePipeline() = default;

const std::vector<TensorSpec>& TwoStagePipeline::outputs() const {
  return stage2_ ? stage2_->outputs() : stage1_->outputs();
}

const std::vector<TensorSpec>& TwoStagePipeline::cut() const { return stage2_ ? stage1_->outputs() : kNone; }

Frame TwoStagePipeline::make_frame() const {
  Frame f;
  for (const auto& s : inputs_) f.inputs.emplace_back(s);
  if (stage2_) {
    f.cut = stage1_->allocate_outputs();
    f.outputs = stage2_->allocate_outputs();
  } else {
    f.outputs = stage1_->allocate_outputs();
  }
  // Vectors are not resized after this point, so the pointers stay valid (also across moves).
  for (int s : stage1_src_) f.stage1_in.push_back(&f.inputs[size_t(s)]);
  for (int s : stage2_src_) f.stage2_in.push_back(s >= 0 ? &f.inputs[size_t(s)] : &f.cut[size_t(-s - 1)]);
  return f;
}

void TwoStagePipeline::run(Frame& f) {
  const auto t0 = Clock::now();
  if (stage2_) {
    stage1_->run(f.stage1_in, f.cut);
    f.timing.stage1_ms = stage1_->last_timing().total_ms;
    f.timing.stage1_inner_ms = stage1_->last_timing().inner_ms;
    stage2_->run(f.stage2_in, f.outputs);
    f.timing.stage2_ms = stage2_->last_timing().total_ms;
    f.timing.stage2_inner_ms = stage2_->last_timing().inner_ms;
  } else {
    stage1_->run(f.stage1_in, f.outputs);
    f.timing.stage1_ms = stage1_->last_timing().total_ms;
    f.timing.stage1_inner_ms = stage1_->last_timing().inner_ms;
    f.timing.stage2_ms = f.timing.stage2_inner_ms = 0;
  }
  f.timing.wait_ms = 0;
  f.timing.total_ms = ms_between(t0, Clock::now());
}

double TwoStagePipeline::run_pipelined(int64_t frames, const std::function<bool(Frame&)>& fill,
                                       const std::function<void(Frame&)>& done, int depth) {
  depth = std::max(2, depth);
  std::vector<Frame> slots;
  for (int i = 0; i < depth; ++i) slots.push_back(make_frame());
  std::vector<Clock::time_point> started(static_cast<size_t>(depth)), stage1_end(static_cast<size_t>(depth));

  SlotQueue free_q, ready_q;
  for (int i = 0; i < depth; ++i) free_q.push(i);
  std::exception_ptr error1, error2;
  constexpr int kEnd = -2;

  const auto t_begin = Clock::now();
  // Stage1 thread: fill, stage1 (or the whole unsplit model), hand over.
  std::thread producer([&] {
    try {
      for (int64_t n = 0; n < frames; ++n) {
        const int s = free_q.pop();
        if (s < 0) return;  // the consumer stopped
        Frame& f = slots[size_t(s)];
        f.index = n;
        if (fill && !fill(f)) break;
        started[size_t(s)] = Clock::now();
        f.timing = FrameTiming{};
        stage1_->run(f.stage1_in, stage2_ ? f.cut : f.outputs);
        f.timing.stage1_ms = stage1_->last_timing().total_ms;
        f.timing.stage1_inner_ms = stage1_->last_timing().inner_ms;
        stage1_end[size_t(s)] = Clock::now();
        ready_q.push(s);
      }
    } catch (...) {
      error1 = std::current_exception();
    }
    ready_q.push(kEnd);
  });

  // Stage2 on this thread, then DONE, then the slot goes back.
  try {
    for (;;) {
      const int s = ready_q.pop();
      if (s < 0) break;
      Frame& f = slots[size_t(s)];
      const auto t2 = Clock::now();
      f.timing.wait_ms = ms_between(stage1_end[size_t(s)], t2);
      if (stage2_) {
        stage2_->run(f.stage2_in, f.outputs);
        f.timing.stage2_ms = stage2_->last_timing().total_ms;
        f.timing.stage2_inner_ms = stage2_->last_timing().inner_ms;
      }
      f.timing.total_ms = ms_between(started[size_t(s)], Clock::now());
      if (done) done(f);
      free_q.push(s);
    }
  } catch (...) {
    error2 = std::current_exception();
    free_q.close();  // wakes the producer if it waits for a slot
  }
  producer.join();
  const double wall = ms_between(t_begin, Clock::now());
  if (error1) std::rethrow_exception(error1);
  if (error2) std::rethrow_exception(error2);
  return wall;
}

}  // namespace npusplit
