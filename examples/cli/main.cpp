// The `widenn` command: `widenn tour` is the main job; the other subcommands expose one capability each.
#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "machine.hpp"

namespace cli = widenn::cli;

namespace {

void print_overview(std::ostream& out) {
    out << "widenn: wide neural networks and their infinite-width limits\n\n"
           "usage: widenn COMMAND [options]     widenn COMMAND --help\n\ncommands:\n";
    auto all = cli::commands();
    std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
    for (const auto& c : all) out << "  " << c.name << std::string(c.name.size() < 14 ? 14 - c.name.size() : 1, ' ') << c.summary << '\n';
}

}  // namespace

int main(int argc, char** argv) {
    // OpenBLAS below the CPU's level: restart once with OPENBLAS_CORETYPE set (machine.hpp; WIDENN_KEEP_BLAS_CORE=1 opts out)
    widenn::cli::machine::upgrade_blas_core(argv);
    std::vector<std::string> tokens(argv + 1, argv + argc);
    if (tokens.empty() || tokens[0] == "--help" || tokens[0] == "-h" || tokens[0] == "help") {
        print_overview(std::cout);
        return tokens.empty() ? 2 : 0;
    }
    const std::string name = tokens[0];
    const auto& all = cli::commands();
    const auto found = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
    if (found == all.end()) {
        std::cerr << "widenn: unknown command '" << name << "' (see widenn --help)\n";
        return 2;
    }
    tokens.erase(tokens.begin());
    if (std::find(tokens.begin(), tokens.end(), "--help") != tokens.end() || std::find(tokens.begin(), tokens.end(), "-h") != tokens.end()) {
        std::cout << found->help;
        return 0;
    }
    try {
        cli::args a(name, tokens);
        return found->run(a);
    } catch (const widenn::numerical_error& e) {
        std::cerr << "widenn " << name << ": " << e.what() << '\n';
        return 1;
    } catch (const widenn::error& e) {  // usage errors and bad input
        std::cerr << "widenn " << name << ": " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "widenn " << name << ": " << e.what() << '\n';
        return 1;
    }
}
