#include "npusplit/io/parallel_parse.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "npusplit/base/fd_io.h"

namespace npusplit {

namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CopyingInputStreamAdaptor;
using WFL = google::protobuf::internal::WireFormatLite;

constexpr int kGraphField = 7;        // ModelProto.graph
constexpr int kInitializerField = 5;  // GraphProto.initializer
constexpr uint32_t kBadTag = UINT32_MAX;  // read_tag: longer than protobuf's parser takes

// [begin, end) of FD, read with pread (threads share the descriptor, not an offset).
class PreadStream : public google::protobuf::io::CopyingInputStream {
 public:
  PreadStream(int fd, int64_t begin, int64_t end) : fd_(fd), pos_(begin), end_(end) {}
  int Read(void* buffer, int size) override {
    const int64_t want = std::min<int64_t>(size, end_ - pos_);
    if (want <= 0) return 0;
    for (;;) {
      const ssize_t n = ::pread(fd_, buffer, static_cast<size_t>(want), pos_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -1;
      pos_ += n;
      return static_cast<int>(n);
    }
  }
  int Skip(int count) override {
    const int64_t n = std::max<int64_t>(0, std::min<int64_t>(count, end_ - pos_));
    pos_ += n;
    return static_cast<int>(n);
  }

 private:
  int fd_;
  int64_t pos_, end_;
};

struct Range {
  int64_t begin = 0, end = 0;
};

// Where things are in the file: the model's fields in order (one of them the graph, whose
// bytes are rebuilt without its initializers), the graph's other fields with their tags, and
// each initializer's payload.
struct Layout {
  std::vector<Range> model_fields;
  size_t graph_slot = SIZE_MAX;
  std::vector<Range> graph_fields;
  std::vector<Range> initializers;
};

// A tag or a length as protobuf's own parser takes them: at most 5 bytes, a length within INT_MAX
// (CodedInputStream alone reads up to 10 bytes and keeps the low 32 bits: a file the parser
// rejects would then be read as another, valid one).
uint32_t read_tag(CodedInputStream& in) {
  const int64_t before = in.CurrentPosition();
  const uint32_t tag = in.ReadTag();
  return tag != 0 && in.CurrentPosition() - before > 5 ? kBadTag : tag;
}

bool read_length(CodedInputStream& in, uint32_t& len) {
  const int64_t before = in.CurrentPosition();
  uint64_t v = 0;
  if (!in.ReadVarint64(&v) || in.CurrentPosition() - before > 5 || v > static_cast<uint64_t>(INT_MAX)) return false;
  len = static_cast<uint32_t>(v);
  return true;
}

bool scan_graph(CodedInputStream& in, int64_t end, Layout& out) {
  for (;;) {
    const int64_t start = in.CurrentPosition();
    const uint32_t tag = read_tag(in);
    if (tag == 0) return start == end && in.BytesUntilLimit() == 0;
    if (tag == kBadTag) return false;
    if (WFL::GetTagFieldNumber(tag) == kInitializerField &&
        WFL::GetTagWireType(tag) == WFL::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t len = 0;
      if (!read_length(in, len)) return false;
      const int64_t begin = in.CurrentPosition();
      if (!in.Skip(static_cast<int>(len))) return false;
      out.initializers.push_back({begin, begin + len});
      continue;
    }
    if (!WFL::SkipField(&in, tag)) return false;
    out.graph_fields.push_back({start, in.CurrentPosition()});
  }
}

bool scan(int fd, int64_t size, Layout& out) {
  PreadStream file(fd, 0, size);
  CopyingInputStreamAdaptor buffered(&file, 1 << 16);
  CodedInputStream in(&buffered);
  in.SetTotalBytesLimit(INT_MAX);
  for (;;) {
    const int64_t start = in.CurrentPosition();
    const uint32_t tag = read_tag(in);
    if (tag == 0) return start == size && out.graph_slot != SIZE_MAX;
    if (tag == kBadTag) return false;
    if (WFL::GetTagFieldNumber(tag) == kGraphField) {
      // A second graph field merges into the first: left to the one-piece parse.
      if (WFL::GetTagWireType(tag) != WFL::WIRETYPE_LENGTH_DELIMITED || out.graph_slot != SIZE_MAX) return false;
      uint32_t len = 0;
      if (!read_length(in, len)) return false;
      const int64_t begin = in.CurrentPosition();
      if (begin + len > size) return false;
      const auto limit = in.PushLimit(static_cast<int>(len));
      if (!scan_graph(in, begin + len, out)) return false;
      in.PopLimit(limit);
      out.graph_slot = out.model_fields.size();
      out.model_fields.push_back({});
      continue;
    }
    if (!WFL::SkipField(&in, tag)) return false;
    out.model_fields.push_back({start, in.CurrentPosition()});
  }
}

bool append_range(int fd, const Range& r, std::string& out) {
  const size_t at = out.size();
  out.resize(at + static_cast<size_t>(r.end - r.begin));
  return pread_all(fd, out.data() + at, static_cast<size_t>(r.end - r.begin), r.begin);
}

bool parse_tensor(int fd, const Range& r, onnx::TensorProto& t) {
  PreadStream file(fd, r.begin, r.end);
  CopyingInputStreamAdaptor buffered(&file, 1 << 20);
  CodedInputStream in(&buffered);
  in.SetTotalBytesLimit(INT_MAX);
  // In the file it sits two messages deep (ModelProto.graph.initializer): the same nesting limit.
  in.SetRecursionLimit(CodedInputStream::GetDefaultRecursionLimit() - 2);
  return t.ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
}

bool parse_laid_out(int fd, const Layout& layout, onnx::ModelProto& out, int threads) {
  // The model without its initializers, its fields in their order.
  std::string graph;
  for (const auto& r : layout.graph_fields)
    if (!append_range(fd, r, graph)) return false;
  std::string rest;
  for (size_t i = 0; i < layout.model_fields.size(); ++i) {
    if (i != layout.graph_slot) {
      if (!append_range(fd, layout.model_fields[i], rest)) return false;
      continue;
    }
    uint8_t head[16];
    uint8_t* p = WFL::WriteTagToArray(kGraphField, WFL::WIRETYPE_LENGTH_DELIMITED, head);
    p = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(graph.size()), p);
    rest.append(reinterpret_cast<const char*>(head), static_cast<size_t>(p - head));
    rest += graph;
  }
  std::string().swap(graph);
  if (rest.size() > static_cast<size_t>(INT_MAX) || !out.ParseFromArray(rest.data(), static_cast<int>(rest.size())))
    return false;
  std::string().swap(rest);

  const auto& inits = layout.initializers;
  auto* field = out.mutable_graph()->mutable_initializer();
  field->Reserve(static_cast<int>(inits.size()));
  for (size_t i = 0; i < inits.size(); ++i) field->Add();
  // Contiguous runs of about equal bytes, one per thread.
  int64_t total = 0;
  for (const auto& r : inits) total += r.end - r.begin;
  std::vector<size_t> cuts{0};
  int64_t acc = 0;
  for (size_t i = 0; i < inits.size() && static_cast<int>(cuts.size()) < threads; ++i) {
    acc += inits[i].end - inits[i].begin;
    if (acc * threads >= total * static_cast<int64_t>(cuts.size())) cuts.push_back(i + 1);
  }
  if (cuts.back() != inits.size()) cuts.push_back(inits.size());
  std::atomic<bool> ok{true};
  // An error on a worker (out of memory) must not end the process: the caller's one-piece
  // parse then meets it and says so in one line.
  auto run = [&](size_t from, size_t to) noexcept {
    try {
      for (size_t i = from; i < to && ok.load(std::memory_order_relaxed); ++i)
        if (!parse_tensor(fd, inits[i], *field->Mutable(static_cast<int>(i)))) ok = false;
    } catch (...) {
      ok = false;
    }
  };
  std::vector<std::thread> workers;
  size_t k = 1;
  for (; k + 1 < cuts.size(); ++k) {
    try {
      workers.emplace_back(run, cuts[k], cuts[k + 1]);
    } catch (...) {
      break;
    }
  }
  if (k + 1 < cuts.size()) run(cuts[k], cuts.back());  // the runs no thread could be had for
  run(cuts[0], cuts.size() > 1 ? cuts[1] : 0);
  for (auto& w : workers) w.join();
  return ok.load();
}

}  // namespace

bool parse_model_parallel(int fd, int64_t size, onnx::ModelProto& out, int threads) {
  out.Clear();
  bool ok = false;
  try {
    Layout layout;
    ok = size > 0 && size <= INT_MAX && scan(fd, size, layout) && layout.initializers.size() >= 2 &&
         parse_laid_out(fd, layout, out, std::max(1, threads));
  } catch (...) {  // out of memory on the way: the one-piece parse meets it too, and says so
    ok = false;
  }
  if (!ok) out.Clear();
  return ok;
}

}  // namespace npusplit
