// widenn.MupLinearLimit: the exact μP limit of a one-hidden-layer linear network (limit/mup_linear.hpp, TP4 Cor 6.2),
// and widenn.MupLinearFinite, the finite μP network of any width sampled from its coefficients.
#include <cstdint>
#include <string>

#include <widenn/limit/mup_linear.hpp>

#include "common.hpp"

namespace widenn::python {
namespace {

using limit_t = limit::mup_linear<double>;
using finite_t = limit::mup_linear_finite<double>;

limit::loss_kind parse_loss(const std::string& name) {
    if (name == "mse") return limit::loss_kind::mse;
    if (name == "xent" || name == "cross_entropy") return limit::loss_kind::cross_entropy;
    fail("widenn.MupLinearLimit: loss must be 'mse' or 'xent' (softmax cross-entropy), got '", name, "'");
}

template <class Model>
double step(Model& model, const py::object& x, const py::object& y, const char* where) {
    const matrix<double> X = to_matrix(x, where, "x"), Y = to_matrix(y, where, "y");
    py::gil_scoped_release release;
    return model.step(X, Y);
}

template <class Model>
py::array_t<double> predict(const Model& model, const py::object& x, const char* where) {
    const matrix<double> X = to_matrix(x, where, "x");
    matrix<double> out;
    {
        py::gil_scoped_release release;
        out = model.predict(X);
    }
    return to_numpy(std::move(out));
}

}  // namespace

void bind_mup_linear(py::module_& m) {
    using namespace pybind11::literals;
    py::class_<finite_t>(m, "MupLinearFinite",
                         "A finite muP network f(x) = alpha W2 W1 x of width n sampled from a MupLinearLimit's coefficients\n"
                         "(W1 = Omega A / sqrt(n), W2 = B Omega^T / sqrt(n)), trained by the same plain SGD; it converges to the\n"
                         "limit with O(n^-1/2) deviations. Made by MupLinearLimit.sample / sample_with.")
        .def_property_readonly("width", &finite_t::width)
        .def_property_readonly("w1", [](const finite_t& f) { return to_numpy(matrix<double>(f.w1())); }, "W1 (width x d_in), a copy")
        .def_property_readonly("w2", [](const finite_t& f) { return to_numpy(matrix<double>(f.w2())); }, "W2 (d_out x width), a copy")
        .def("predict", [](const finite_t& f, const py::object& x) { return predict(f, x, "widenn.MupLinearFinite.predict"); }, "x"_a,
             "Outputs on x (batch x d_in): batch x d_out.")
        .def("step", [](finite_t& f, const py::object& x, const py::object& y) { return step(f, x, y, "widenn.MupLinearFinite.step"); },
             "x"_a, "y"_a, "One plain SGD step on the batch (x: batch x d_in, y: batch x d_out); returns the mean loss before it.");

    py::class_<limit_t>(m, "MupLinearLimit",
                        "The exact infinite-width muP limit of f(x) = alpha V U x (one hidden layer, linear; Yang & Hu 2020,\n"
                        "Tensor Programs IV, Cor 6.2): the width-(d_in + d_out) coefficient network trained by plain SGD.\n"
                        "MupLinearLimit(d_in, d_out, lr=0.1, *, loss='mse', weight_decay=0, sigma_u=1, sigma_v=1,\n"
                        "output_multiplier=1, lr_input_factor=1, lr_output_factor=1); step(x, y) trains on a batch and\n"
                        "returns the mean loss before the step, predict(x) gives the limit's outputs.")
        .def(py::init([](std::size_t d_in, std::size_t d_out, double lr, const std::string& loss, double weight_decay, double sigma_u,
                         double sigma_v, double output_multiplier, double lr_input_factor, double lr_output_factor) {
                 return limit_t(d_in, d_out,
                                {.lr = lr, .loss = parse_loss(loss), .weight_decay = weight_decay, .sigma_u = sigma_u, .sigma_v = sigma_v,
                                 .output_multiplier = output_multiplier, .lr_input_factor = lr_input_factor,
                                 .lr_output_factor = lr_output_factor});
             }),
             "d_in"_a, "d_out"_a, "lr"_a = 0.1, py::kw_only(), "loss"_a = "mse", "weight_decay"_a = 0.0, "sigma_u"_a = 1.0,
             "sigma_v"_a = 1.0, "output_multiplier"_a = 1.0, "lr_input_factor"_a = 1.0, "lr_output_factor"_a = 1.0)
        .def_property_readonly("d_in", &limit_t::d_in)
        .def_property_readonly("d_out", &limit_t::d_out)
        .def_property_readonly("steps", &limit_t::steps, "SGD steps taken")
        .def_property_readonly("coefficients_u", [](const limit_t& l) { return to_numpy(matrix<double>(l.coefficients_u())); },
                               "A ((d_in + d_out) x d_in): Z^{U_t} = A^T g, g ~ N(0, I) (a copy)")
        .def_property_readonly("coefficients_v", [](const limit_t& l) { return to_numpy(matrix<double>(l.coefficients_v())); },
                               "B (d_out x (d_in + d_out)): Z^{nV_t} = B g (a copy)")
        .def("predict", [](const limit_t& l, const py::object& x) { return predict(l, x, "widenn.MupLinearLimit.predict"); }, "x"_a,
             "The limit's outputs alpha x A^T B^T on x (batch x d_in): batch x d_out.")
        .def("end_to_end", [](const limit_t& l) { return to_numpy(l.end_to_end()); }, "The end-to-end map alpha B A (d_out x d_in).")
        .def("step", [](limit_t& l, const py::object& x, const py::object& y) { return step(l, x, y, "widenn.MupLinearLimit.step"); },
             "x"_a, "y"_a, "One SGD step on the batch (x: batch x d_in, y: batch x d_out); returns the mean loss before it.")
        .def("sample", &limit_t::sample, "width"_a, "seed"_a = 0,
             "The finite muP net of this width from the current coefficients, Omega ~ N(0, 1) drawn from seed.")
        .def("sample_with",
             [](const limit_t& l, const py::object& omega) { return l.sample_with(to_matrix(omega, "widenn.MupLinearLimit.sample_with", "omega")); },
             "omega"_a, "The finite net with a given Omega (width x (d_in + d_out)); Omega = sqrt(n) I gives the limit exactly.");
}

}  // namespace widenn::python
