// One-line parse errors with suggestions: "npusplit splt" -> did you mean 'split'?
#include <string>
#include <vector>

#include "args.h"
#include "npusplit/report/suggest.h"

namespace npusplit::cli {

namespace {

std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const auto* opt : cmd.get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

}  // namespace

std::string unknown_command(CLI::App& app, int argc, char** argv) {
  if (argc < 2) return "";
  const std::string first = argv[1];
  if (first.empty() || first[0] == '-') return "";
  const auto names = command_names(app);
  for (const auto& n : names)
    if (n == first) return "";
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  return fmt::format("unknown command '{}'{} (commands: {})", first, did_you_mean(first, names), all);
}

std::string explain_parse_error(CLI::App& app, int argc, char** argv, const CLI::ParseError& e) {
  const auto parsed = app.get_subcommands();
  CLI::App* cmd = parsed.empty() ? nullptr : parsed.front();
  {
    // The first argument that looks like an option and is none of the command's: reported
    // before anything else ("--out is required" would hide the misspelt "--otu").
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.size() < 2 || a[0] != '-' || a == "--") continue;
      if (const auto eq = a.find('='); eq != std::string::npos) a = a.substr(0, eq);
      if (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.') continue;  // a negative number
      const CLI::App& owner = cmd ? *cmd : app;
      if (owner.get_option_no_throw(a) || app.get_option_no_throw(a)) continue;
      return fmt::format("{}unknown option '{}'{}", cmd ? cmd->get_name() + ": " : "", a,
                         did_you_mean(a, option_names(owner)));
    }
  }
  if (!cmd && e.get_name() == "RequiredError") {
    std::string all;
    for (const auto& n : command_names(app)) all += (all.empty() ? "" : ", ") + n;
    return fmt::format("no command given: npusplit COMMAND ... (commands: {}; --help for more)", all);
  }
  std::string msg = e.what();
  for (auto& c : msg)
    if (c == '\n') c = ' ';
  while (!msg.empty() && msg.back() == ' ') msg.pop_back();
  return cmd ? cmd->get_name() + ": " + msg : msg;
}

}  // namespace npusplit::cli
