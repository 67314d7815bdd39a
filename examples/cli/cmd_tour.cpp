// `widenn tour`: the main job. Each capability registers a section (see cli.hpp).
#include <algorithm>
#include <iostream>

#include "cli.hpp"

namespace {

int run_tour(widenn::cli::args& a) {
    a.reject_unknown();
    auto sections = widenn::cli::tour_sections();
    std::stable_sort(sections.begin(), sections.end(), [](const auto& x, const auto& y) { return x.order < y.order; });
    std::cout << "widenn tour: " << sections.size() << " sections\n";
    int index = 0;
    for (const auto& s : sections) {
        std::cout << "\n== [" << ++index << "/" << sections.size() << "] " << s.title << " ==\n" << std::flush;
        s.run(std::cout);
    }
    std::cout << "\nwidenn tour: done\n";
    return 0;
}

const bool registered = widenn::cli::add_command({
    "tour",
    "the main job: a guided run through every capability",
    "usage: widenn tour\n\n"
    "Runs one short section per capability of widenn and prints what it computed:\n"
    "the classification of the parametrization presets (TP4), dual activation kernels,\n"
    "and the sections the network, kernel, feature-learning and Lie group capabilities add.\n",
    run_tour,
});

}  // namespace
