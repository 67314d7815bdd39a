// Task structure and nonlinearity (Alleman, Lindsey & Fusi 2024, "Task structure and nonlinearity jointly determine
// learned representational geometry", ICLR): one-hidden-layer networks trained by SGD on a task with controlled input
// and target geometry; the hidden layer's linear CKA (Kornblith et al. 2019) to the inputs and to the targets across
// training, tanh against ReLU, over several seeds. The paper's finding: tanh networks align their hidden geometry with
// the targets, ReLU networks keep more of the input geometry.
//
// Task: 8 conditions, the corners (a, b, c) ∈ {±1}³ of a cube, `per` samples each.
//   --input factorised: x = √(d/3)·(a u_1 + b u_2 + c u_3) + σ·noise, u_i orthonormal in R^d (d = 16 by default);
//   --input random:     x = √d·m_condition + σ·noise with unstructured random condition means m (|m| = 1).
//   --target abstract:  y = (a, b)  (c is irrelevant to the task);
//   --target xor:       y = (a·b, b·c).
// Networks: nn::mlp<param::mup, A, 1> of width 128 at base width 8 (μP, so the hidden layer learns features: in the
// lazy regime it would keep its initial geometry), σw² = 1 for tanh and 2 for ReLU, full-batch SGD on MSE; trainable
// hidden biases (zero at initialisation) unless --no-bias.
// The infinite-width prediction at initialisation: CKA of the NNGP post-activation kernel T(Σ¹)(x, x')
// (limit::kernel) to the input and target Gram matrices, next to the finite networks' mean at step 0.
// The infinite-width trajectory: the μP limit of these networks (limit::mup_1hl, TP4 Thm 6.1, configured from the
// network by limit::mup_1hl_options_for) trained by the same full-batch SGD, and the CKA of its hidden kernel
// K_t = E[φ(h_t(x)) φ(h_t(x'))] (mup_1hl::hidden_kernel) at the same checkpoints. The limit has no biases, and its
// quadrature runs over the span of the inputs plus the 2 outputs, so it is computed for the bias-free network on the
// noise-free task (the 8 condition means, each weighted equally, which is the full batch of the task at --noise 0):
// the factorised means span 3 dimensions (a 5-dimensional Gaussian), the random ones 8 (10 dimensions, intractable on
// a tensor grid: skipped, with the reason printed). With --no-bias --noise 0 the finite networks are exactly the
// networks of the limit on the same data.
//
// Also at the end: the parallelism score and CCGP (Bernardi et al. 2020) of the hidden layer for the variable a (a
// target) and c (input only).
//
//   task_geometry [--input factorised|random] [--target abstract|xor] [--seeds 10] [--width 128] [--base-width 8] [--steps 1000]
//                 [--lr 0.3] [--per 25] [--dim 16] [--noise 0.3] [--no-bias] [--limit-degree 12] [--csv task_geometry.csv]
//                 [--plot task_geometry.png]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/geometry/abstraction.hpp>
#include <widenn/geometry/cka.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/mup_1hl.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/nn/train.hpp>

#include "cli/cli.hpp"

namespace wn = widenn;
namespace geo = widenn::geometry;
using wn::matrix;

namespace {

struct task {
    matrix<double> x, y;
    std::vector<int> condition;
    matrix<double> means, mean_targets;  // 8 × d condition means (the noise-free inputs) and their targets, 8 × 2
};

task make_task(const std::string& input, const std::string& target, std::size_t per, std::size_t d, double noise, std::uint64_t seed) {
    task t;
    const std::size_t n = 8 * per;
    t.x = matrix<double>::from_shape({n, d});
    t.y = matrix<double>::from_shape({n, 2});
    // orthonormal directions (Gram–Schmidt on Gaussian rows) or random unit condition means
    matrix<double> dirs = wn::normal_matrix(input == "factorised" ? 3 : 8, d, seed);
    for (std::size_t i = 0; i < dirs.shape(0); ++i) {
        for (std::size_t k = 0; input == "factorised" && k < i; ++k) {
            double p = 0;
            for (std::size_t j = 0; j < d; ++j) p += dirs(i, j) * dirs(k, j);
            for (std::size_t j = 0; j < d; ++j) dirs(i, j) -= p * dirs(k, j);
        }
        double s = 0;
        for (std::size_t j = 0; j < d; ++j) s += dirs(i, j) * dirs(i, j);
        for (std::size_t j = 0; j < d; ++j) dirs(i, j) /= std::sqrt(s);
    }
    wn::rng gen(seed + 1);
    const double dd = static_cast<double>(d);
    t.means = matrix<double>::from_shape({8, d});
    t.mean_targets = matrix<double>::from_shape({8, 2});
    for (std::size_t c = 0; c < 8; ++c) {
        const double a = (c & 4) ? 1 : -1, b = (c & 2) ? 1 : -1, cc = (c & 1) ? 1 : -1;
        for (std::size_t j = 0; j < d; ++j)
            t.means(c, j) = input == "factorised" ? std::sqrt(dd / 3) * (a * dirs(0, j) + b * dirs(1, j) + cc * dirs(2, j))
                                                  : std::sqrt(dd) * dirs(c, j);
        t.mean_targets(c, 0) = target == "abstract" ? a : a * b;
        t.mean_targets(c, 1) = target == "abstract" ? b : b * cc;
        for (std::size_t r = 0; r < per; ++r) {
            const std::size_t i = c * per + r;
            for (std::size_t j = 0; j < d; ++j) t.x(i, j) = t.means(c, j) + noise * gen.normal();
            t.y(i, 0) = t.mean_targets(c, 0);
            t.y(i, 1) = t.mean_targets(c, 1);
            t.condition.push_back(static_cast<int>(c));
        }
    }
    return t;
}

matrix<double> gram(const matrix<double>& x) { return wn::limit::detail::matmul(x, xt::transpose(x)); }

struct curve {
    std::vector<std::vector<double>> input_cka, target_cka;  // [checkpoint][seed]
    std::vector<double> ps_a, ps_c, ccgp_a, ccgp_c, loss;
};

template <class A>
curve run(const task& t, const std::vector<std::size_t>& checkpoints, std::size_t seeds, std::size_t width, std::size_t base_width, double lr,
          double weight_var, bool bias, const char* name) {
    using net_t = wn::nn::mlp<wn::param::mup, A, 1, double>;
    curve out;
    out.input_cka.assign(checkpoints.size(), {});
    out.target_cka.assign(checkpoints.size(), {});
    const std::vector<int> side_a{0, 0, 0, 0, 1, 1, 1, 1}, side_c{0, 1, 0, 1, 0, 1, 0, 1};
    for (std::size_t s = 0; s < seeds; ++s) {
        net_t net({.d_in = t.x.shape(1), .width = width, .d_out = 2, .base_width = base_width, .bias = bias,
                   .weight_var = weight_var, .seed = 1000 + s});
        wn::nn::sgd opt(net, {.lr = lr});
        matrix<double> dout;
        std::size_t next = 0;
        double loss = 0;
        for (std::size_t step = 0; step <= checkpoints.back(); ++step) {
            if (step == checkpoints[next]) {
                net.forward(t.x);
                const matrix<double> h = net.post_activation(1);
                out.input_cka[next].push_back(geo::linear_cka(h, t.x));
                out.target_cka[next].push_back(geo::linear_cka(h, t.y));
                if (++next == checkpoints.size()) {
                    out.ps_a.push_back(geo::parallelism_score(h, t.condition, side_a));
                    out.ps_c.push_back(geo::parallelism_score(h, t.condition, side_c));
                    out.ccgp_a.push_back(geo::ccgp(h, t.condition, side_a));
                    out.ccgp_c.push_back(geo::ccgp(h, t.condition, side_c));
                    out.loss.push_back(loss);
                    break;
                }
            }
            loss = wn::nn::train_step<wn::nn::mse>(net, opt, t.x, t.y, dout);
        }
        std::cout << "  " << name << " seed " << s + 1 << "/" << seeds << ": final loss " << loss << ", input CKA "
                  << out.input_cka.back().back() << ", target CKA " << out.target_cka.back().back() << std::endl;
    }
    return out;
}

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}
double sd(const std::vector<double>& v) {
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0.0;
}

// CKA of the infinite-width post-activation kernel T(Σ¹) at initialisation to the input and target Grams.
template <class A>
std::pair<double, double> nngp_cka(const task& t, double weight_var) {
    const auto k = wn::limit::kernel<wn::param::ntk, A, 1>::kernels(t.x, {.weight_var = weight_var, .compute_ntk = false});
    const matrix<double> post = k.nngp / weight_var;  // Σ² = σw² T(Σ¹) without biases
    return {geo::cka_from_grams(post, gram(t.x)), geo::cka_from_grams(post, gram(t.y))};
}

// The μP limit's trajectory: CKA of its hidden kernel on the condition means to their input and target Grams, at the
// checkpoints (CKA on the 8 means equals CKA on the noise-free task's 8·per rows, each mean repeated per times).
struct limit_curve {
    bool computed = false;
    std::string reason;  // why not, when not computed
    std::vector<double> input_cka, target_cka;
    double kernel_error = 0, init_error = 0, final_loss = 0, seconds = 0;
    std::size_t nodes = 0, converged_at = 0;  // converged_at: the step from which the loss is below converged_loss (0: never)
};

// Below this mean loss the residuals are ~1e-9 (near the rounding floor of the quadrature sum), so each further SGD step
// moves the particles by ~lr·1e-9, at most ~1e-6 over 1000 steps: the limit has
// stopped moving to far below its quadrature error, and its later checkpoints repeat the last kernel. The same when the
// loss is bitwise unchanged for 10 steps: a stationary point (e.g. bias-free tanh on the XOR task, where the odd network's
// output and its gradient stay exactly 0 by the sign symmetry of the cube).
constexpr double converged_loss = 1e-18;
constexpr int stationary_steps = 10;

template <class A>
limit_curve run_limit(const task& t, const std::vector<std::size_t>& checkpoints, std::size_t width, std::size_t base_width, double lr,
                      double weight_var, int degree, const char* name) {
    using net_t = wn::nn::mlp<wn::param::mup, A, 1, double>;
    limit_curve out;
    const auto start = std::chrono::steady_clock::now();
    const net_t shape({.d_in = t.x.shape(1), .width = width, .d_out = 2, .base_width = base_width, .bias = false, .weight_var = weight_var});
    const auto options = wn::limit::mup_1hl_options_for(shape, lr, wn::limit::loss_kind::mse, 0.0, {.degree = degree});
    std::optional<wn::limit::mup_1hl<A>> limit;
    try {
        limit.emplace(t.means, 2, options);
    } catch (const wn::error& e) {
        out.reason = e.what();
        return out;
    }
    out.nodes = limit->nodes();
    const matrix<double> input_gram = gram(t.means), target_gram = gram(t.mean_targets);
    // at t = 0 the hidden kernel is the NNGP post-activation kernel T(Σ¹) on the means: the quadrature's error there
    const auto nngp = wn::limit::kernel<wn::param::ntk, A, 1>::kernels(t.means, {.weight_var = weight_var, .compute_ntk = false});
    out.init_error = xt::amax(xt::abs(limit->hidden_kernel(t.means) - nngp.nngp / weight_var))();
    std::size_t next = 0;
    int unchanged = 0;
    matrix<double> k;
    for (std::size_t step = 0; step <= checkpoints.back(); ++step) {
        if (step == checkpoints[next]) {
            if (!out.converged_at || k.size() == 0) k = limit->hidden_kernel(t.means);
            out.input_cka.push_back(geo::cka_from_grams(k, input_gram));
            out.target_cka.push_back(geo::cka_from_grams(k, target_gram));
            if (++next == checkpoints.size()) break;
        }
        if (out.converged_at) continue;
        const double previous = out.final_loss;
        out.final_loss = limit->step(t.means, t.mean_targets);
        unchanged = step > 0 && out.final_loss == previous ? unchanged + 1 : 0;
        if (out.final_loss < converged_loss || unchanged == stationary_steps) {
            out.converged_at = step;
            if (out.final_loss < converged_loss)
                std::cout << "  " << name << " μP limit: loss " << out.final_loss << " < " << converged_loss << " at step " << step
                          << "; the particles have stopped moving" << std::endl;
            else
                std::cout << "  " << name << " μP limit: loss " << out.final_loss << " unchanged for " << stationary_steps
                          << " steps at step " << step << ": a stationary point" << std::endl;
            k = limit->hidden_kernel(t.means);
        }
        if ((step + 1) % 100 == 0)
            std::cout << "  " << name << " μP limit: step " << step + 1 << "/" << checkpoints.back() << ", loss " << out.final_loss << std::endl;
    }
    matrix<double> gradient;
    out.final_loss = wn::nn::loss_value_and_gradient(wn::limit::loss_kind::mse, limit->predict(t.means), t.mean_targets, gradient);
    out.kernel_error = xt::amax(limit->hidden_kernel_error_estimate(t.means, t.means))();
    out.computed = true;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: task_geometry [--input factorised|random] [--target abstract|xor] [--seeds 10] [--width 128] [--base-width 8] [--steps 1000]\n"
        "                     [--lr 0.3] [--per 25] [--dim 16] [--noise 0.3] [--no-bias] [--limit-degree 12]\n"
        "                     [--csv task_geometry.csv] [--plot task_geometry.png]\n"
        "  --limit-degree: Gauss-Hermite points per dimension of the muP limit's quadrature (0: skip the limit)\n";
    return wn::cli::run_program("task_geometry", usage, argc, argv, [&](wn::cli::args& a) {
        const std::string input = a.text("input", "factorised"), target = a.text("target", "abstract");
        const std::size_t seeds = a.count("seeds", 10, 2, 1000), width = a.count("width", 128, 4, 8192);
        const std::size_t base_width = a.count("base-width", 8, 1, 8192);
        const std::size_t steps = a.count("steps", 1000, 1, 1000000), per = a.count("per", 25, 1, 10000), d = a.count("dim", 16, 8, 4096);
        const double lr = a.real("lr", 0.3, 1e-6, 100.0), noise = a.real("noise", 0.3, 0.0, 100.0);
        const bool bias = !a.has("no-bias");
        const int limit_degree = a.integer<int>("limit-degree", 12, 0, 64);
        const std::string csv = a.text("csv", "task_geometry.csv"), plot = a.text("plot", "task_geometry.png");
        a.reject_unknown();
        if (input != "factorised" && input != "random") throw wn::cli::usage_error("--input must be factorised or random, got '" + input + "'");
        if (target != "abstract" && target != "xor") throw wn::cli::usage_error("--target must be abstract or xor, got '" + target + "'");
        const auto start = std::chrono::steady_clock::now();
        const task t = make_task(input, target, per, d, noise, 5);
        std::cout << "task_geometry: " << input << " inputs in R^" << d << " (noise " << noise << "), " << target << " targets, "
                  << 8 * per << " samples; 1 hidden layer of width " << width << ", SGD lr " << lr << ", " << steps << " steps, "
                  << seeds << " seeds per activation" << std::endl;
        std::vector<std::size_t> checkpoints{0};
        for (double s = 1; s < static_cast<double>(steps); s *= 1.5)
            if (static_cast<std::size_t>(s) > checkpoints.back()) checkpoints.push_back(static_cast<std::size_t>(s));
        checkpoints.push_back(steps);

        const auto nngp_tanh = nngp_cka<wn::act::tanh>(t, 1.0);
        const auto nngp_relu = nngp_cka<wn::act::relu>(t, 2.0);
        const curve tanh_curve = run<wn::act::tanh>(t, checkpoints, seeds, width, base_width, lr, 1.0, bias, "tanh");
        const curve relu_curve = run<wn::act::relu>(t, checkpoints, seeds, width, base_width, lr, 2.0, bias, "relu");
        limit_curve tanh_limit, relu_limit;
        if (limit_degree == 0) {
            tanh_limit.reason = relu_limit.reason = "--limit-degree 0";
        } else {
            std::cout << "μP limit (width -> infinity) of the bias-free network on the noise-free inputs (the 8 condition means)" << std::endl;
            tanh_limit = run_limit<wn::act::tanh>(t, checkpoints, width, base_width, lr, 1.0, limit_degree, "tanh");
            relu_limit = run_limit<wn::act::relu>(t, checkpoints, width, base_width, lr, 2.0, limit_degree, "relu");
        }
        const bool with_limit = tanh_limit.computed && relu_limit.computed;

        std::vector<std::string> columns{"step", "tanh_input_cka", "tanh_input_sd", "tanh_target_cka", "tanh_target_sd", "relu_input_cka",
                                         "relu_input_sd", "relu_target_cka", "relu_target_sd"};
        if (with_limit)
            for (const char* c : {"tanh_limit_input_cka", "tanh_limit_target_cka", "relu_limit_input_cka", "relu_limit_target_cka"})
                columns.emplace_back(c);
        wn::io::csv_writer out(csv, columns);
        for (std::size_t c = 0; c < checkpoints.size(); ++c) {
            std::vector<double> v{mean(tanh_curve.input_cka[c]), sd(tanh_curve.input_cka[c]), mean(tanh_curve.target_cka[c]),
                                  sd(tanh_curve.target_cka[c]), mean(relu_curve.input_cka[c]), sd(relu_curve.input_cka[c]),
                                  mean(relu_curve.target_cka[c]), sd(relu_curve.target_cka[c])};
            if (with_limit)
                for (double x : {tanh_limit.input_cka[c], tanh_limit.target_cka[c], relu_limit.input_cka[c], relu_limit.target_cka[c]})
                    v.push_back(x);
            std::vector<std::string> fields{std::to_string(checkpoints[c])};
            for (double x : v) {
                char buffer[32];
                std::snprintf(buffer, sizeof buffer, "%.17g", x);
                fields.emplace_back(buffer);
            }
            out.row_of(fields);
        }
        out.close();  // before gnuplot reads it

        std::printf("\n                    tanh                 relu\n");
        std::printf("NNGP at init:  input %.4f  target %.4f | input %.4f  target %.4f\n", nngp_tanh.first, nngp_tanh.second, nngp_relu.first,
                    nngp_relu.second);
        std::printf("step 0 (mean): input %.4f  target %.4f | input %.4f  target %.4f\n", mean(tanh_curve.input_cka[0]),
                    mean(tanh_curve.target_cka[0]), mean(relu_curve.input_cka[0]), mean(relu_curve.target_cka[0]));
        if (with_limit) {
            std::printf("μP limit, bias-free, on the noise-free inputs (%zu / %zu quadrature nodes, %.0f s / %.0f s):\n", tanh_limit.nodes, relu_limit.nodes,
                        tanh_limit.seconds, relu_limit.seconds);
            for (std::size_t c = 0; c < checkpoints.size(); ++c)
                if (c == 0 || c + 1 == checkpoints.size() || checkpoints[c] == 10 || checkpoints[c] == 100 || (c % 4 == 0))
                    std::printf("  step %5zu:  input %.4f  target %.4f | input %.4f  target %.4f\n", checkpoints[c], tanh_limit.input_cka[c],
                                tanh_limit.target_cka[c], relu_limit.input_cka[c], relu_limit.target_cka[c]);
            const auto at = [](const limit_curve& l) { return l.converged_at ? std::to_string(l.converged_at) : std::string("never"); };
            std::printf("  final loss tanh %.3g  relu %.3g (below %.0e or stationary from step %s / %s on)\n", tanh_limit.final_loss, relu_limit.final_loss,
                        converged_loss, at(tanh_limit).c_str(), at(relu_limit).c_str());
            std::printf("  hidden-kernel quadrature error: at t = 0 against the NNGP tanh %.2g  relu %.2g; final estimate (distance to\n"
                        "  the rule with half the points) tanh %.2g  relu %.2g\n",
                        tanh_limit.init_error, relu_limit.init_error, tanh_limit.kernel_error, relu_limit.kernel_error);
            if (noise > 0 || bias)
                std::printf("  (the finite networks above differ:%s%s; --no-bias --noise 0 makes them the limit's networks and task)\n",
                            bias ? " they have biases" : "", noise > 0 ? (bias ? ", noisy inputs" : " noisy inputs") : "");
        } else {
            std::printf("μP limit: not computed (%s)\n", (tanh_limit.computed ? relu_limit.reason : tanh_limit.reason).c_str());
        }
        const auto& ti = tanh_curve.input_cka.back();
        const auto& tt = tanh_curve.target_cka.back();
        const auto& ri = relu_curve.input_cka.back();
        const auto& rt = relu_curve.target_cka.back();
        std::printf("after %zu steps, mean ± sd over %zu seeds (min..max):\n", steps, seeds);
        auto range = [](const std::vector<double>& v) { return std::pair{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())}; };
        std::printf("  input CKA   tanh %.4f ± %.4f (%.4f..%.4f)   relu %.4f ± %.4f (%.4f..%.4f)\n", mean(ti), sd(ti), range(ti).first,
                    range(ti).second, mean(ri), sd(ri), range(ri).first, range(ri).second);
        std::printf("  target CKA  tanh %.4f ± %.4f (%.4f..%.4f)   relu %.4f ± %.4f (%.4f..%.4f)\n", mean(tt), sd(tt), range(tt).first,
                    range(tt).second, mean(rt), sd(rt), range(rt).first, range(rt).second);
        std::printf("  final loss  tanh %.3g   relu %.3g\n", mean(tanh_curve.loss), mean(relu_curve.loss));
        std::printf("  parallelism (a / c)  tanh %.3f / %.3f   relu %.3f / %.3f\n", mean(tanh_curve.ps_a), mean(tanh_curve.ps_c),
                    mean(relu_curve.ps_a), mean(relu_curve.ps_c));
        std::printf("  CCGP        (a / c)  tanh %.3f / %.3f   relu %.3f / %.3f\n", mean(tanh_curve.ccgp_a), mean(tanh_curve.ccgp_c),
                    mean(relu_curve.ccgp_a), mean(relu_curve.ccgp_c));
        const bool target_sign = mean(tt) > mean(rt), input_sign = mean(ri) > mean(ti);
        std::printf("paper's sign: target CKA tanh > relu: %s; input CKA relu > tanh: %s\n", target_sign ? "yes" : "no", input_sign ? "yes" : "no");
        if (with_limit)
            std::printf("μP limit after %zu steps: target CKA tanh %.4f vs relu %.4f (%s); input CKA tanh %.4f vs relu %.4f (%s)\n", steps,
                        tanh_limit.target_cka.back(), relu_limit.target_cka.back(),
                        tanh_limit.target_cka.back() > relu_limit.target_cka.back() ? "tanh higher" : "relu higher",
                        tanh_limit.input_cka.back(), relu_limit.input_cka.back(),
                        relu_limit.input_cka.back() > tanh_limit.input_cka.back() ? "relu higher" : "tanh higher");

        std::string reason;
        const std::string q = wn::io::gnuplot_quote(csv);
        const std::string script = "set terminal pngcairo size 1000,500\nset output " + wn::io::gnuplot_quote(plot) +
                                   "\nset datafile separator ','\nset logscale x\nset xlabel 'SGD step (+1)'\nset ylabel 'linear CKA of the hidden layer'\n"
                                   "set title '" + input + " inputs, " + target + " targets: " + std::to_string(seeds) +
                                   " seeds, mean ± sd'\nset key outside right\nset yrange [*:1]\nset xrange [1:" +
                                   std::to_string(steps + 1) + "]\n"
                                   "plot " + q + " using ($1+1):2:3 with yerrorlines lc rgb '#1f77b4' title 'tanh: to inputs', " +
                                   q + " using ($1+1):4:5 with yerrorlines lc rgb '#1f77b4' dt 2 title 'tanh: to targets', " +
                                   q + " using ($1+1):6:7 with yerrorlines lc rgb '#d62728' title 'relu: to inputs', " +
                                   q + " using ($1+1):8:9 with yerrorlines lc rgb '#d62728' dt 2 title 'relu: to targets'" +
                                   (with_limit ? ", " + q + " using ($1+1):10 with lines lw 2 lc rgb '#17becf' title 'tanh μP limit: to inputs', " +
                                                     q + " using ($1+1):11 with lines lw 2 lc rgb '#17becf' dt 2 title 'tanh μP limit: to targets', " +
                                                     q + " using ($1+1):12 with lines lw 2 lc rgb '#ff7f0e' title 'relu μP limit: to inputs', " +
                                                     q + " using ($1+1):13 with lines lw 2 lc rgb '#ff7f0e' dt 2 title 'relu μP limit: to targets'"
                                               : std::string()) +
                                   "\n";
        if (wn::io::run_gnuplot(script, &reason))
            std::cout << "wrote " << csv << " and " << plot << '\n';
        else
            std::cout << "wrote " << csv << " (no plot: " << reason << ")\n";
        std::cout << "total " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s\n";
        return 0;
    });
}
