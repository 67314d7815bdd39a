#pragma once
// Conversions shared by the bindings: numpy arrays in (without a copy when they already are C-contiguous arrays of
// the computing type), xtensor matrices out (handed to numpy without a copy), and the checks whose sentences name
// the Python function.
#include <cstddef>
#include <string>
#include <utility>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <xtensor/xadapt.hpp>

#include <widenn/core/errors.hpp>
#include <widenn/core/tensor.hpp>

namespace widenn::python {

namespace py = pybind11;

// The dtype name of a numpy array (or the Python type of anything else), for messages.
inline std::string type_name(py::handle obj) {
    if (py::isinstance<py::array>(obj)) return py::str(py::reinterpret_borrow<py::array>(obj).dtype()).cast<std::string>();
    return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

// True for real numeric dtypes (bool, integers, floating point); complex, object, strings and dates are refused.
inline bool real_kind(const py::dtype& dt) {
    const char k = dt.kind();
    return k == 'b' || k == 'i' || k == 'u' || k == 'f';
}

// `obj` as a C-contiguous array of T: the very same array object (no copy) when it already is one, otherwise one
// converted copy. Refuses non-real dtypes and ranks other than `rank` (0: any) with ValueError naming `where`/`what`.
template <class T>
py::array_t<T, py::array::c_style> as_array(py::handle obj, const char* where, const char* what, int rank = 2) {
    using array = py::array_t<T, py::array::c_style>;
    if (obj.is_none()) fail<shape_error>(where, ": ", what, " is None; give a numpy array");
    py::array generic = py::isinstance<py::array>(obj) ? py::reinterpret_borrow<py::array>(obj) : py::array::ensure(obj);
    if (!generic) {
        PyErr_Clear();
        fail<error>(where, ": ", what, " must be an array of real numbers, got ", type_name(obj));
    }
    if (!real_kind(generic.dtype()))
        fail<error>(where, ": ", what, " must hold real numbers (float64, float32 or integers), got dtype ", type_name(generic));
    if (rank > 0 && generic.ndim() != rank)
        fail<shape_error>(where, ": ", what, " must be a ", rank, "-D array, got ", generic.ndim(), "-D with shape ",
                          py::str(py::tuple(generic.attr("shape"))).cast<std::string>());
    if (array::check_(generic)) return py::reinterpret_borrow<array>(generic);  // the caller's memory, as is
    array converted = array::ensure(generic);
    if (!converted) throw py::error_already_set();
    return converted;
}

// True when `obj` is a float32 numpy array (then computed in float where the library can).
inline bool is_float32(py::handle obj) {
    return py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<float>());
}

// A read-only xtensor view (rank 2) of a C-contiguous array: no copy.
template <class T>
auto view2(const py::array_t<T, py::array::c_style>& a) {
    const std::array<std::size_t, 2> shape{static_cast<std::size_t>(a.shape(0)), static_cast<std::size_t>(a.shape(1))};
    return xt::adapt(a.data(), static_cast<std::size_t>(a.size()), xt::no_ownership(), shape);
}

// A copy into the library's matrix type, for functions whose arguments are matrix<double> (one conversion).
inline matrix<double> to_matrix(py::handle obj, const char* where, const char* what) {
    const auto a = as_array<double>(obj, where, what, 2);
    return matrix<double>(view2(a));
}

// A library matrix handed to numpy without a copy: the array keeps the matrix alive through a capsule.
template <class T>
py::array_t<T> to_numpy(matrix<T>&& m) {
    auto* owned = new matrix<T>(std::move(m));
    py::capsule owner(owned, [](void* p) { delete static_cast<matrix<T>*>(p); });
    return py::array_t<T>({owned->shape()[0], owned->shape()[1]}, owned->data(), owner);
}
template <class T>
py::array_t<T> to_numpy(vector<T>&& v) {
    auto* owned = new vector<T>(std::move(v));
    py::capsule owner(owned, [](void* p) { delete static_cast<vector<T>*>(p); });
    return py::array_t<T>({owned->shape()[0]}, owned->data(), owner);
}

void bind_kernel(py::module_& m);
void bind_classify(py::module_& m);
void bind_predict(py::module_& m);
void bind_coord_check(py::module_& m);
void bind_mup_linear(py::module_& m);
void bind_lie(py::module_& m);

}  // namespace widenn::python
