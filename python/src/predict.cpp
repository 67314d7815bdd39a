// widenn.predict: kernel-regime predictions (limit/predict.hpp), named and shaped like neural-tangents' predict module.
#include <limits>
#include <optional>

#include <widenn/limit/predict.hpp>

#include "common.hpp"

namespace widenn::python {
namespace {

std::optional<matrix<double>> optional_matrix(py::handle obj, const char* where, const char* what) {
    if (obj.is_none()) return std::nullopt;
    return to_matrix(obj, where, what);
}

limit::regularization regularization(double diag_reg, bool absolute, const char* where) {
    require(std::isfinite(diag_reg) && diag_reg >= 0, where, ": diag_reg must be finite and >= 0, got ", diag_reg);
    return {diag_reg, absolute};
}

py::object gradient_descent_mse(const py::object& k_train_train, const py::object& y_train, const py::object& k_test_train,
                                const py::object& t_obj, double learning_rate, double diag_reg, bool diag_reg_absolute_scale, const py::object& fx_train_0,
                                const py::object& fx_test_0) {
    const char* where = "widenn.predict.gradient_descent_mse";
    matrix<double> ntk = to_matrix(k_train_train, where, "k_train_train");
    matrix<double> y = to_matrix(y_train, where, "y_train");
    const auto ntk_test = optional_matrix(k_test_train, where, "k_test_train");
    const auto f0_train = optional_matrix(fx_train_0, where, "fx_train_0");
    const auto f0_test = optional_matrix(fx_test_0, where, "fx_test_0");
    require(!f0_test || ntk_test, where, ": fx_test_0 was given without k_test_train");
    const double t = t_obj.is_none() ? limit::infinite_time : t_obj.cast<double>();
    matrix<double> train, test;
    {
        py::gil_scoped_release release;
        const limit::gradient_descent_mse flow(std::move(ntk), std::move(y),
                                               {.lr = learning_rate, .reg = regularization(diag_reg, diag_reg_absolute_scale, where)});
        train = flow.train(t, f0_train);
        if (ntk_test) test = flow.test(*ntk_test, t, f0_test, f0_train);
    }
    if (!ntk_test) return to_numpy(std::move(train));
    return py::make_tuple(to_numpy(std::move(train)), to_numpy(std::move(test)));
}

py::object gp_inference(const py::object& k_train_train, const py::object& y_train, const py::object& k_test_train,
                        const py::object& k_test_test, double diag_reg, bool diag_reg_absolute_scale) {
    const char* where = "widenn.predict.gp_inference";
    const matrix<double> k = to_matrix(k_train_train, where, "k_train_train");
    const matrix<double> y = to_matrix(y_train, where, "y_train");
    const matrix<double> k_td = to_matrix(k_test_train, where, "k_test_train");
    const auto k_tt = optional_matrix(k_test_test, where, "k_test_test");
    limit::gaussian_prediction p;
    {
        py::gil_scoped_release release;
        p = limit::gp_posterior(k, y, k_td, k_tt, regularization(diag_reg, diag_reg_absolute_scale, where));
    }
    const py::object gaussian = py::module_::import("widenn").attr("predict").attr("Gaussian");
    return gaussian(to_numpy(std::move(p.mean)), k_tt ? py::object(to_numpy(std::move(p.covariance))) : py::none());
}

double max_learning_rate(const py::object& ntk_train_train, const py::object& y_train_size, double momentum) {
    const char* where = "widenn.predict.max_learning_rate";
    const matrix<double> ntk = to_matrix(ntk_train_train, where, "ntk_train_train");
    const std::size_t n = y_train_size.is_none() ? ntk.shape()[0] : y_train_size.cast<std::size_t>();
    py::gil_scoped_release release;
    return limit::max_learning_rate(ntk, n, momentum);
}

}  // namespace

void bind_predict(py::module_& m) {
    using namespace pybind11::literals;
    py::module_ p = m.def_submodule("predict", "Kernel-regime predictions of infinitely wide networks trained with MSE, in the\n"
                                               "conventions of neural-tangents' predict module (Lee et al. 2019, Eqs. 8-16).");
    p.attr("Gaussian") = py::module_::import("collections").attr("namedtuple")("Gaussian", py::make_tuple("mean", "covariance"));
    p.attr("Gaussian").attr("__module__") = "widenn.predict";
    p.def("gradient_descent_mse", &gradient_descent_mse, "k_train_train"_a, "y_train"_a, "k_test_train"_a = py::none(),
          "t"_a = py::none(), py::kw_only(), "learning_rate"_a = 1.0, "diag_reg"_a = 0.0, "diag_reg_absolute_scale"_a = false,
          "fx_train_0"_a = py::none(), "fx_test_0"_a = py::none(),
          "Outputs of a wide network trained by gradient descent on the MSE loss 1/(2N) sum ||f(x_i) - y_i||^2 (N = y_train.size)\n"
          "for t steps of learning rate `learning_rate` (t=None: trained to convergence), from its NTK:\n"
          "f_train(t) = y + exp(-Theta t')(f_train(0) - y), f_test(t) = f_test(0) + Theta_*D Theta^-1 (I - exp(-Theta t'))(y - f_train(0)),\n"
          "t' = learning_rate t / N. k_train_train: (m, m) NTK, y_train: (m, k), k_test_train: (p, m); fx_train_0, fx_test_0:\n"
          "initial outputs (default 0). diag_reg adds diag_reg * trace/m to the diagonal (diag_reg itself with\n"
          "diag_reg_absolute_scale=True). Returns fx_train, or (fx_train, fx_test) when k_test_train is given.");
    p.def("gp_inference", &gp_inference, "k_train_train"_a, "y_train"_a, "k_test_train"_a, "k_test_test"_a = py::none(), py::kw_only(),
          "diag_reg"_a = 0.0, "diag_reg_absolute_scale"_a = false,
          "The Gaussian-process posterior with prior kernel K (the NNGP: Bayesian inference of the infinitely wide network; the\n"
          "NTK: neural-tangents' 'ntkgp'): mean K_*D K^-1 y and, when k_test_test is given, covariance K_** - K_*D K^-1 K_D*.\n"
          "Returns Gaussian(mean, covariance) (covariance None without k_test_test). Cholesky with diag_reg as in\n"
          "gradient_descent_mse; RuntimeError when K + diag_reg is not positive definite.");
    p.def("max_learning_rate", &max_learning_rate, "ntk_train_train"_a, "y_train_size"_a = py::none(), "momentum"_a = 0.0,
          "The largest stable learning rate of full-batch gradient descent: 2 (1 + momentum) N / lambda_max(Theta), with\n"
          "N = y_train_size (default: the number of training points).");
}

}  // namespace widenn::python
