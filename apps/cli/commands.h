#pragma once
// Each subcommand registers itself on the CLI11 app and sets *exit_code when it runs.
#include <CLI/CLI.hpp>

namespace npusplit::cli {

void add_info(CLI::App& app, int& exit_code);
void add_check(CLI::App& app, int& exit_code);
void add_split(CLI::App& app, int& exit_code);
void add_verify(CLI::App& app, int& exit_code);
void add_prepare(CLI::App& app, int& exit_code);
void add_fix(CLI::App& app, int& exit_code);
void add_run(CLI::App& app, int& exit_code);
void add_bench(CLI::App& app, int& exit_code);
void add_demo(CLI::App& app, int& exit_code);
void add_rules(CLI::App& app, int& exit_code);
void add_repro(CLI::App& app, int& exit_code);
void add_calib(CLI::App& app, int& exit_code);  // cmd_calib.cpp
void add_quant(CLI::App& app, int& exit_code);  // cmd_quant.cpp

}  // namespace npusplit::cli
