// Every ```cpp block of README.md and docs/*.md, compiled and run: each block is pasted here verbatim between
// "// BEGIN <page> block <n>" and "// END <page> block <n>" (n counts the page's ```cpp blocks from 1), preceded by the
// inputs the page's text describes and followed by checks of what the block's comments claim. The test
// "every ```cpp block ... is compiled" in sources.cpp fails, naming the first differing line, when a page and this file
// disagree: change both together. A new block goes in a new namespace and TEST_CASE below.
//
// Blocks are pasted inside functions or namespaces. Their #include lines are then no-ops, because every widenn header
// (and every standard header a block names) is included once here at the top; a block that names a header missing
// from this list expands it inside a function and fails to compile, which is the signal to add it here.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numbers>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include <widenn/widenn.hpp>
#include <widenn/act/activations.hpp>
#include <widenn/act/depth_optimal.hpp>
#include <widenn/act/dual.hpp>
#include <widenn/act/xtensor.hpp>
#include <widenn/equivariant/model.hpp>
#include <widenn/io/coord_check.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/lie/lie.hpp>
#include <widenn/limit/feature_learning.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/nn/coord_check.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/optim.hpp>
#include <widenn/param/classify.hpp>

#include <doctest/doctest.h>

namespace {

namespace fs = std::filesystem;

// A scratch directory that is the working directory while it lives (blocks that write files write them here).
class scratch_directory {
public:
    explicit scratch_directory(const std::string& name)
        : previous_(fs::current_path()), path_(fs::temp_directory_path() / ("widenn_test_docs_" + name)) {
        fs::remove_all(path_);
        fs::create_directories(path_);
        fs::current_path(path_);
    }
    ~scratch_directory() {
        std::error_code ignored;
        fs::current_path(previous_, ignored);
        fs::remove_all(path_, ignored);
    }
    scratch_directory(const scratch_directory&) = delete;
    scratch_directory& operator=(const scratch_directory&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path previous_, path_;
};

template <class E>
std::vector<std::size_t> shape_of(const E& e) {
    return {e.shape().begin(), e.shape().end()};
}

double max_abs_difference(const widenn::matrix<double>& a, const widenn::matrix<double>& b) {
    REQUIRE(shape_of(a) == shape_of(b));
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.flat(i) - b.flat(i)));
    return m;
}

}  // namespace

// ------------------------------------------------------------------------------------------------ README.md

namespace readme_taste {
// Returns what the block computed, for the checks below.
struct result {
    widenn::matrix<double> f_net, f_limit, f0_test;
};
result run() {
// BEGIN README.md block 1 (verbatim: change the page and this copy together)
#include <widenn/widenn.hpp>
#include <xtensor/xview.hpp>  // xt::view below
namespace wn = widenn;

// The regime of a parametrization is a compile-time fact (Tensor Programs IV, Thm 3.3, Cor 3.9).
constexpr auto info = wn::param::classify<wn::param::mup, /*hidden layers*/ 3>();
static_assert(info.stable && info.regime == wn::regime::feature_learning && info.r == wn::rational{0});

// Synthetic data: 64 training and 16 test points in R^20, one regression target.
const wn::matrix<double> x_train = wn::normal_matrix(64, 20, 7), x_test = wn::normal_matrix(16, 20, 8);
const wn::matrix<double> y_train = xt::view(xt::sin(x_train), xt::all(), xt::range(0, 1));

// A finite NTK-parametrized network (neural-tangents' convention) ...
using net_t = wn::nn::mlp<wn::param::ntk, wn::act::relu, 3, double>;
net_t net({.d_in = 20, .width = 512, .d_out = 1, .weight_var = 2.0, .bias_var = 0.1,
           .constants = wn::nn::constants_in::multiplier, .seed = 1});

// ... and its infinite-width limit from the same policies: NTK is in the kernel regime.
using lim = wn::limit::of<net_t>;                        // == limit::kernel<param::ntk, act::relu, 3>
const auto train = lim::kernels(x_train, {.weight_var = 2.0, .bias_var = 0.1});           // {nngp, ntk}, 64 x 64
const auto cross = lim::kernels(x_test, x_train, {.weight_var = 2.0, .bias_var = 0.1});   // 16 x 64
const double lr = 0.2 * wn::limit::max_learning_rate(train.ntk, 64);

// Train the net by SGD on MSE; predict the same run with the limit, from the same initial function.
const wn::matrix<double> f0_train = net.forward(x_train), f0_test = net.forward(x_test);
wn::nn::sgd opt(net, {.lr = lr});                        // per-layer rates from the policy
wn::matrix<double> dout;
for (int step = 0; step < 50; ++step) {
    wn::nn::mse::value_and_gradient(net.forward(x_train), y_train, dout);
    opt.step(net.backward(x_train, dout));
}
const wn::matrix<double> f_limit =
    wn::limit::gradient_descent_mse(train.ntk, y_train, {.lr = lr}).test(cross.ntk, 50.0, f0_test, f0_train);
const wn::matrix<double> f_net = net.forward(x_test);    // within O(1/sqrt(width)) + O(lr) of f_limit
// END README.md block 1
    return {f_net, f_limit, f0_test};
}
}  // namespace readme_taste

TEST_CASE("README: A taste") {
    const auto r = readme_taste::run();
    REQUIRE(shape_of(r.f_net) == std::vector<std::size_t>{16, 1});
    // The finite net and its limit agree to a fraction of how far the outputs moved (O(1/√width) + O(lr)).
    const double moved = max_abs_difference(r.f_limit, r.f0_test);
    CHECK(moved > 0.05);
    CHECK(max_abs_difference(r.f_net, r.f_limit) < 0.35 * moved);
}

namespace readme_activation {
// BEGIN README.md block 2 (verbatim: change the page and this copy together)
struct swish {
    static constexpr std::string_view name = "swish";
    template <class T> static T value(T x) { return x / (T(1) + std::exp(-x)); }
    template <class T> static T derivative(T x) {
        const T s = T(1) / (T(1) + std::exp(-x));
        return s * (T(1) + x * (T(1) - s));
    }
};
// wn::nn::mlp<wn::param::mup, swish, 3> and wn::limit::kernel<wn::param::ntk, swish, 3> now work.
// END README.md block 2
}  // namespace readme_activation

TEST_CASE("README: adding your own activation") {
    namespace wn = widenn;
    using swish = readme_activation::swish;
    static_assert(!wn::act::has_closed_form_dual<swish>);
    // "wn::nn::mlp<wn::param::mup, swish, 3> and wn::limit::kernel<wn::param::ntk, swish, 3> now work."
    wn::nn::mlp<wn::param::mup, swish, 3> net({.d_in = 4, .width = 16, .d_out = 2, .seed = 3});
    const wn::matrix<float> x = wn::normal_matrix<float>(5, 4, 1);
    CHECK(shape_of(net.forward(x)) == std::vector<std::size_t>{5, 2});
    const auto k = wn::limit::kernel<wn::param::ntk, swish, 3>::kernels(wn::normal_matrix(3, 4, 2));
    CHECK(shape_of(k.ntk) == std::vector<std::size_t>{3, 3});
    CHECK(k.ntk(0, 0) > k.nngp(0, 0));  // Θ = Σ + (positive terms) on the diagonal
    // The derivative is φ' (central difference).
    const double h = 1e-6, x0 = 0.7;
    CHECK(swish::derivative(x0) == doctest::Approx((swish::value(x0 + h) - swish::value(x0 - h)) / (2 * h)).epsilon(1e-8));
}

// ------------------------------------------------------------------------------------------------ docs/activations.md

namespace docs_activations_use {
void run() {
    const widenn::matrix<double> x = widenn::normal_matrix(3, 4, 5);
// BEGIN docs/activations.md block 1 (verbatim: change the page and this copy together)
#include <widenn/act/dual.hpp>      // includes act/activations.hpp
#include <widenn/act/xtensor.hpp>   // act::apply, act::apply_derivative
namespace act = widenn::act;

double y  = act::gelu::value(0.3), dy = act::gelu::derivative(0.3);
auto   h  = act::apply<act::relu>(x);              // lazy xtensor expression, φ elementwise
auto   dh = act::apply_derivative<act::relu>(x);   // φ' elementwise

// For (u, v) ~ N(0, [[q11, q12], [q12, q22]]):  T = E[φ(u)φ(v)],  Ṫ = E[φ'(u)φ'(v)]  (argument order q11, q12, q22)
act::dual_value<double> d = act::dual<act::erf<>>(1.3, 0.4, 0.7);   // closed form (Williams 1997)
auto t = act::dual<act::tanh>(1.3, 0.4, 0.7);                         // no closed form: Gauss–Hermite, degree 100
auto q = act::dual_quadrature<act::tanh, 200>(1.3, 0.4, 0.7);         // choose the degree yourself
static_assert(act::has_closed_form_dual<act::relu> && !act::has_closed_form_dual<act::tanh>);
// END docs/activations.md block 1
    const widenn::matrix<double> relu_x = h, relu_dx = dh;
    for (std::size_t i = 0; i < x.size(); ++i) {
        CHECK(relu_x.flat(i) == std::max(x.flat(i), 0.0));
        CHECK(relu_dx.flat(i) == (x.flat(i) > 0 ? 1.0 : 0.0));
    }
    CHECK(dy == doctest::Approx(0.5 * std::erfc(-0.3 / std::sqrt(2.0)) + 0.3 * std::exp(-0.045) / std::sqrt(2 * std::numbers::pi)));
    CHECK(y == doctest::Approx(0.3 * 0.5 * std::erfc(-0.3 / std::sqrt(2.0))));
    CHECK(d.value == doctest::Approx(act::dual_quadrature<act::erf<>, 200>(1.3, 0.4, 0.7).value).epsilon(1e-12));
    CHECK(t.value == doctest::Approx(q.value).epsilon(1e-9));
    CHECK(t.derivative == doctest::Approx(q.derivative).epsilon(1e-8));
}
}  // namespace docs_activations_use

TEST_CASE("docs/activations.md: duals") { docs_activations_use::run(); }

namespace docs_activations_program {
// BEGIN docs/activations.md block 2 (verbatim: change the page and this copy together)
#include <cmath>
#include <cstdio>
#include <string_view>
#include <widenn/act/dual.hpp>
namespace act = widenn::act;

// Swish / SiLU, φ(x) = x·σ(x): value and derivative only; the dual comes from quadrature.
struct swish {
    static constexpr std::string_view name = "swish";
    template <class T> static T value(T x) { return x * act::sigmoid::value(x); }
    template <class T> static T derivative(T x) {
        const T s = act::sigmoid::value(x);
        return s + x * s * (T(1) - s);
    }
};

// √2·max(x, 0) with its closed form: act::dual uses `dual` instead of quadrature.
struct he_relu {
    static constexpr std::string_view name = "he_relu";
    template <class T> static T value(T x) { return x > T(0) ? std::sqrt(T(2)) * x : T(0); }
    template <class T> static T derivative(T x) { return x > T(0) ? std::sqrt(T(2)) : T(0); }
    template <class T> static act::dual_value<T> dual(T q11, T q12, T q22) {
        const auto r = act::relu::dual(q11, q12, q22);
        return {2 * r.value, 2 * r.derivative};
    }
};

int main() {
    static_assert(!act::has_closed_form_dual<swish> && act::has_closed_form_dual<he_relu>);
    const auto s = act::dual<swish>(1.0, 0.5, 1.0);    // T = 0.18316966, Tdot = 0.31227962
    const auto h = act::dual<he_relu>(1.0, 0.5, 1.0);  // T = 0.60899778, Tdot = 0.66666667
    std::printf("%.8f %.8f %.8f %.8f\n", s.value, s.derivative, h.value, h.derivative);
    return 0;
}
// END docs/activations.md block 2
}  // namespace docs_activations_program

TEST_CASE("docs/activations.md: adding an activation (the values in its comments)") {
    namespace act = widenn::act;
    using namespace docs_activations_program;
    const auto s = act::dual<swish>(1.0, 0.5, 1.0);
    const auto h = act::dual<he_relu>(1.0, 0.5, 1.0);
    CHECK(s.value == doctest::Approx(0.18316966).epsilon(1e-7));
    CHECK(s.derivative == doctest::Approx(0.31227962).epsilon(1e-7));
    CHECK(h.value == doctest::Approx(0.60899778).epsilon(1e-7));
    CHECK(h.derivative == doctest::Approx(0.66666667).epsilon(1e-7));
    CHECK(docs_activations_program::main() == 0);
}

// ------------------------------------------------------------------------------------------------ docs/coord-check.md

namespace docs_coord_check {
void run() {
// BEGIN docs/coord-check.md block 1 (verbatim: change the page and this copy together)
#include <widenn/act/activations.hpp>
#include <widenn/io/coord_check.hpp>   // includes nn/coord_check.hpp
namespace wn = widenn;

wn::nn::coord_check_config c;
c.widths = {256, 1024};
c.steps = 3;                       // records at t = 1 (initialisation), 2, 3
c.seeds = 2;
c.lr = 1.0;                        // optimizer = coord_check_optimizer::sgd (default) or ::adam
using net = wn::nn::mlp<wn::param::mup, wn::act::relu, 2, float>;
auto r = wn::nn::coord_check<net>(c, [](std::size_t width, std::size_t seed) {  // progress
    std::cerr << "width " << width << ", seed " << seed << " done\n";
});
r.mean_l1(1024, 3, "x2");          // l1 averaged over the seeds
wn::io::write_coord_check_csv(r, "cc.csv");      // columns width,seed,step,layer,l1
wn::io::plot_coord_check(r, "cc.png", "muP");     // gnuplot: one panel per step, log2 width axis; false without gnuplot
std::cout << r.table();
// END docs/coord-check.md block 1
    // μP: every layer's l1 stays within mup's factor 1.2 across widths at t = 3 (the readout starts at 0, so t ≥ 2).
    for (const auto& layer : r.layers) {
        const double small = r.mean_l1(c.widths.front(), 3, layer), large = r.mean_l1(c.widths.back(), 3, layer);
        CHECK_MESSAGE(large / small < 1.2, layer);
        CHECK_MESSAGE(large / small > 1 / 1.2, layer);
    }
    CHECK(fs::file_size("cc.csv") > 0);
}
}  // namespace docs_coord_check

TEST_CASE("docs/coord-check.md: coordinate check") {
    scratch_directory scratch("coord_check");
    std::ostringstream progress, table;  // the block's progress lines (one per network) and its table
    {
        struct redirect {
            std::ostream& stream;
            std::streambuf* previous;
            ~redirect() { stream.rdbuf(previous); }
        } to_progress{std::cerr, std::cerr.rdbuf(progress.rdbuf())}, to_table{std::cout, std::cout.rdbuf(table.rdbuf())};
        docs_coord_check::run();
    }
    CHECK(table.str().find("x2") != std::string::npos);
    CHECK(progress.str() == "width 256, seed 0 done\nwidth 256, seed 1 done\nwidth 1024, seed 0 done\nwidth 1024, seed 1 done\n");
}

namespace docs_idx {
// Writes an IDX file: magic 0 0 8 rank, big-endian dimensions, bytes.
void write_idx(const fs::path& p, std::vector<std::uint32_t> dims, const std::vector<unsigned char>& data) {
    std::ofstream out(p, std::ios::binary);
    out.put(0).put(0).put(8).put(static_cast<char>(dims.size()));
    for (auto d : dims)
        for (int s = 24; s >= 0; s -= 8) out.put(static_cast<char>((d >> s) & 0xff));
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}
void run(const std::string& images_path, const std::string& labels_path) {
// BEGIN docs/coord-check.md block 2 (verbatim: change the page and this copy together)
#include <widenn/io/idx.hpp>
auto images = widenn::io::read_idx_images(images_path);  // xt::xtensor<float, 2>, N x (rows*cols), byte / 255
auto labels = widenn::io::read_idx_labels(labels_path);  // xt::xtensor<int, 1>
// both take an optional limit: the first k items; the whole file is still checked
if (widenn::io::fashion_mnist_available()) {
    auto train = widenn::io::read_fashion_mnist(/*train=*/true, /*limit=*/20000);  // .images, .labels
}
// END docs/coord-check.md block 2
    REQUIRE(shape_of(images) == std::vector<std::size_t>{3, 4});
    CHECK(images(1, 2) == doctest::Approx(6.0f / 255));
    CHECK(labels(2) == 2);
}
}  // namespace docs_idx

TEST_CASE("docs/coord-check.md: IDX files") {
    scratch_directory scratch("idx");
    std::vector<unsigned char> pixels(12), classes{0, 1, 2};
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>(i);
    docs_idx::write_idx("images", {3, 2, 2}, pixels);
    docs_idx::write_idx("labels", {3}, classes);
    // Fashion-MNIST in a scratch directory (3 images), so the block's "available" branch runs without the data set.
    docs_idx::write_idx("train-images-idx3-ubyte", {3, 2, 2}, pixels);
    docs_idx::write_idx("train-labels-idx1-ubyte", {3}, classes);
    docs_idx::write_idx("t10k-images-idx3-ubyte", {3, 2, 2}, pixels);
    docs_idx::write_idx("t10k-labels-idx1-ubyte", {3}, classes);
    const char* previous = std::getenv("WIDENN_FASHION_MNIST_DIR");
    const std::string saved = previous ? previous : "";
    ::setenv("WIDENN_FASHION_MNIST_DIR", scratch.path().c_str(), 1);
    CHECK(widenn::io::fashion_mnist_available());
    docs_idx::run("images", "labels");
    if (previous)
        ::setenv("WIDENN_FASHION_MNIST_DIR", saved.c_str(), 1);
    else
        ::unsetenv("WIDENN_FASHION_MNIST_DIR");
}

// ------------------------------------------------------------------------------------------------ docs/equivariant.md

namespace docs_equivariant {
void run() {
    const xt::xtensor<float, 4> images = xt::cast<float>(xt::reshape_view(widenn::normal_matrix(1, 1600, 11), {1, 1, 40, 40}));
// BEGIN docs/equivariant.md block 1 (verbatim: change the page and this copy together)
#include <widenn/equivariant/model.hpp>
namespace eq = widenn::equivariant;
using H = widenn::lie::gl_plus<2>;
// images: B × 1 × 40 × 40, xt::xtensor<float, 4>

eq::lifting<H, float> lift({.in_channels = 1, .out_channels = 8, .kernel = 5});
eq::group_conv<H, float> conv({.in_channels = 8, .out_channels = 8, .kernel = 5, .padding = 2});
widenn::rng train_rng(1);
auto grid = eq::sample_grid<H>(4, train_rng, eq::sampling::stratified, eq::ball_proposal(0.4));  // fresh draws (training)
auto y = lift.forward(images, grid);                      // B × 4 × 8 × 36 × 36: batch, group sample, channel, pixel
auto z = conv.forward(y, grid, grid);                     // integrates over the grid y lives on
xt::xtensor<float, 5> dz = xt::ones_like(z);              // ∂loss/∂z (here loss = Σ z)
auto dy = conv.backward(dz);                              // adds SIREN gradients, returns d/dy
widenn::rng fixed(42);
auto eval_grid = eq::sample_grid<H>(4, fixed, eq::sampling::stratified, eq::ball_proposal(0.4));  // fixed (evaluation)

eq::affine_model<H, float> paper({});                     // rgenn's default size: 339,282 parameters
eq::affine_model<H, float> net({.channels = 8, .samples = 4, .head_width = 64});  // a small one
widenn::nn::adam opt(net.parameters(), {.lr = 2e-4, .weight_decay = 5e-3});  // honours parameter::lr_scale
auto logits = net.forward(images, grid, /*training=*/true);
xt::xtensor<float, 2> dlogits = xt::ones_like(logits);   // ∂loss/∂logits, e.g. from a cross-entropy
opt.zero_grad(); net.backward(dlogits); opt.step();      // backward adds to the gradients
auto eval_logits = net.forward(images, eval_grid, /*training=*/false);
// END docs/equivariant.md block 1
    CHECK(shape_of(y) == std::vector<std::size_t>{1, 4, 8, 36, 36});
    CHECK(shape_of(z) == shape_of(y));
    CHECK(shape_of(dy) == shape_of(y));
    CHECK(eq::count_parameters(paper.parameters()) == 339282);
    CHECK(shape_of(logits) == std::vector<std::size_t>{1, 10});
    CHECK(shape_of(eval_logits) == std::vector<std::size_t>{1, 10});
}
}  // namespace docs_equivariant

TEST_CASE("docs/equivariant.md: layers and model") { docs_equivariant::run(); }

// ------------------------------------------------------------------------------------------------ docs/feature-learning.md

namespace docs_feature_learning {
struct example {
    widenn::matrix<double> x, y;
};
void linear() {
    std::vector<example> batches;
    for (std::uint64_t b = 0; b < 3; ++b) batches.push_back({widenn::normal_matrix(8, 64, 20 + b, 1.0 / 8), widenn::normal_matrix(8, 10, 30 + b)});
    const widenn::matrix<double> x_test = widenn::normal_matrix(4, 64, 40, 1.0 / 8);
// BEGIN docs/feature-learning.md block 1 (verbatim: change the page and this copy together)
#include <widenn/limit/feature_learning.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/optim.hpp>
namespace wn = widenn;
// batches: {x (B×64), y (B×10)} pairs of wn::matrix<double>; x_test: p×64

using net_t = wn::nn::mlp<wn::param::mup, wn::act::identity, 1, double>;
net_t net({.d_in = 64, .width = 4096, .d_out = 10, .base_width = 1, .bias = false});

// the exact limit with the options that describe `net` trained by nn::sgd with rate 0.1 (any base width / constants)
using limit_t = wn::limit::feature_learning_limit_t<net_t>;          // = limit::mup_linear<double>
limit_t limit(64, 10, wn::limit::mup_linear_options_for(net, 0.1, wn::limit::loss_kind::mse));
wn::limit::initialise_from_coefficients(net, limit, /*seed of Ω*/ 7);  // U = ΩA, nV = BΩᵀ: directly comparable runs
wn::nn::sgd<net_t> opt(net, {.lr = 0.1});

for (auto& [x, y] : batches) {
    limit.step(x, y);                                    // one SGD step of the infinite-width net
    wn::matrix<double> g;
    wn::nn::mse::value_and_gradient(net.forward(x), y, g);
    opt.step(net.backward(x, g));                        // the finite net: within O(n^{-1/2}) of the limit
}
auto f_inf = limit.predict(x_test);
// END docs/feature-learning.md block 1
    // The width-4096 net stays within O(n^{-1/2}) of its limit.
    CHECK(max_abs_difference(wn::matrix<double>(net.forward(x_test)), f_inf) < 0.1);
    CHECK(limit.steps() == 3);
}
void tanh() {
    namespace wn = widenn;
    // 5-D inputs spanning 2 dimensions
    const wn::matrix<double> basis = wn::normal_matrix(2, 5, 50);
    const wn::matrix<double> all_inputs = xt::linalg::dot(wn::normal_matrix(6, 2, 51), basis);
    const wn::matrix<double> x = xt::view(all_inputs, xt::range(0, 4), xt::all());
    const wn::matrix<double> x_test = xt::view(all_inputs, xt::range(4, 6), xt::all());
    const wn::matrix<double> y = wn::normal_matrix(4, 1, 52);
// BEGIN docs/feature-learning.md block 2 (verbatim: change the page and this copy together)
using tanh_net = wn::nn::mlp<wn::param::mup, wn::act::tanh, 1, double>;
tanh_net shape({.d_in = 5, .width = 1, .d_out = 1, .base_width = 1, .bias = false});
// all training AND test inputs (rows) fix the span; here 5-D inputs spanning 2 dimensions -> a 3-D Gaussian
wn::limit::mup_1hl<wn::act::tanh> lim(all_inputs, 1,
    wn::limit::mup_1hl_options_for(shape, 0.5, wn::limit::loss_kind::mse, 0.0, {.degree = 40}));
lim.step(x, y);
auto f = lim.predict(x_test);
auto err = lim.error_estimate(x_test);    // |f(K nodes) − f(⌈K/2⌉ nodes)| per output
// END docs/feature-learning.md block 2
    CHECK(lim.gaussian_dim() == 3);
    CHECK(shape_of(f) == std::vector<std::size_t>{2, 1});
    CHECK(err(0, 0) < 1e-3);
}
}  // namespace docs_feature_learning

TEST_CASE("docs/feature-learning.md: the linear limit") { docs_feature_learning::linear(); }
TEST_CASE("docs/feature-learning.md: a nonlinear limit over an input span") { docs_feature_learning::tanh(); }

// ------------------------------------------------------------------------------------------------ docs/kernels.md

namespace docs_kernels {
void run() {
    const widenn::matrix<double> x_train = widenn::normal_matrix(12, 5, 60), x_test = widenn::normal_matrix(3, 5, 61);
    const widenn::matrix<double> y_train = widenn::normal_matrix(12, 2, 62);
// BEGIN docs/kernels.md block 1 (verbatim: change the page and this copy together)
#include <widenn/act/activations.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/limit/of.hpp>
#include <widenn/limit/predict.hpp>
#include <widenn/nn/mlp.hpp>
namespace wn = widenn;
// x_train (m×d), y_train (m×k), x_test (p×d): wn::matrix<double>

using net = wn::nn::mlp<wn::param::ntk, wn::act::relu, 3, double>;
using lim = wn::limit::of<net>;   // == limit::kernel<param::ntk, act::relu, 3>: NTK parametrization is a kernel regime
const wn::limit::kernel_config cfg{.weight_var = 2.0, .bias_var = 0.1};     // σw², σb² (NT's W_std², b_std²)
auto train = lim::kernels(x_train, cfg);                                    // {nngp, ntk}, m×m
auto cross = lim::kernels(x_test, x_train, cfg);                            // p×m
wn::limit::gradient_descent_mse gd(train.ntk, y_train, {.lr = 1.0, .reg = {.diag_reg = 1e-4}});
auto f_t   = gd.test(cross.ntk, 1000.0);                       // after 1000 steps of rate 1 (t' = ηt/N)
auto f_inf = gd.test(cross.ntk, wn::limit::infinite_time);     // converged (Cholesky)
auto post  = wn::limit::gp_posterior(train.nngp, y_train, cross.nngp);     // NNGP posterior: post.mean (p×k) only
auto full  = wn::limit::gp_posterior(train.nngp, y_train, cross.nngp,      // given K_**, also full.covariance (p×p)
                                     lim::kernels(x_test, cfg).nngp);
// END docs/kernels.md block 1
    CHECK(post.covariance.size() == 0);
    REQUIRE(shape_of(full.covariance) == std::vector<std::size_t>{3, 3});
    CHECK(max_abs_difference(post.mean, full.mean) == 0);
    for (std::size_t i = 0; i < 3; ++i) CHECK(full.covariance(i, i) >= -1e-12);
    // With a small diag_reg, the converged gradient flow and the NTK-GP posterior mean agree (f(0) = 0).
    CHECK(max_abs_difference(f_inf, wn::limit::gp_posterior(train.ntk, y_train, cross.ntk, std::nullopt,
                                                             {.diag_reg = 1e-4}).mean) < 1e-8);
    CHECK(shape_of(f_t) == shape_of(f_inf));
}
}  // namespace docs_kernels

TEST_CASE("docs/kernels.md: quick start") { docs_kernels::run(); }

// ------------------------------------------------------------------------------------------------ docs/lie.md

namespace docs_lie {
// The integrand of the page's measured table: exp(−‖g − I‖² − ‖g⁻¹ − I‖²) on GL⁺(2).
template <class G>
double f(const G& g) {
    const auto m = g.matrix(), inv = g.inverse().matrix();
    double s = 0;
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
            const double e = i == j ? 1.0 : 0.0;
            s += (m(i, j) - e) * (m(i, j) - e) + (inv(i, j) - e) * (inv(i, j) - e);
        }
    return std::exp(-s);
}
void run() {
    const xt::xtensor<double, 3> batch = xt::zeros<double>({2, 8, 8});
// BEGIN docs/lie.md block 1 (verbatim: change the page and this copy together)
#include <widenn/lie/lie.hpp>
namespace lie = widenn::lie;

using H = lie::gl_plus<2>;                       // double by default; lie::gl_plus<2, float> for float
using G = lie::affine<H>;                        // R² ⋊ GL⁺(2)

widenn::rng gen(42);
auto [h, w, log_w] = H::sample(gen, 0.5);        // log-normal P, Haar R, Haar importance weight
G g({0.1, -0.2}, h);                             // translation, linear part
auto xi   = g.chart();                           // global chart (x, vee(log P + log R)), R^6
auto back = G::from_chart(xi);                   // == g
auto y    = g.act({0.5, 0.5});                   // h·x + t
auto ad   = g.adjoint();                         // 6 x 6
auto imgs = lie::act_on_images(g, batch);        // (g·f)(u) = f(g⁻¹u), bilinear, batch: (..., H, W)

// ∫_{GL⁺(2)} f dμ with its standard error
auto est = lie::integrate<H>([](const H& g) { return f(g); }, 200000, /*seed=*/1);
// END docs/lie.md block 1
    for (std::size_t i = 0; i < xi.size(); ++i) CHECK(back.chart()[i] == doctest::Approx(xi[i]).epsilon(1e-12));
    CHECK(xi.size() == 6);
    CHECK(ad.size() == 6);
    CHECK(y[0] == doctest::Approx(h.matrix()(0, 0) * 0.5 + h.matrix()(0, 1) * 0.5 + 0.1));
    CHECK(shape_of(imgs) == shape_of(batch));
    CHECK(w > 0);
    CHECK(std::abs(est.value - 1.6347) < 5 * std::hypot(est.standard_error, 0.0013));
}
}  // namespace docs_lie

TEST_CASE("docs/lie.md: quick example") { docs_lie::run(); }

// ------------------------------------------------------------------------------------------------ docs/nn.md

namespace docs_nn {
struct example {
    widenn::matrix<float> x;
    xt::xtensor<int, 1> labels;
};
void run() {
    std::vector<example> batches;
    for (std::uint64_t b = 0; b < 2; ++b) batches.push_back({widenn::normal_matrix<float>(8, 784, 70 + b), xt::xtensor<int, 1>{0, 1, 2, 3, 4, 5, 6, 7}});
    const widenn::matrix<float> x_train = widenn::normal_matrix<float>(3, 784, 80), x_test = widenn::normal_matrix<float>(2, 784, 81);
// BEGIN docs/nn.md block 1 (verbatim: change the page and this copy together)
#include <widenn/act/activations.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/optim.hpp>
namespace wn = widenn;

// 3 hidden layers of width 1024, μP with base width 128 (at width 128 this is exactly SP).
wn::nn::mlp<wn::param::mup, wn::act::relu, 3> net({.d_in = 784, .width = 1024, .d_out = 10,
                                                   .base_width = 128, .zero_readout = true, .seed = 1});
wn::nn::sgd opt(net, {.lr = 0.1, .momentum = 0.9, .clip_norm = 1.0});   // per-layer rates from the policy
wn::matrix<float> dout;                                                  // reused: no allocation per step
for (auto& [x, labels] : batches) {                                      // x: B x 784, labels: xt::xtensor<int, 1>
    const float loss = wn::nn::softmax_cross_entropy::value_and_gradient(net.forward(x), labels, dout);
    if (!std::isfinite(loss)) break;                                     // the mean loss of the batch
    opt.step(net.backward(x, dout));
}
wn::matrix<double> theta = wn::nn::empirical_ntk(net, x_test, x_train);  // (N1·10) x (N2·10)
// END docs/nn.md block 1
    CHECK(shape_of(theta) == std::vector<std::size_t>{20, 30});
    CHECK(std::isfinite(net.forward(x_test)(0, 0)));
}
}  // namespace docs_nn

TEST_CASE("docs/nn.md: training and the empirical NTK") { docs_nn::run(); }

// ------------------------------------------------------------------------------------------------ docs/parametrizations.md

namespace docs_parametrizations {
// BEGIN docs/parametrizations.md block 1 (verbatim: change the page and this copy together)
namespace wn = widenn;
using my_mup = wn::param::abc<wn::layer_exponents{{-1, 2}, {1, 2}, 0, {1, 2}},  // input
                              wn::layer_exponents{0, {2, 4}, 0, 1},             // hidden
                              wn::layer_exponents{{1, 2}, {1, 2}, 0, {1, 2}}>;  // readout
// param::mup is a named type (struct mup : abc<...>): compare exponents, not types
static_assert(my_mup::input == wn::param::mup::input && my_mup::hidden == wn::param::mup::hidden &&
              my_mup::output == wn::param::mup::output);  // rational{2, 4} and rational{1, 2} are one value
static_assert(wn::param::classify<my_mup, 3>().regime == wn::regime::feature_learning);
// END docs/parametrizations.md block 1
}  // namespace docs_parametrizations

TEST_CASE("docs/parametrizations.md: the policy (its checks are static_asserts)") {
    CHECK(widenn::param::classify<docs_parametrizations::my_mup, 2>().regime == widenn::regime::feature_learning);
}

// ------------------------------------------------------------------------------------------------ docs/theory

// Two normalisations docs/theory/lie-groups.md §3 and §4 state, against the densities lie/ implements, by deterministic
// radial quadrature (composite Simpson, 2000 intervals).
namespace {
template <class F>
double simpson(F f, double a, double b, int intervals = 2000) {
    const double h = (b - a) / intervals;
    double s = f(a) + f(b);
    for (int i = 1; i < intervals; ++i) s += f(a + i * h) * (i % 2 ? 4 : 2);
    return s * h / 3;
}
}  // namespace

TEST_CASE("docs/theory/lie-groups.md §3: the SO(3) chart density integrates to vol SO(3) = 16√2π²") {
    using G = widenn::lie::so<3>;
    const double pi = std::numbers::pi, radius = std::sqrt(2.0) * pi;  // the chart's domain ‖z‖ ≤ √2π
    const double total = simpson([](double rho) { return 4 * std::numbers::pi * rho * rho * std::exp(G::haar_log_density({rho, 0, 0})); },
                                 0.0, radius);
    CHECK(G::volume() == doctest::Approx(16 * std::sqrt(2.0) * pi * pi).epsilon(1e-12));
    CHECK(total == doctest::Approx(G::volume()).epsilon(1e-9));
    CHECK(widenn::lie::so<2>::volume() == doctest::Approx(2 * std::sqrt(2.0) * pi).epsilon(1e-12));
}

TEST_CASE("docs/theory/lie-groups.md §4: on SL(2) the mean of J(X) over the ball ‖X‖ ≤ r is (cosh(√2 r) − 1)/r²") {
    using P = widenn::lie::sspd<2>;
    for (const double r : {0.1, 0.4, 1.5}) {
        // X = hat(ρ, 0) has ‖X‖_F = ρ; J depends on ρ only (the eigenvalues of X are ±ρ/√2).
        const double mean = simpson([](double rho) { return 2 * rho * std::exp(P::polar_log_density({rho, 0})); }, 0.0, r) / (r * r);
        CHECK(mean == doctest::Approx((std::cosh(std::sqrt(2.0) * r) - 1) / (r * r)).epsilon(1e-10));
    }
}
