// npusplit: a thin command line over the npusplit library.
#include <fmt/format.h>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "version_text.h"
#include "npusplit/error.h"

int main(int argc, char** argv) {
  // NPUSPLIT_LOG=debug traces the phases (folding rounds, passes) on stderr.
  // Logs go to stderr: stdout carries the tables and --json documents.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("npusplit"));
  spdlog::set_level(spdlog::level::warn);
  if (const char* lvl = std::getenv("NPUSPLIT_LOG")) spdlog::set_level(spdlog::level::from_str(lvl));
  spdlog::set_pattern("npusplit: %l: [%S.%e] %v");
  CLI::App app{"npusplit: run DETR-family detectors on Hailo NPUs (check, fix, split, verify, run)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", npusplit::cli::version_text, "the version of npusplit, ONNX Runtime, onnx and the rules");
  int exit_code = 0;
  npusplit::cli::add_info(app, exit_code);
  npusplit::cli::add_check(app, exit_code);
  npusplit::cli::add_fix(app, exit_code);
  npusplit::cli::add_split(app, exit_code);
  npusplit::cli::add_verify(app, exit_code);
  npusplit::cli::add_prepare(app, exit_code);
  npusplit::cli::add_run(app, exit_code);
  npusplit::cli::add_bench(app, exit_code);
  npusplit::cli::add_demo(app, exit_code);
  npusplit::cli::add_rules(app, exit_code);
  npusplit::cli::add_repro(app, exit_code);
  npusplit::cli::add_calib(app, exit_code);
  npusplit::cli::add_quant(app, exit_code);
  if (const auto unknown = npusplit::cli::unknown_command(app, argc, argv); !unknown.empty()) {
    std::cerr << "npusplit: error: " << unknown << "\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "npusplit: error: " << npusplit::cli::explain_parse_error(app, argc, argv, e) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "npusplit: error: " << npusplit::describe_exception(e) << "\n";
    return 2;
  } catch (...) {
    std::cerr << "npusplit: error: unexpected internal error\n";
    return 2;
  }
  return exit_code;
}
