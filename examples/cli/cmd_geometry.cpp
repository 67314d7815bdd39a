// `widenn geometry cka|rsa|relative`: similarity of two representations (CKA, RSA) and relative representations,
// on .npy arrays.
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <optional>
#include <limits>
#include <string>
#include <vector>


#include <widenn/geometry/cka.hpp>
#include <widenn/geometry/relative.hpp>
#include <widenn/geometry/rsa.hpp>

#include <widenn/io/files.hpp>
#include <widenn/io/npy.hpp>

#include "cli.hpp"

namespace {

using widenn::matrix;
using widenn::cli::usage_error;
namespace geo = widenn::geometry;

// A 2-D .npy array (any numeric dtype) as double, through widenn's checked reader.
matrix<double> load_matrix(const std::string& path) {
    const widenn::io::npy_header h = widenn::io::read_npy_header(path);
    if (h.shape.size() != 2)
        throw widenn::shape_error("'" + path + "' must hold a 2-D array N x d (one row per input), got rank " + std::to_string(h.shape.size()));
    return widenn::io::read_npy_matrix<double>(path);
}

// Row indices from an integer .npy array (any shape; float arrays accepted when every entry is an integer).
std::vector<std::size_t> load_indices(const std::string& path) {
    const xt::xarray<double> values = widenn::io::read_npy<double>(path);
    std::vector<std::size_t> out;
    out.reserve(values.size());
    for (const double v : values) {
        if (!(std::isfinite(v) && v == std::floor(v) && v >= 0 && v < 9e15))
            throw widenn::error("'" + path + "' holds " + std::to_string(v) + ", not a row index (a non-negative integer)");
        out.push_back(static_cast<std::size_t>(v));
    }
    return out;
}

geo::kernel_kind parse_kernel(const std::string& name) {
    if (name == "linear") return geo::kernel_kind::linear;
    if (name == "rbf") return geo::kernel_kind::rbf;
    throw usage_error("--kernel must be linear or rbf, got '" + name + "'");
}

void print_number(double v) { std::cout << std::setprecision(std::numeric_limits<double>::max_digits10) << v << '\n'; }

int run_cka(widenn::cli::args& a) {
    const std::string a_path = a.required_text("a"), b_path = a.required_text("b");
    const std::string kernel = a.text("kernel", "linear");
    const bool debiased = a.has("debiased");
    const double sigma = a.real("sigma", 0.0, 0.0, 1e300);
    const double fraction = a.real("median-fraction", 1.0, 1e-6, 1e6);
    a.reject_unknown();
    const geo::kernel_spec spec{.kind = parse_kernel(kernel), .sigma = sigma, .median_fraction = fraction};
    if (spec.kind == geo::kernel_kind::linear && (a.has("sigma") || a.has("median-fraction")))
        throw usage_error("--sigma and --median-fraction apply to --kernel rbf only");
    const matrix<double> x = load_matrix(a_path), y = load_matrix(b_path);
    const auto est = debiased ? geo::hsic_estimator::debiased : geo::hsic_estimator::biased;
    const double value = spec.kind == geo::kernel_kind::linear ? geo::linear_cka(x, y, est) : geo::kernel_cka(x, y, spec, est);
    std::cout << "widenn geometry cka: " << kernel << " kernel" << (spec.kind == geo::kernel_kind::rbf && sigma == 0 ? " (median heuristic)" : "")
              << ", " << (debiased ? "debiased" : "biased") << " HSIC, N = " << x.shape()[0] << ", d_a = " << x.shape()[1]
              << ", d_b = " << y.shape()[1] << '\n';
    print_number(value);
    return 0;
}

int run_rsa(widenn::cli::args& a) {
    const std::string a_path = a.required_text("a"), b_path = a.required_text("b");
    const std::string metric = a.text("metric", "correlation"), compare = a.text("compare", "spearman");
    a.reject_unknown();
    geo::rsa_options options;
    if (metric == "correlation")
        options.metric = geo::rdm_metric::correlation;
    else if (metric == "euclidean")
        options.metric = geo::rdm_metric::euclidean;
    else
        throw usage_error("--metric must be correlation or euclidean, got '" + metric + "'");
    if (compare == "spearman")
        options.comparison = geo::rdm_comparison::spearman;
    else if (compare == "pearson")
        options.comparison = geo::rdm_comparison::pearson;
    else
        throw usage_error("--compare must be spearman or pearson, got '" + compare + "'");
    const matrix<double> x = load_matrix(a_path), y = load_matrix(b_path);
    const double value = geo::rsa(x, y, options);
    std::cout << "widenn geometry rsa: " << metric << " RDMs compared by " << compare << ", N = " << x.shape()[0]
              << ", d_a = " << x.shape()[1] << ", d_b = " << y.shape()[1] << '\n';
    print_number(value);
    return 0;
}

int run_relative(widenn::cli::args& a) {
    const std::string a_path = a.required_text("a"), out_path = a.required_text("out");
    const std::string anchors_path = a.text("anchors", "");
    const bool choose = a.has("k");
    const std::size_t k = a.count("k", 1);
    const std::string select = a.text("select", "random");
    const std::uint64_t seed = a.integer<std::uint64_t>("seed", 0);
    a.reject_unknown();
    if (anchors_path.empty() == !choose) throw usage_error("give either --anchors I.npy (row indices of A) or --k N (with --select)");
    if (!choose && (a.has("select") || a.has("seed"))) throw usage_error("--select and --seed go with --k");
    widenn::io::require_distinct_outputs({{"--a", a_path}, {"--anchors", anchors_path}}, {{"--out", out_path}}, "");
    std::optional<widenn::io::output_file> out_file;
    out_file.emplace(out_path, "--out");  // an unwritable path fails now, before the work
    const matrix<double> x = load_matrix(a_path);
    std::vector<std::size_t> anchors;
    if (!anchors_path.empty()) {
        anchors = load_indices(anchors_path);
    } else if (select == "random") {
        anchors = geo::random_anchors(x.shape()[0], k, seed);
    } else if (select == "farthest") {
        anchors = geo::farthest_point_anchors(x, k, static_cast<std::size_t>(seed % x.shape()[0]));
    } else {
        throw usage_error("--select must be random or farthest, got '" + select + "'");
    }
    const matrix<double> r = geo::relative(x, anchors);
    widenn::io::write_npy(*out_file, r);
    std::cout << "widenn geometry relative: " << r.shape()[0] << " x " << r.shape()[1] << " cosines to anchor rows of '" << a_path
              << "' written to '" << out_path << "'\n";
    return 0;
}

int run_geometry(widenn::cli::args& a) {
    const std::string what = a.positional(0);
    if (what == "cka") return run_cka(a);
    if (what == "rsa") return run_rsa(a);
    if (what == "relative") return run_relative(a);
    throw usage_error(what.empty() ? "say what to compute: widenn geometry cka|rsa|relative ..."
                                   : "unknown geometry computation '" + what + "' (cka, rsa or relative)");
}

const bool registered = widenn::cli::add_command({
    "geometry",
    "representation geometry on .npy arrays: CKA, RSA, relative representations",
    "usage: widenn geometry cka      --a A.npy --b B.npy [--kernel linear|rbf] [--debiased] [--sigma S] [--median-fraction F]\n"
    "       widenn geometry rsa      --a A.npy --b B.npy [--metric correlation|euclidean] [--compare spearman|pearson]\n"
    "       widenn geometry relative --a A.npy (--anchors I.npy | --k N [--select random|farthest] [--seed S]) --out R.npy\n\n"
    "A.npy and B.npy are 2-D float64 or float32 arrays with one row per input (N x d_a and N x d_b, the same N).\n"
    "cka: centered kernel alignment (Kornblith et al. 2019) of the rows of A and B; linear kernel by default, or RBF with\n"
    "     sigma = --sigma, or (default) --median-fraction times the median pairwise distance; --debiased uses the\n"
    "     unbiased HSIC estimator (Song et al. 2012). The last line of output is the number alone.\n"
    "rsa: representational similarity analysis (Kriegeskorte et al. 2008): the correlation (--compare) of the upper\n"
    "     triangles of the two dissimilarity matrices (--metric: 1 - Pearson correlation of rows, or Euclidean).\n"
    "     The last line of output is the number alone.\n"
    "relative: the N x k relative representation of A (Moschella et al. 2023): cosine similarity of every row to the\n"
    "     anchor rows, given as integer row indices in I.npy (int64 or int32), or chosen: --k N anchors at random\n"
    "     (--seed) or by farthest-point sampling (starting at row seed mod N). Written as float64 .npy to --out.\n"
    "Example: widenn geometry cka --a layer3_seed1.npy --b layer3_seed2.npy --debiased\n",
    run_geometry,
});

}  // namespace
