// demo: the README's main job on a model and a picture npusplit makes itself.
#include <iostream>

#include "commands.h"
#include "npusplit/app/demo.h"
#include "npusplit/report/demo_report.h"

namespace npusplit::cli {

void add_demo(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("demo", "check -> split -> verify -> run on a DETR-like model and picture npusplit builds itself");
  static std::string out = "demo_out";
  cmd->add_option("-o,--out", out, "output folder")->capture_default_str();
  cmd->callback([&] {
    const DemoResult r = run_demo(out);
    std::cout << demo_text(r);
    exit_code = r.exit_code();
  });
}

}  // namespace npusplit::cli
