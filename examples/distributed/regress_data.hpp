#pragma once
// The data of `widenn-mpi regress`: IDX images (Fashion-MNIST by default) with the preprocessing of `widenn regress`
// (centre with the training mean image, scale every image to norm √d), or features and labels from .npy files used
// as given. Read by one rank; kernel_regression's callers broadcast it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iostream>
#include <string>
#include <vector>

#include <widenn/core/errors.hpp>
#include <widenn/core/tensor.hpp>
#include <widenn/io/idx.hpp>
#include <widenn/io/npy.hpp>

#include <xtensor/xview.hpp>

namespace widenn::cli::regress_data {

struct data_set {
    matrix<double> x_train, x_test;
    std::vector<int> train_labels, test_labels;
};

// The preprocessing of `widenn regress` (examples/cli/cmd_regress.cpp): centre with the training mean, scale every
// row to norm √d, so that K⁰(x, x) = 1.
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

inline void check_counts(const data_set& s, std::size_t n_train, std::size_t n_test) {
    if (s.x_train.shape()[0] != s.train_labels.size() || s.x_test.shape()[0] != s.test_labels.size())
        fail<shape_error>("feature and label counts differ: ", s.x_train.shape()[0], " train points, ", s.train_labels.size(),
                          " train labels, ", s.x_test.shape()[0], " test points, ", s.test_labels.size(), " test labels");
    if (s.x_train.shape()[1] != s.x_test.shape()[1])
        fail<shape_error>("train and test points have different sizes: ", s.x_train.shape()[1], " and ", s.x_test.shape()[1], " features");
    if (s.x_train.shape()[0] < n_train || s.x_test.shape()[0] < n_test)
        std::cout << "note: the files hold " << s.x_train.shape()[0] << " train and " << s.x_test.shape()[0] << " test points; using all of them\n";
}

// IDX images and labels, the first n_train / n_test of them, preprocessed as by `widenn regress`.
inline data_set load_idx(const std::string& train_images, const std::string& train_labels, const std::string& test_images,
                         const std::string& test_labels, std::size_t n_train, std::size_t n_test) {
    data_set s;
    s.x_train = xt::cast<double>(io::read_idx_images(train_images, n_train));
    s.x_test = xt::cast<double>(io::read_idx_images(test_images, n_test));
    const auto ytr = io::read_idx_labels(train_labels, n_train), yte = io::read_idx_labels(test_labels, n_test);
    s.train_labels.assign(ytr.begin(), ytr.end());
    s.test_labels.assign(yte.begin(), yte.end());
    check_counts(s, n_train, n_test);
    const vector<double> mean = xt::mean(s.x_train, {0});
    preprocess(s.x_train, mean);
    preprocess(s.x_test, mean);
    return s;
}

// Class labels from a .npy file: integers (a vector of n labels 0..k-1, stored as an integer or a float type) or one-hot
// rows (an n × k matrix of 0 and 1 with one 1 per row). At most `limit` rows.
inline std::vector<int> read_labels(const std::string& path, std::size_t limit) {
    const xt::xarray<double> y = io::read_npy<double>(path);
    const std::size_t rows = y.dimension() >= 1 ? std::min<std::size_t>(y.shape()[0], limit) : 0;
    std::vector<int> out(rows);
    if (y.dimension() == 1) {
        for (std::size_t i = 0; i < rows; ++i) {
            const double v = y(i);
            if (!(v >= 0 && v < 1e6 && v == std::floor(v)))
                fail("'", path, "': label ", i, " is ", v, "; expected class numbers 0, 1, ... (integers) or one-hot rows");
            out[i] = static_cast<int>(v);
        }
    } else if (y.dimension() == 2 && y.shape()[1] >= 1) {
        for (std::size_t i = 0; i < rows; ++i) {
            int hot = -1;
            for (std::size_t j = 0; j < y.shape()[1]; ++j) {
                const double v = y(i, j);
                if (v == 1 && hot < 0) hot = static_cast<int>(j);
                else if (v != 0)
                    fail("'", path, "': row ", i, " is not one-hot (entry ", j, " is ", v, "); expected one 1 and zeros per row, or integer labels");
            }
            if (hot < 0) fail("'", path, "': row ", i, " is not one-hot (no entry is 1)");
            out[i] = hot;
        }
    } else {
        fail<shape_error>("'", path, "': labels must be a vector of class numbers or an n x k one-hot matrix, got an array of rank ",
                          y.dimension());
    }
    return out;
}

// Features (n × d, any float or integer type) and labels from .npy files, the first n_train / n_test rows, used as given.
inline data_set load_npy(const std::string& train_x, const std::string& train_y, const std::string& test_x, const std::string& test_y,
                         std::size_t n_train, std::size_t n_test) {
    data_set s;
    auto rows = [](matrix<double> x, std::size_t n) -> matrix<double> {
        if (x.shape()[0] <= n) return x;
        return xt::view(x, xt::range(0, n), xt::all());
    };
    s.x_train = rows(io::read_npy_matrix<double>(train_x), n_train);
    s.x_test = rows(io::read_npy_matrix<double>(test_x), n_test);
    s.train_labels = read_labels(train_y, n_train);
    s.test_labels = read_labels(test_y, n_test);
    check_counts(s, n_train, n_test);
    return s;
}

}  // namespace widenn::cli::regress_data
