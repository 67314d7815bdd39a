// Tour section: dual activation kernels T = E[φ(u)φ(v)] and Ṫ = E[φ'(u)φ'(v)], closed form next to quadrature.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include <widenn/act/dual.hpp>

#include "cli.hpp"

namespace {

namespace act = widenn::act;

constexpr int tour_degree = 100;

// One table cell: a fixed-point number, or blanks when there is nothing to show.
std::string cell(double x, int width = 13) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%*.8f", width, std::abs(x) < 5e-9 ? 0.0 : x);  // no "-0.00000000"
    return buffer;
}

// Prints four rows (ρ = −0.9, 0, 0.5, 0.99); returns the largest |closed form − quadrature| (0 without a closed form).
template <class A>
double rows(std::ostream& out, const std::string& label, double q11, double q22) {
    double worst = 0;
    for (double rho : {-0.9, 0.0, 0.5, 0.99}) {
        const double q12 = rho * std::sqrt(q11 * q22);
        const auto quad = act::dual_quadrature<A, tour_degree>(q11, q12, q22);
        char head[48];
        std::snprintf(head, sizeof head, "  %-12s %6.2f", label.c_str(), rho);
        out << head;
        if constexpr (act::has_closed_form_dual<A>) {
            const auto closed = act::dual<A>(q11, q12, q22);
            const double gap = std::max(std::abs(closed.value - quad.value), std::abs(closed.derivative - quad.derivative));
            worst = std::max(worst, gap);
            char tail[32];
            std::snprintf(tail, sizeof tail, "  %9.1e\n", gap);
            out << cell(closed.value) << cell(quad.value) << cell(closed.derivative) << cell(quad.derivative) << tail;
        } else {
            out << std::string(13, ' ') << cell(quad.value) << std::string(13, ' ') << cell(quad.derivative) << "          -\n";
        }
    }
    return worst;
}

void run(std::ostream& out) {
    out << "For (u, v) ~ N(0, [[q11, q12], [q12, q22]]) with q11 = 1.3, q22 = 0.7: T = E[phi(u)phi(v)], Tdot = E[phi'(u)phi'(v)].\n"
        << "Closed forms (Cho & Saul 2009 arc-cosine; Williams 1997 erf; neural-tangents GELU, sin) next to 2-D Gauss-Hermite\n"
        << "quadrature of degree " << tour_degree << "; tanh has no closed form (act::dual integrates it).\n\n"
        << "  activation      rho     T closed       T quad  Tdot closed    Tdot quad      |gap|\n";
    double smooth = 0;
    smooth = std::max(smooth, rows<act::erf<>>(out, "erf", 1.3, 0.7));
    smooth = std::max(smooth, rows<act::gelu>(out, "gelu", 1.3, 0.7));
    smooth = std::max(smooth, rows<act::sin<>>(out, "sin", 1.3, 0.7));
    const double kinked = rows<act::relu>(out, "relu", 1.3, 0.7);
    rows<act::tanh>(out, "tanh", 1.3, 0.7);
    char summary[256];
    std::snprintf(summary, sizeof summary,
                  "\nLargest gap: %.1e for the smooth activations, %.1e for ReLU, whose kink makes quadrature converge only\n"
                  "as O(1/degree); that is why every kinked activation in widenn has a closed form.\n",
                  smooth, kinked);
    out << summary;
}

const bool registered = widenn::cli::add_tour_section({20, "dual activation kernels: closed form vs quadrature", run});

}  // namespace
