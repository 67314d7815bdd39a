// The Python module `widenn`: numpy in and out, errors as ValueError / RuntimeError with the library's sentences.
#include <pybind11/pybind11.h>

#include <widenn/core/errors.hpp>

#include "common.hpp"

PYBIND11_MODULE(widenn, m) {
    namespace py = pybind11;
    m.doc() = "widenn: wide neural networks and their infinite-width limits (C++20 header-only library), from numpy.\n\n"
              "widenn.kernel(x1, x2=None, act='relu', depth=3, ...)  NNGP and NTK (neural-tangents conventions)\n"
              "widenn.predict.gradient_descent_mse / gp_inference   kernel-regime predictions\n"
              "widenn.classify(preset, depth=...)                   TP4 classification of an abc-parametrization\n"
              "widenn.coord_check(preset, widths, ...)              mup's coordinate check\n"
              "widenn.MupLinearLimit(d_in, d_out, lr)               the exact muP limit of a linear one-hidden-layer net\n"
              "widenn.lie.exp / log / hat / chart / from_chart     Lie groups, for batches of elements";
    m.attr("__version__") = "0.1.0";
    // Bad input (shapes, values, names) is a ValueError; a numerical method that failed on valid input (Cholesky
    // breakdown, overflow of a kernel's variances) a RuntimeError. The message is the library's.
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const widenn::numerical_error& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        } catch (const widenn::error& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        }
    });
    widenn::python::bind_kernel(m);
    widenn::python::bind_classify(m);
    widenn::python::bind_predict(m);
    widenn::python::bind_coord_check(m);
    widenn::python::bind_mup_linear(m);
    widenn::python::bind_lie(m);
}
