// CNN-GP and CNN-NTK against the MLP's NNGP and NTK on Fashion-MNIST: kernel regression (the posterior mean, i.e.
// gradient flow to convergence for the NTK) with the infinite-width kernels of an architecture SPEC
// (limit/conv_kernel.hpp) on 28×28×1 images (or 14×14 with --downsample 2), and of a ReLU MLP of the same depth
// (limit/kernel.hpp) on the same images flattened. Reports accuracy and wall time per kernel, and writes a CSV.
// Then the finite-width part: finite CNNs of the same SPEC (nn::network<param::ntk, nn::serial<...>>, NTK
// parametrization with constants in the multipliers), widths 32..512 and several seeds, on a few Fashion-MNIST images
// downsampled to 7×7: the relative Frobenius error of their empirical NNGP (the readout's covariance given the last
// features) and empirical NTK (nn::empirical_ntk) against the kernels of limit::of<Net> configured from the network
// object (limit::kernel_plan_for), with the least-squares log-log slope (about −1/2); a table, a CSV and a gnuplot PNG.
//
//   cnn_kernels [--arch conv:3,relu,conv:3,relu,conv:3,relu,flatten] [--n-train 1000] [--n-test 1000] [--downsample 1]
//               [--weight-var 2] [--bias-var 0.01] [--diag-reg 1e-4] [--mlp-depth 3] [--threads 0] [--csv cnn_kernels.csv]
//               [--part all|regression|convergence] [--seeds 8] [--min-width 32] [--max-width 512] [--inputs 4]
//               [--convergence-out cnn_convergence]
//
// Preprocessing as `widenn regress`: centre with the training mean image, scale every image to norm √d; targets
// one-hot − 0.1 (neural-tangents' examples); a diagonal regulariser diag_reg · mean(diag K).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

#include <widenn/act/activations.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/plot.hpp>
#include <widenn/limit/conv_kernel.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/serial.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/limit/solvers.hpp>
#include <widenn/nn/spec.hpp>

#include "cli/cli.hpp"
#include "cli/kernel_dispatch.hpp"

namespace wn = widenn;
namespace lim = widenn::limit;
using wn::matrix;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

// Images N × side² (float, 0..255) -> N × (side/f)² averaged over f × f blocks, centred and scaled to norm √d.
matrix<double> prepare(const xt::xtensor<float, 2>& raw, std::size_t side, std::size_t f, const std::vector<double>* mean_in,
                       std::vector<double>* mean_out) {
    const std::size_t n = raw.shape()[0], s = side / f, d = s * s;
    matrix<double> x = xt::zeros<double>({n, d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t y = 0; y < s * f; ++y)
            for (std::size_t c = 0; c < s * f; ++c) x(i, (y / f) * s + c / f) += raw(i, y * side + c) / double(f * f * 255);
    std::vector<double> mean(d, 0.0);
    if (mean_in) mean = *mean_in;
    else {
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t k = 0; k < d; ++k) mean[k] += x(i, k) / double(n);
    }
    if (mean_out) *mean_out = mean;
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0;
        for (std::size_t k = 0; k < d; ++k) x(i, k) -= mean[k], norm += x(i, k) * x(i, k);
        const double scale = norm > 0 ? std::sqrt(double(d) / norm) : 1.0;
        for (std::size_t k = 0; k < d; ++k) x(i, k) *= scale;
    }
    return x;
}

double accuracy(const matrix<double>& k_train, const matrix<double>& k_test_train, const matrix<double>& y,
                const xt::xtensor<int, 1>& labels, double diag_reg) {
    const matrix<double> alpha = lim::cholesky_factor(k_train, {.diag_reg = diag_reg}).solve(y);
    const matrix<double> scores = lim::detail::matmul(k_test_train, alpha);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < scores.shape()[0]; ++i) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < scores.shape()[1]; ++c)
            if (scores(i, c) > scores(i, best)) best = c;
        correct += static_cast<int>(best) == labels(i);
    }
    return double(correct) / double(scores.shape()[0]);
}

// ---- finite CNNs of growing width against their kernel ----

// The compositions the finite-width part can build: the --arch must be one of their SPECs (limit::of<Net>::text()).
namespace nn = widenn::nn;
using default_cnn = nn::network<wn::param::ntk, nn::serial<nn::conv<3>, wn::act::relu, nn::conv<3>, wn::act::relu, nn::conv<3>,
                                                          wn::act::relu, nn::flatten>,
                                double>;
using pooled_cnn = nn::network<wn::param::ntk, nn::serial<nn::conv<3>, wn::act::relu, nn::avgpool<2>, nn::conv<3>, wn::act::relu, nn::gap>,
                               double>;

double relative_error(const matrix<double>& a, const matrix<double>& b) {
    double diff = 0, norm = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        const double d = a.data()[k] - b.data()[k];
        diff += d * d, norm += b.data()[k] * b.data()[k];
    }
    return std::sqrt(diff / norm);
}

double slope_of(const std::vector<double>& x, const std::vector<double>& y) {
    const double k = double(x.size());
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
    return (k * sxy - sx * sy) / (k * sxx - sx * sx);
}

struct convergence_options {
    std::size_t side = 7, min_width = 32, max_width = 512;
    int seeds = 8;
    double weight_var = 2.0, bias_var = 0.01;
    std::string prefix = "cnn_convergence";
};

// x: N × side² images (one channel, NHWC rows as the network takes them).
template <class Net>
void convergence(const matrix<double>& x, const convergence_options& o) {
    const std::size_t n = x.shape()[0];
    auto config = [&](std::size_t width, std::uint64_t seed) {
        return nn::network_config{.image = {o.side, o.side, 1}, .width = width, .d_out = 1, .bias = o.bias_var > 0,
                                  .weight_var = o.weight_var, .bias_var = o.bias_var, .constants = nn::constants_in::multiplier, .seed = seed};
    };
    // the kernels, configured from a network object (its SPEC from its type, σw², σb² from its configuration)
    const lim::kernel_pair<double> limit = lim::kernel_plan_for(Net(config(o.min_width, 0)), x).compute();
    const bool gap = lim::of<Net>::spec().layers.back().kind == wn::nn::layer_kind::gap;
    const std::string last = std::string(gap ? "gap" : "flatten") + std::to_string(Net::size);
    std::printf("\nfinite CNNs %s against their kernels: %zu images %zu x %zu, %d seeds per width\n", lim::of<Net>::text().c_str(), n, o.side,
                o.side, o.seeds);
    std::printf("%8s  %14s  %14s  %12s\n", "width", "NNGP rel. err", "NTK rel. err", "CPU s/seed");
    wn::io::csv_writer csv(o.prefix + ".csv", {"width", "seed", "nngp_relative_error", "ntk_relative_error"});
    std::vector<double> log_width, log_nngp, log_ntk;
    for (std::size_t width = o.min_width; width <= o.max_width; width *= 2) {
        double nngp_mean = 0, ntk_mean = 0;
        const std::clock_t start = std::clock();
        for (int seed = 0; seed < o.seeds; ++seed) {
            Net net(config(width, 1000 * width + static_cast<std::uint64_t>(seed)));
            const matrix<double> theta = nn::empirical_ntk(net, x, x);
            // the empirical NNGP: E[f(x_i) f(x_j)] over the readout given the last features φ, σw² φ_i·φ_j / fan_in + σb²
            net.forward(x);
            matrix<double> nngp = matrix<double>::from_shape({n, n});
            net.for_each_output([&](const std::string& name, const double* features, std::size_t count) {
                if (name != last) return;
                const std::size_t per = count / n;
                for (std::size_t i = 0; i < n; ++i)
                    for (std::size_t j = 0; j < n; ++j) {
                        double dot = 0;
                        for (std::size_t k = 0; k < per; ++k) dot += features[i * per + k] * features[j * per + k];
                        nngp(i, j) = o.weight_var * dot / static_cast<double>(per) + o.bias_var;
                    }
            });
            const double e_nngp = relative_error(nngp, limit.nngp), e_ntk = relative_error(theta, limit.ntk);
            csv.row(width, seed, e_nngp, e_ntk);
            nngp_mean += e_nngp / o.seeds, ntk_mean += e_ntk / o.seeds;
        }
        std::printf("%8zu  %14.5f  %14.5f  %12.2f\n", width, nngp_mean, ntk_mean,
                    double(std::clock() - start) / CLOCKS_PER_SEC / o.seeds);
        std::fflush(stdout);
        log_width.push_back(std::log(double(width)));
        log_nngp.push_back(std::log(nngp_mean));
        log_ntk.push_back(std::log(ntk_mean));
    }
    csv.close();  // whole before gnuplot reads it
    const double s_nngp = slope_of(log_width, log_nngp), s_ntk = slope_of(log_width, log_ntk);
    std::printf("log-log slope: NNGP %.3f, NTK %.3f (expected about -0.5)\nwrote %s.csv\n", s_nngp, s_ntk, o.prefix.c_str());
    const std::string data = wn::io::gnuplot_quote(o.prefix + ".csv");
    const std::string script =
        "set terminal pngcairo size 800,560\nset output " + wn::io::gnuplot_quote(o.prefix + ".png") +
        "\nset datafile separator ','\nset logscale xy\nset xlabel 'width (channels)'\nset ylabel 'relative Frobenius error'\n"
        "set key top right\nset title 'finite CNNs against their kernels (" + lim::of<Net>::text() + ")'\nplot " + data +
        " using 1:3 every ::1 with points pt 7 ps 0.6 title 'NNGP, slope " + std::to_string(s_nngp).substr(0, 6) + "', " + data +
        " using 1:4 every ::1 with points pt 5 ps 0.6 title 'NTK, slope " + std::to_string(s_ntk).substr(0, 6) + "', " +
        std::to_string(std::exp(log_ntk.front()) * std::sqrt(double(o.min_width))) + "/sqrt(x) dt 2 title 'slope -1/2'\n";
    std::string reason;
    if (wn::io::run_gnuplot(script, &reason))
        std::printf("wrote %s.png\n", o.prefix.c_str());
    else
        std::printf("no plot: %s\n", reason.c_str());
}

// The regression table as bars (the CSV's rows: model, kernel, accuracy, ...), next to the CSV with .png for .csv.
void accuracy_plot(const std::string& csv_path, const std::string& title, const std::string& arch) {
    const std::string png = (csv_path.size() > 4 && csv_path.ends_with(".csv") ? csv_path.substr(0, csv_path.size() - 4) : csv_path) + ".png";
    const std::string data = wn::io::gnuplot_quote(csv_path);
    const std::string script =
        "set terminal pngcairo size 800,500\nset output " + wn::io::gnuplot_quote(png) +
        "\nset datafile separator ','\nstats " + data + " every ::1 using 3 nooutput\n"
        "set yrange [STATS_min - 0.02 : STATS_max + 0.01]\nset style fill solid 0.7 border -1\nset boxwidth 0.6\n"
        "set ylabel 'test accuracy'\nset title " + wn::io::gnuplot_quote(title) + "\nset label 1 " +
        wn::io::gnuplot_quote("CNN: " + arch) + " at graph 0.02, graph 0.95 font ',9'\nplot " + data +
        " every ::1 using 0:3:xtic(sprintf('%s %s', word(strcol(1), 1), strcol(2) eq 'ntk' ? 'NTK' : 'NNGP')) with boxes notitle, " + data +
        " every ::1 using 0:3:(sprintf('%.4f', $3)) with labels offset 0,0.7 notitle\n";
    std::string reason;
    if (wn::io::run_gnuplot(script, &reason))
        std::printf("wrote %s\n", png.c_str());
    else
        std::printf("no plot: %s\n", reason.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    const std::string usage =
        "usage: cnn_kernels [--arch conv:3,relu,conv:3,relu,conv:3,relu,flatten] [--n-train 1000] [--n-test 1000]\n"
        "                   [--downsample 1|2] [--weight-var 2] [--bias-var 0.01] [--diag-reg 1e-4] [--mlp-depth 3]\n"
        "                   [--threads 0] [--csv cnn_kernels.csv]\n"
        "                   [--part all|regression|convergence] [--seeds 8] [--min-width 32] [--max-width 512] [--inputs 4]\n"
        "                   [--convergence-out cnn_convergence]\n"
        "CNN-GP / CNN-NTK (the SPEC's infinite-width kernels, widenn kernel --arch) against the MLP's NNGP / NTK on\n"
        "Fashion-MNIST: kernel regression accuracy and wall time of each (--csv, and with gnuplot a bar chart beside it,\n"
        ".png for .csv). Then finite CNNs of the same SPEC (NTK parametrization), widths --min-width, 2x, ...\n"
        "--max-width, --seeds seeds each, on --inputs test images downsampled to 7 x 7: the relative error of their\n"
        "empirical NNGP and NTK against the kernels, and the log-log slope (about -1/2); writes PREFIX.csv and, with\n"
        "gnuplot, PREFIX.png (PREFIX: --convergence-out). The finite part is compiled for the SPECs\n"
        "conv:3,relu,conv:3,relu,conv:3,relu,flatten and conv:3,relu,avgpool:2,conv:3,relu,gap. Needs the Fashion-MNIST files.\n";
    return wn::cli::run_program("cnn_kernels", usage, argc, argv, [&](wn::cli::args& a) {
        const std::string arch = a.text("arch", "conv:3,relu,conv:3,relu,conv:3,relu,flatten");
        const std::size_t n_train = a.count("n-train", 1000), n_test = a.count("n-test", 1000);
        const int downsample = a.integer<int>("downsample", 1, 1, 2);
        const double weight_var = a.real("weight-var", 2.0, 0.0, 100.0), bias_var = a.real("bias-var", 0.01, 0.0, 100.0);
        const double diag_reg = a.real("diag-reg", 1e-4, 0.0, 1e6);
        const int mlp_depth = a.integer<int>("mlp-depth", 3, 1, 100), threads = a.integer<int>("threads", 0, 0, 1024);
        const std::string csv_path = a.text("csv", "cnn_kernels.csv");
        const std::string part = a.text("part", "all");
        convergence_options conv;
        conv.seeds = a.integer<int>("seeds", 8, 1, 1000);
        conv.min_width = a.count("min-width", 32, 1, std::size_t{1} << 16);
        conv.max_width = a.count("max-width", 512, 1, std::size_t{1} << 16);
        const std::size_t conv_inputs = a.count("inputs", 4, 2, 1000);
        conv.prefix = a.text("convergence-out", "cnn_convergence");
        conv.weight_var = weight_var, conv.bias_var = bias_var;
        a.reject_unknown();
        if (part != "all" && part != "regression" && part != "convergence")
            throw wn::cli::usage_error("--part must be all, regression or convergence, got '" + part + "'");
        if (conv.max_width < conv.min_width)
            throw wn::cli::usage_error("--max-width (" + std::to_string(conv.max_width) + ") must be at least --min-width (" +
                                       std::to_string(conv.min_width) + ")");
        if (conv.prefix.empty()) throw wn::cli::usage_error("--convergence-out needs a path prefix");
        const wn::nn::spec spec = wn::nn::parse_spec(arch);
        const std::string canonical = wn::nn::format_spec(spec);
        const bool finite_default = canonical == lim::of<default_cnn>::text(), finite_pooled = canonical == lim::of<pooled_cnn>::text();
        if (part == "convergence" && !finite_default && !finite_pooled)
            throw wn::cli::usage_error("--part convergence: the finite networks are compiled for the SPECs " + lim::of<default_cnn>::text() +
                                       " and " + lim::of<pooled_cnn>::text() + "; --arch " + arch + " is neither");
        auto run_convergence = [&] {
            if (!finite_default && !finite_pooled) {
                std::printf("\nfinite-width part skipped: its networks are compiled for %s and %s only\n", lim::of<default_cnn>::text().c_str(),
                            lim::of<pooled_cnn>::text().c_str());
                return;
            }
            const auto images = wn::io::read_fashion_mnist(false, conv_inputs);
            const std::vector<double> no_centring(49, 0.0);
            const matrix<double> x = prepare(images.images, 28, 4, &no_centring, nullptr);  // 7 x 7, norm 7
            if (finite_default)
                convergence<default_cnn>(x, conv);
            else
                convergence<pooled_cnn>(x, conv);
        };
        if (part == "convergence") {
            run_convergence();
            return 0;
        }
        const std::size_t side = 28 / static_cast<std::size_t>(downsample);
        wn::nn::infer_shapes(spec, side, side, 1);

        const auto train = wn::io::read_fashion_mnist(true, n_train);
        const auto test = wn::io::read_fashion_mnist(false, n_test);
        std::vector<double> mean;
        const matrix<double> x_train = prepare(train.images, 28, static_cast<std::size_t>(downsample), nullptr, &mean);
        const matrix<double> x_test = prepare(test.images, 28, static_cast<std::size_t>(downsample), &mean, nullptr);
        const std::size_t m = x_train.shape()[0], p = x_test.shape()[0];
        matrix<double> y = xt::full_like(matrix<double>::from_shape({m, std::size_t{10}}), -0.1);
        for (std::size_t i = 0; i < m; ++i) y(i, static_cast<std::size_t>(train.labels(i))) += 1.0;
        std::cout << "cnn_kernels: Fashion-MNIST " << m << " train, " << p << " test, " << side << " x " << side << "; --arch " << arch
                  << ", weight_var " << weight_var << ", bias_var " << bias_var << ", diag_reg " << diag_reg << "\n";

        const lim::kernel_config config{.weight_var = weight_var, .bias_var = bias_var, .threads = threads};
        wn::io::csv_writer csv(csv_path, {"model", "kernel", "accuracy", "kernel_seconds", "n_train", "n_test"});
        auto report = [&](const std::string& model, const lim::kernel_pair<double>& k_train, const lim::kernel_pair<double>& k_test,
                          double seconds) {
            for (int ntk = 0; ntk < 2; ++ntk) {
                const double acc = accuracy(ntk ? k_train.ntk : k_train.nngp, ntk ? k_test.ntk : k_test.nngp, y, test.labels, diag_reg);
                std::printf("  %-48s %-4s accuracy %.4f   kernels %.1f s\n", model.c_str(), ntk ? "NTK" : "NNGP", acc, seconds);
                csv.row(model, ntk ? "ntk" : "nngp", acc, seconds, m, p);
            }
            std::fflush(stdout);
        };

        // the CNN on images N × side × side × 1
        xt::xarray<double> img_train = x_train, img_test = x_test;
        img_train.reshape({m, side, side, std::size_t{1}});
        img_test.reshape({p, side, side, std::size_t{1}});
        auto t0 = clock_type::now();
        lim::kernel_config cnn_config = config;
        cnn_config.progress = wn::cli::kernels::progress_printer("CNN train kernel");
        const auto cnn_train = lim::conv_kernels(spec, img_train, cnn_config);
        cnn_config.progress = wn::cli::kernels::progress_printer("CNN test kernel");
        const auto cnn_test = lim::conv_kernels(spec, img_test, img_train, cnn_config);
        report("CNN " + arch, cnn_train, cnn_test, seconds_since(t0));

        // the MLP on the same images flattened
        t0 = clock_type::now();
        const auto mlp_train = lim::kernel_plan<wn::param::ntk, wn::act::relu, double>(x_train, mlp_depth, config).compute();
        const auto mlp_test = lim::kernel_plan<wn::param::ntk, wn::act::relu, double>(x_test, x_train, mlp_depth, config).compute();
        report("MLP relu depth " + std::to_string(mlp_depth), mlp_train, mlp_test, seconds_since(t0));
        csv.close();  // whole before gnuplot reads it
        std::printf("wrote %s\n", csv_path.c_str());
        accuracy_plot(csv_path,
                      "Fashion-MNIST, " + std::to_string(m) + " train / " + std::to_string(p) + " test at " + std::to_string(side) + " x " +
                          std::to_string(side) + ": kernel regression",
                      arch);
        if (part == "all") run_convergence();
        return 0;
    });
}
