#pragma once
// Files from a coord check: nn::coord_check returns the data (nn/coord_check.hpp); this header writes it as CSV and
// draws it with gnuplot, for the programs that want files (the widenn command's coord-check).
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>

#include "../nn/coord_check.hpp"
#include "plot.hpp"

namespace widenn::io {

// CSV with columns width,seed,step,layer,l1 (one row per record).
inline void write_coord_check_csv(const nn::coord_check_result& result, const std::string& path) {
    csv_writer csv(path, {"width", "seed", "step", "layer", "l1"});
    for (const auto& r : result.rows) csv.row(r.width, r.seed, r.step, r.layer, r.l1);
}

// A gnuplot PNG: one panel per step, l1 (seed mean, log scale) against log2 width, one line per layer.
// Returns false and fills `reason` when gnuplot is unavailable or fails.
inline bool plot_coord_check(const nn::coord_check_result& result, const std::string& png_path, const std::string& title,
                             std::string* reason = nullptr) {
    const auto& layers = result.layers;
    const auto& widths = result.widths;
    const std::size_t steps = result.steps;
    std::ostringstream s;
    s << "set terminal pngcairo size " << 420 * steps << ",420 font ',9'\n"
      << "set output " << gnuplot_quote(png_path) << '\n';
    // One inline data block per layer: columns width, mean l1 per step (non-positive values left out of the log axis).
    for (std::size_t k = 0; k < layers.size(); ++k) {
        s << "$layer" << k << " << EOD\n";
        for (auto w : widths) {
            s << w;
            for (std::size_t t = 1; t <= steps; ++t) {
                const double v = result.mean_l1(w, t, layers[k]);
                if (v > 0 && std::isfinite(v)) s << ' ' << v;
                else s << " NaN";
            }
            s << '\n';
        }
        s << "EOD\n";
    }
    s << "set multiplot layout 1," << steps << " title " << gnuplot_quote(title) << '\n'
      << "set logscale x 2\nset logscale y\nset format y '%.0e'\nset xlabel 'width'\nset key top left\nset grid\n";
    for (std::size_t t = 1; t <= steps; ++t) {
        s << "set title 't = " << t << "'\nset ylabel " << (t == 1 ? "'mean |x|'" : "''") << "\nplot ";
        for (std::size_t k = 0; k < layers.size(); ++k)
            s << (k ? ", " : "") << "$layer" << k << " using 1:" << t + 1 << " with linespoints title '" << layers[k] << "'";
        s << '\n';
    }
    s << "unset multiplot\n";
    return run_gnuplot(s.str(), reason);
}

}  // namespace widenn::io
