// Tour section: Lie groups (docs/theory/lie-groups.md): exp/log and chart round trips, a Haar-weighted Monte Carlo integral with
// its error estimate (and what the unweighted average would give), a KS test of Haar sampling, and an image action.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numbers>
#include <ostream>
#include <string>
#include <vector>

#include <widenn/lie/lie.hpp>

#include "cli.hpp"

namespace {

namespace lie = widenn::lie;

template <class G>
void round_trip_row(std::ostream& out, const std::string& name, double scale) {
    widenn::rng gen(1);
    double exp_log = 0, chart = 0;
    for (int i = 0; i < 2000; ++i) {
        typename G::tangent v{};
        for (auto& x : v) x = static_cast<typename G::scalar>(scale * gen.normal());
        const auto g = G::exp(v);
        exp_log = std::max(exp_log, static_cast<double>(lie::max_abs(G::exp(g.log()).matrix() - g.matrix())));
        const auto h = G::from_chart(v);
        chart = std::max(chart, static_cast<double>(lie::max_abs(G::from_chart(h.chart()).matrix() - h.matrix())));
    }
    out << "  " << std::left << std::setw(22) << name << std::right << std::setw(4) << G::dof << std::setw(14) << std::scientific
        << std::setprecision(1) << exp_log << std::setw(16) << chart << std::defaultfloat << '\n';
}

double bump(const lie::gl_plus<2>& g) {  // exp(-‖g - I‖² - ‖g⁻¹ - I‖²): integrable against Haar
    const auto I = lie::mat<double, 2>::identity();
    const auto a = g.matrix() - I, b = lie::inverse(g.matrix()) - I;
    double s = 0;
    for (std::size_t k = 0; k < 4; ++k) s += a.data()[k] * a.data()[k] + b.data()[k] * b.data()[k];
    return std::exp(-s);
}

void print_image(std::ostream& out, const xt::xtensor<double, 3>& a, const xt::xtensor<double, 3>& b) {
    const char* shades = " .:-=+*#%@";
    for (std::size_t i = 0; i < a.shape()[1]; ++i) {
        out << "  ";
        for (std::size_t j = 0; j < a.shape()[2]; ++j) out << shades[std::clamp(static_cast<int>(a(0, i, j) * 9.99), 0, 9)];
        out << "    ";
        for (std::size_t j = 0; j < b.shape()[2]; ++j) out << shades[std::clamp(static_cast<int>(b(0, i, j) * 9.99), 0, 9)];
        out << '\n';
    }
}

void run(std::ostream& out) {
    out << "Value types with exp/log/hat/vee/adjoint/act in a trace-orthonormal basis; the global chart\n"
           "xi^-1(g) = vee(log P + log R) of the polar decomposition g = P R (Mironenco & Forre 2024).\n\n"
           "Round trips over 2000 random elements (max entry error):\n"
        << "  group                  dof   exp(log g)-g   from_chart(chart g)-g\n";
    round_trip_row<lie::so<2>>(out, "so<2>", 1.0);
    round_trip_row<lie::so<3>>(out, "so<3>", 1.0);
    round_trip_row<lie::gl_plus<2>>(out, "gl_plus<2>", 0.5);
    round_trip_row<lie::sl<2>>(out, "sl<2>", 0.5);
    round_trip_row<lie::gl_plus<3>>(out, "gl_plus<3>", 0.5);
    round_trip_row<lie::sl<3, float>>(out, "sl<3, float>", 0.5);
    round_trip_row<lie::affine<lie::gl_plus<2>>>(out, "affine<gl_plus<2>>", 0.5);
    const auto m = lie::sl<2>::from_matrix(lie::mat<double, 2>{-2, 0, 0, -0.5});
    try {
        (void)m.log();
    } catch (const widenn::error& e) {
        out << "  diag(-2, -1/2) in SL(2): log() -> \"" << std::string(e.what()).substr(0, 72) << "...\"\n"
            << "                            chart() -> (" << std::setprecision(4) << m.chart()[0] << ", " << m.chart()[1] << ", "
            << m.chart()[2] << ")\n";
    }

    out << "\nHaar-weighted Monte Carlo on GL+(2): I = int exp(-|g-I|^2 - |g^-1-I|^2) dmu(g)\n"
           "  proposal: X = log P ~ N(0, 0.5^2) in Sym(2) coordinates, R Haar; weight vol(SO(2)) J(X)/q(X)\n";
    out << "  samples       estimate      std. error    left-translated by h\n";
    const auto h = lie::gl_plus<2>::from_matrix(lie::mat<double, 2>{1.3, 0.4, -0.2, 0.9});
    for (std::size_t n : {1000u, 10000u, 100000u}) {
        const auto e = lie::integrate<lie::gl_plus<2>>(bump, n, 7, 0.5);
        const auto t = lie::integrate<lie::gl_plus<2>>([&](const lie::gl_plus<2>& g) { return bump(h * g); }, n, 8, 0.5);
        out << "  " << std::left << std::setw(10) << n << std::right << std::fixed << std::setprecision(4) << std::setw(12)
            << e.value << std::setw(14) << e.standard_error << std::setw(14) << t.value << " +- " << t.standard_error << '\n';
    }
    widenn::rng gen(9);
    double unweighted = 0;
    for (int i = 0; i < 100000; ++i) unweighted += bump(lie::gl_plus<2>::sample(gen, 0.5).element);
    out << "  reference (entry coordinates, 2e6 samples): 1.6347 +- 0.0013;  unweighted proposal average: " << unweighted / 1e5
        << "\n  (the paper's code averages without weights, which integrates against the proposal, not Haar)\n"
        << std::defaultfloat;

    // KS test of the SO(3) rotation-angle law.
    std::vector<double> angles;
    for (int i = 0; i < 5000; ++i) {
        const auto r = lie::so<3>::sample_haar(gen);
        angles.push_back(std::acos(std::clamp((lie::trace(r.matrix()) - 1) / 2, -1.0, 1.0)));
    }
    std::sort(angles.begin(), angles.end());
    double d = 0;
    for (std::size_t i = 0; i < angles.size(); ++i) {
        const double f = (angles[i] - std::sin(angles[i])) / std::numbers::pi;
        d = std::max({d, static_cast<double>(i + 1) / 5000.0 - f, f - static_cast<double>(i) / 5000.0});
    }
    out << "\nSO(3) Haar sampling (QR with sign fix), 5000 rotations: KS D = " << std::setprecision(4) << d
        << " against (1 - cos w)/pi; critical value at alpha = 0.001: " << 1.9495 / std::sqrt(5000.0) << '\n';

    // Image action: an "F" on a 16x16 grid, moved by a rotation, shear and translation.
    xt::xtensor<double, 3> img = xt::zeros<double>({1, 16, 16});
    for (std::size_t i = 3; i < 13; ++i) img(0, i, 5) = img(0, i, 6) = 1.0;
    for (std::size_t j = 5; j < 12; ++j) img(0, 3, j) = img(0, 4, j) = 1.0;
    for (std::size_t j = 5; j < 10; ++j) img(0, 7, j) = img(0, 8, j) = 1.0;
    const lie::affine<lie::gl_plus<2>> g({-0.05, 0.05}, lie::gl_plus<2>::from_chart({-0.1, 0.1, 0.2, 0.4}));
    const auto moved = lie::act_on_images(g, img);
    out << "\nImage action (g.f)(u) = f(g^-1 u), bilinear, for g = (t, P R) in R^2 x| GL+(2):\n";
    print_image(out, img, moved);
}

const bool registered = widenn::cli::add_tour_section({60, "Lie groups: SO(n), GL+(n), SL(n), affine; Haar measure", run});

}  // namespace
