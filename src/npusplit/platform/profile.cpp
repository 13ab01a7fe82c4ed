#include "npusplit/platform/profile.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "npusplit/error.h"
#include "npusplit/io/model_io.h"
#include "npusplit/platform/embedded_platforms.h"

namespace npusplit {

namespace {

std::string stem_of(const std::string& file) { return std::filesystem::path(file).stem().string(); }

std::string known_list() {
  std::string s;
  for (const auto& n : known_platforms()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

PlatformFact fact(const YAML::Node& parent, const char* key, const std::string& where) {
  const YAML::Node n = parent[key];
  if (!n || !n.IsMap()) fail("{}: '{}' missing (a map with value, evidence, source)", where, key);
  PlatformFact f;
  if (!n["value"]) fail("{}: '{}' has no value", where, key);
  try {
    f.value = n["value"].as<double>();
  } catch (const YAML::Exception&) {
    fail("{}: '{}' value is not a number", where, key);
  }
  if (!n["evidence"] || !n["source"]) fail("{}: '{}' needs an evidence tag and a source", where, key);
  f.evidence = n["evidence"].as<std::string>();
  f.source = n["source"].as<std::string>();
  if (n["note"]) f.note = n["note"].as<std::string>();
  if (!(f.value >= 0)) fail("{}: '{}' must not be negative", where, key);
  return f;
}

PlatformProfile native_profile() {
  PlatformProfile p;
  p.name = "native";
  p.description = "this machine alone: stage2 as measured here, no NPU and no link time";
  p.native = true;
  p.host_factor.value = 1.0;
  p.host_factor.evidence = "MEAS";
  p.host_factor.source = "measured on this machine";
  return p;
}

}  // namespace

std::vector<std::string> known_platforms() {
  std::vector<std::string> names{"native"};
  for (const auto& [file, text] : embedded_platform_files()) names.push_back(stem_of(file));
  std::sort(names.begin(), names.end());
  return names;
}

PlatformProfile parse_platform(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail("{}: invalid YAML: {}", origin, e.msg);
  }
  if (!root.IsMap()) fail("{}: a platform profile is a map (name, npu, link, host)", origin);
  PlatformProfile p;
  if (!root["name"]) fail("{}: missing 'name'", origin);
  p.name = root["name"].as<std::string>();
  if (root["description"]) p.description = root["description"].as<std::string>();
  for (const char* k : {"npu", "link", "host"})
    if (!root[k] || !root[k].IsMap()) fail("{}: missing '{}' section", origin, k);
  const auto npu = root["npu"], link = root["link"], host = root["host"];
  if (npu["chip"]) p.chip = npu["chip"].as<std::string>();
  if (host["cpu"]) p.host_cpu = host["cpu"].as<std::string>();
  p.tops = fact(npu, "tops", origin + ": npu");
  p.efficiency = fact(npu, "efficiency", origin + ": npu");
  p.bandwidth_mb_s = fact(link, "bandwidth_mb_s", origin + ": link");
  p.transfer_overhead_us = fact(link, "transfer_overhead_us", origin + ": link");
  p.host_factor = fact(host, "factor", origin + ": host");
  if (p.tops.value <= 0 || p.efficiency.value <= 0 || p.efficiency.value > 1)
    fail("{}: npu tops must be > 0 and efficiency within (0, 1]", origin);
  if (p.bandwidth_mb_s.value <= 0) fail("{}: link bandwidth_mb_s must be > 0", origin);
  if (p.host_factor.value <= 0) fail("{}: host factor must be > 0", origin);
  return p;
}

PlatformProfile load_platform(const std::string& name) {
  if (name == "native") return native_profile();
  for (const auto& [file, text] : embedded_platform_files())
    if (stem_of(file) == name) return parse_platform(text, "platform " + name);
  const std::filesystem::path path(name);
  if (path.extension() == ".yaml" || path.extension() == ".yml") {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail("--platform {}: no such file", name);
    return parse_platform(read_file(path), name);
  }
  fail("--platform {}: unknown platform (known: {}; or a profile .yaml file)", name, known_list());
}

FrameEstimate estimate_frame(const PlatformProfile& p, const CutCost& c) {
  FrameEstimate e;
  e.host_measured_ms = c.host_measured_ms;
  if (p.native) {
    e.host_ms = c.host_measured_ms;
  } else {
    e.npu_ms = double(c.stage1_flops) / p.npu_ops_per_s() * 1e3;
    const double bytes_per_ms = p.bandwidth_mb_s.value * 1e6 / 1e3;
    e.transfer_ms = double(c.input_bytes + c.wire_bytes) / bytes_per_ms +
                    double(c.transfers) * p.transfer_overhead_us.value / 1e3;
    e.host_ms = c.host_measured_ms * p.host_factor.value;
  }
  const double slowest = std::max({e.npu_ms, e.transfer_ms, e.host_ms});
  e.fps = slowest > 0 ? 1000.0 / slowest : 0.0;
  e.latency_ms = e.npu_ms + e.transfer_ms + e.host_ms;
  return e;
}

int wire_bits(const std::map<std::string, int>& bits, const std::string& tensor) {
  const auto it = bits.find(tensor);
  return it == bits.end() ? 8 : it->second;
}

}  // namespace npusplit
