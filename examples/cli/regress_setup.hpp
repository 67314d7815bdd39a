#pragma once
// The options, data loading and preprocessing of `widenn regress`, shared by every front end of kernel regression
// (`widenn regress`, and `widenn-mpi regress` on MPI), so both read the same flags and the same data the same way.
//
//   auto opt = widenn::cli::regress::parse_options(a);   // reads every shared flag (range-checked)
//   ... read the front end's own flags ...;  a.reject_unknown();
//   auto data = widenn::cli::regress::load_data(opt);    // preprocessed inputs, targets and labels
//
// Data: IDX images (Fashion-MNIST by default) or .npy features and labels (--train-x X.npy --train-y y.npy
// --test-x ... --test-y ...; labels as integers, a vector or an N x 1 column, or as one-hot rows).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <widenn/core/errors.hpp>
#include <widenn/core/tensor.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/npy.hpp>
#include <widenn/limit/kernel.hpp>
#include <widenn/nn/spec.hpp>

#include "cli.hpp"
#include "kernel_dispatch.hpp"

namespace widenn::cli::regress {

// Everything the shared flags say. Solver fields are read here too so every front end accepts the same flags; a front
// end that cannot honour one says so.
struct options {
    std::string kernel = "ntk";  // ntk | nngp
    std::string act = "relu";
    std::string param = "ntk";   // ntk | standard
    int depth = 3;
    std::size_t n_train = 10000, n_test = 10000;
    double diag_reg = 1e-4;                                   // relative to the mean diagonal
    double time = std::numeric_limits<double>::infinity();    // gradient-flow time; inf = converged
    limit::kernel_config config{.weight_var = 2.0, .bias_var = 0.01};
    bool preprocess = true;  // centre with the training mean and scale every row to norm √d
    // IDX data (used when no .npy data is given)
    std::string train_images, train_labels, test_images, test_labels;
    // .npy data
    std::string train_x, train_y, test_x, test_y;
    // solver
    std::string solver = "auto";  // auto | cholesky | pcg
    std::size_t rank = 0;         // Nyström preconditioner rank; 0: automatic
    std::string store = "float";  // pcg kernel store: float | double
    double tolerance = 1e-6;      // pcg: relative residual per column
    std::size_t max_iterations = 1000;
    std::size_t seed = 1;         // Nyström landmarks
    // --arch SPEC: the kernels of a SPEC on images (read_arch; both front ends, widenn regress and widenn-mpi regress).
    std::string arch;             // empty: the MLP kernels (--act, --depth)
    std::size_t downsample = 1;   // average F x F pixel blocks of the images (F divides H and W)

    bool use_ntk() const { return kernel == "ntk"; }
    bool npy() const { return !train_x.empty(); }
};

// The usage lines of the shared flags (a front end prints its own first line and appends these).
inline const char* options_usage =
    "  [--kernel ntk|nngp] [--act relu] [--depth 3] [--weight-var 2] [--bias-var 0.01] [--param ntk|standard] [--width N]\n"
    "  [--n-train 10000] [--n-test 10000] [--diag-reg 1e-4] [--time inf] [--threads N] [--no-preprocess]\n"
    "  [--train-images F --train-labels F --test-images F --test-labels F]       IDX data (default: Fashion-MNIST)\n"
    "  [--train-x X.npy --train-y y.npy --test-x X.npy --test-y y.npy]          .npy data instead\n"
    "  [--solver auto|cholesky|pcg] [--rank R] [--store float|double] [--tolerance 1e-6] [--max-iterations 1000]\n"
    "  [--seed 1]\n";

// Reads every shared flag of `a` (the caller reads its own, then calls a.reject_unknown()). Bad values -> usage_error.
// The options into o (which may hold what read_arch has read already).
inline void read_options(args& a, options& o) {
    o.kernel = a.text("kernel", o.kernel);
    o.act = a.text("act", o.act);
    o.param = a.text("param", o.param);
    o.depth = a.integer<int>("depth", o.depth, 1, 10000);
    o.train_images = a.text("train-images", io::fashion_mnist_path("train-images-idx3-ubyte"));
    o.train_labels = a.text("train-labels", io::fashion_mnist_path("train-labels-idx1-ubyte"));
    o.test_images = a.text("test-images", io::fashion_mnist_path("t10k-images-idx3-ubyte"));
    o.test_labels = a.text("test-labels", io::fashion_mnist_path("t10k-labels-idx1-ubyte"));
    o.train_x = a.text("train-x", "");
    o.train_y = a.text("train-y", "");
    o.test_x = a.text("test-x", "");
    o.test_y = a.text("test-y", "");
    o.n_train = a.count("n-train", o.n_train);
    o.n_test = a.count("n-test", o.n_test);
    o.diag_reg = a.real("diag-reg", o.diag_reg, 0.0);
    o.time = a.text("time", "inf") == "inf" ? std::numeric_limits<double>::infinity() : a.real("time", 0.0, 0.0);
    o.config.weight_var = a.real("weight-var", o.config.weight_var, 0.0);
    o.config.bias_var = a.real("bias-var", o.config.bias_var, 0.0);
    o.config.width = a.integer<std::size_t>("width", 0, 0, std::size_t{1} << 40);
    o.config.threads = a.integer<int>("threads", 0, 0, 1024);
    o.preprocess = !a.has("no-preprocess");
    o.solver = a.text("solver", o.solver);
    o.rank = a.integer<std::size_t>("rank", o.rank, 0, std::size_t{1} << 32);
    o.store = a.text("store", o.store);
    o.tolerance = a.real("tolerance", o.tolerance, 1e-14, 0.5);
    o.max_iterations = a.count("max-iterations", o.max_iterations, 1, 1000000);
    o.seed = a.integer<std::size_t>("seed", o.seed, 0);
    if (o.kernel != "ntk" && o.kernel != "nngp") throw usage_error("--kernel must be ntk or nngp, got '" + o.kernel + "'");
    if (o.solver != "auto" && o.solver != "cholesky" && o.solver != "pcg")
        throw usage_error("--solver must be auto, cholesky or pcg, got '" + o.solver + "'");
    if (o.store != "float" && o.store != "double") throw usage_error("--store must be float or double, got '" + o.store + "'");
    kernels::with_parametrization(o.param, []<class>() {});  // unknown names fail here, before any work
    kernels::with_activation(o.act, []<class>() {});
    o.config.compute_ntk = o.use_ntk();
    if (o.param == "standard" && o.use_ntk() && o.config.width == 0) throw usage_error("--param standard needs --width N for its NTK");
    const int npy_given = !o.train_x.empty() + !o.train_y.empty() + !o.test_x.empty() + !o.test_y.empty();
    if (npy_given != 0 && npy_given != 4) throw usage_error("--train-x, --train-y, --test-x and --test-y go together: give all four");
    if (o.npy() && (a.has("train-images") || a.has("train-labels") || a.has("test-images") || a.has("test-labels")))
        throw usage_error("give either .npy data (--train-x ...) or IDX data (--train-images ...), not both");
    if (!o.npy())
        for (const auto* path : {&o.train_images, &o.train_labels, &o.test_images, &o.test_labels})
            if (path->empty())
                throw widenn::error("Fashion-MNIST is not in " + io::fashion_mnist_dir() +
                                    " (install the Debian package dataset-fashion-mnist, set WIDENN_FASHION_MNIST_DIR, or pass "
                                    "--train-images/--train-labels/--test-images/--test-labels, or .npy data with --train-x ...)");
    if (!std::isinf(o.time) && o.solver == "pcg")
        throw usage_error("--solver pcg solves the converged (t = inf) problem; a finite --time needs --solver cholesky");
}

inline options parse_options(args& a) {
    options o;
    read_options(a, o);
    return o;
}

// --arch SPEC [--downsample F] into o (before parse_options reads the rest): the SPEC names every layer, so --act and
// --depth are refused with it; --param is ntk or standard (with --width N, as for the MLP). Returns the parsed SPEC
// (empty without --arch): a bad token fails here, before any work.
inline widenn::nn::spec read_arch(args& a, options& o) {
    o.arch = a.text("arch", "");
    o.downsample = a.integer<std::size_t>("downsample", 1, 1, 64);
    if (o.arch.empty()) return {};
    (void)kernels::arch_parametrization(a);  // read into o.param by read_options; arch_kind gives it
    return widenn::nn::parse_spec(o.arch);
}

// The kernels' parametrization of an --arch run.
inline widenn::limit::parametrization_kind arch_kind(const options& o) {
    return o.param == "standard" ? widenn::limit::parametrization_kind::standard : widenn::limit::parametrization_kind::ntk;
}

// Inputs and targets ready for kernel regression.
struct data {
    matrix<double> x_train, x_test;  // m x d and p x d, preprocessed
    matrix<double> y_train;          // m x classes: one-hot − 0.1 (neural-tangents' examples)
    std::vector<int> train_labels, test_labels;
    std::size_t classes = 0;
    std::size_t height = 0, width = 0, channels = 0;  // with --arch and images: one row is an H x W x C image (NHWC)
    std::string source;  // "Fashion-MNIST IDX files" or the .npy paths, for the report
};

// Centre with `mean` and scale every row to norm √d (so K⁰(x, x) = 1): the usual preprocessing for kernel regression
// on images (neural-tangents' and Arora et al.'s CNTK experiments use standardised inputs). A zero row stays zero.
inline void preprocess(matrix<double>& x, const vector<double>& mean) {
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    for (std::size_t i = 0; i < n; ++i) {
        double norm = 0;
        for (std::size_t k = 0; k < d; ++k) {
            x(i, k) -= mean(k);
            norm += x(i, k) * x(i, k);
        }
        const double scale = norm > 0 ? std::sqrt(static_cast<double>(d) / norm) : 1.0;
        for (std::size_t k = 0; k < d; ++k) x(i, k) *= scale;
    }
}

// The images of a .npy file N x H x W x C as rows N x H·W·C (NHWC order kept).
inline matrix<double> read_npy_rows(const std::string& path) {
    const xt::xarray<double> a = io::read_npy<double>(path);
    const std::size_t n = a.shape()[0], per = a.size() / n;
    matrix<double> out = matrix<double>::from_shape({n, per});
    std::copy(a.begin(), a.end(), out.begin());
    return out;
}

// Every F x F block of pixels averaged (per channel): rows of H x W x C images to rows of H/F x W/F x C images.
inline matrix<double> downsample(const matrix<double>& x, std::size_t h, std::size_t w, std::size_t c, std::size_t f) {
    if (h % f != 0 || w % f != 0)
        throw shape_error("--downsample " + std::to_string(f) + " needs images whose height and width it divides, got " + std::to_string(h) +
                          " x " + std::to_string(w));
    const std::size_t n = x.shape()[0], ho = h / f, wo = w / f;
    matrix<double> out = xt::zeros<double>({n, ho * wo * c});
    const double scale = 1.0 / static_cast<double>(f * f);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t y = 0; y < h; ++y)
            for (std::size_t z = 0; z < w; ++z)
                for (std::size_t k = 0; k < c; ++k) out(i, ((y / f) * wo + z / f) * c + k) += scale * x(i, (y * w + z) * c + k);
    return out;
}

// Class labels from a .npy file: integers (a vector or an N x 1 column of integral values >= 0) or one-hot rows
// (N x k, k >= 2, each row one 1 and zeros). Anything else is an error naming the file and the row.
inline std::vector<int> read_npy_labels(const std::string& path, std::size_t limit) {
    const matrix<double> y = io::read_npy_matrix<double>(path);
    const std::size_t n = std::min(y.shape()[0], limit), k = y.shape()[1];
    std::vector<int> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (k == 1) {
            const double v = y(i, 0);
            if (!(v >= 0 && v < 1e6 && v == std::floor(v)))
                fail("'", path, "': labels must be integers in [0, 1e6) or one-hot rows; row ", i, " holds ", v);
            out[i] = static_cast<int>(v);
        } else {
            std::size_t ones = 0, at = 0;
            for (std::size_t c = 0; c < k; ++c) {
                if (y(i, c) == 1.0) ++ones, at = c;
                else if (y(i, c) != 0.0)
                    fail("'", path, "': one-hot rows must hold one 1 and zeros; row ", i, " holds ", y(i, c), " in column ", c);
            }
            if (ones != 1) fail("'", path, "': one-hot rows must hold exactly one 1; row ", i, " holds ", ones);
            out[i] = static_cast<int>(at);
        }
    }
    return out;
}

// Loads, checks and preprocesses the data the options name (the first n_train / n_test rows).
inline data load_data(const options& o) {
    data out;
    if (o.npy()) {
        // the headers first: the shapes are checked before any data is read
        const auto hx = io::read_npy_header(o.train_x), htx = io::read_npy_header(o.test_x);
        const bool images = !o.arch.empty() && hx.shape.size() == 4;
        for (const auto* h : {&hx, &htx})
            if (h->shape.size() != (images ? 4u : 2u))
                throw shape_error(o.arch.empty() ? "--train-x and --test-x must hold 2-D arrays (rows are points), got rank " +
                                                       std::to_string(h->shape.size()) + " (images N x H x W x C need --arch SPEC)"
                                                 : "--train-x and --test-x must both hold images N x H x W x C or both 2-D arrays N x d, got "
                                                   "rank " + std::to_string(hx.shape.size()) + " and " + std::to_string(htx.shape.size()));
        if (!std::equal(hx.shape.begin() + 1, hx.shape.end(), htx.shape.begin() + 1)) {
            std::string a, b;
            for (std::size_t k = 1; k < hx.shape.size(); ++k) a += (k > 1 ? " x " : "") + std::to_string(hx.shape[k]);
            for (std::size_t k = 1; k < htx.shape.size(); ++k) b += (k > 1 ? " x " : "") + std::to_string(htx.shape[k]);
            throw shape_error(images ? "--train-x has inputs of " + a + " but --test-x has " + b
                                     : "--train-x has " + a + " features per row but --test-x has " + b);
        }
        if (images) out.height = hx.shape[1], out.width = hx.shape[2], out.channels = hx.shape[3];
        matrix<double> x_train = images ? read_npy_rows(o.train_x) : io::read_npy_matrix<double>(o.train_x);
        matrix<double> x_test = images ? read_npy_rows(o.test_x) : io::read_npy_matrix<double>(o.test_x);
        const std::size_t m = std::min(o.n_train, x_train.shape()[0]), p = std::min(o.n_test, x_test.shape()[0]);
        out.x_train = row_block(x_train, 0, m);
        out.x_test = row_block(x_test, 0, p);
        require_finite(out.x_train, "--train-x", "the features");
        require_finite(out.x_test, "--test-x", "the features");
        out.train_labels = read_npy_labels(o.train_y, m);
        out.test_labels = read_npy_labels(o.test_y, p);
        out.source = o.train_x + ", " + o.test_x;
    } else {
        out.x_train = xt::cast<double>(io::read_idx_images(o.train_images, o.n_train));
        out.x_test = xt::cast<double>(io::read_idx_images(o.test_images, o.n_test));
        const auto tl = io::read_idx_labels(o.train_labels, o.n_train), sl = io::read_idx_labels(o.test_labels, o.n_test);
        out.train_labels.assign(tl.begin(), tl.end());
        out.test_labels.assign(sl.begin(), sl.end());
        out.source = "IDX images " + o.train_images + ", " + o.test_images;
        if (!o.arch.empty()) {  // the image size (read_idx_images gives rows of H·W pixels)
            const io::idx_file f = io::read_idx(o.test_images, 3, "widenn regress");
            out.height = f.dims[1], out.width = f.dims[2], out.channels = 1;
            if (out.height * out.width != out.x_train.shape()[1])
                throw shape_error("--train-images has images of " + std::to_string(out.x_train.shape()[1]) + " pixels, --test-images of " +
                                  std::to_string(out.height) + " x " + std::to_string(out.width));
        }
    }
    const std::size_t m = out.x_train.shape()[0], p = out.x_test.shape()[0];
    if (m != out.train_labels.size() || p != out.test_labels.size())
        throw shape_error("point and label counts differ: " + std::to_string(m) + " train points, " +
                          std::to_string(out.train_labels.size()) + " train labels, " + std::to_string(p) + " test points, " +
                          std::to_string(out.test_labels.size()) + " test labels");
    if (m == 0 || p == 0) throw shape_error("the data hold no train or no test points");
    if (out.x_train.shape()[1] != out.x_test.shape()[1]) throw shape_error("train and test points have different sizes");
    int classes = 0;
    for (int label : out.train_labels) classes = std::max(classes, label + 1);
    for (std::size_t i = 0; i < p; ++i)
        if (out.test_labels[i] >= classes)
            fail("test label ", out.test_labels[i], " at position ", i, " is not a class of the training labels (0..", classes - 1, ")");
    out.classes = static_cast<std::size_t>(classes);
    if (o.downsample > 1) {
        if (out.channels == 0)
            throw usage_error("--downsample " + std::to_string(o.downsample) + " averages pixel blocks of images, but the data are feature "
                              "vectors (N x d); it needs --arch SPEC with images (IDX files or .npy N x H x W x C)");
        out.x_train = downsample(out.x_train, out.height, out.width, out.channels, o.downsample);
        out.x_test = downsample(out.x_test, out.height, out.width, out.channels, o.downsample);
        out.height /= o.downsample, out.width /= o.downsample;
    }
    if (o.preprocess) {
        const vector<double> mean = xt::mean(out.x_train, {0});
        preprocess(out.x_train, mean);
        preprocess(out.x_test, mean);
    }
    out.y_train = xt::full_like(matrix<double>::from_shape({m, out.classes}), -0.1);
    for (std::size_t i = 0; i < m; ++i) out.y_train(i, static_cast<std::size_t>(out.train_labels[i])) += 1.0;
    return out;
}

// The fraction of rows of `pred` (p x classes) whose largest entry is at the label.
inline std::size_t count_correct(const matrix<double>& pred, const int* labels) {
    std::size_t correct = 0;
    const std::size_t k = pred.shape()[1];
    for (std::size_t i = 0; i < pred.shape()[0]; ++i) {
        const double* row = pred.data() + i * k;
        if (std::max_element(row, row + k) - row == labels[i]) ++correct;
    }
    return correct;
}

// The peak resident memory of this process so far (VmHWM, else getrusage's ru_maxrss), in bytes.
inline std::size_t peak_memory_bytes() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmHWM:") {
            std::size_t kb = 0;
            status >> kb;
            return kb * 1024;
        }
        std::getline(status, key);
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<std::size_t>(usage.ru_maxrss) * 1024;
}

using clock_type = std::chrono::steady_clock;
inline double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

}  // namespace widenn::cli::regress
