// widenn.lie: exp, log, hat, the global chart and its inverse of the Lie groups of lie/ (SO(n), SPD(n), SSPD(n),
// GL+(n), SL(n), affine groups), for batches of elements given as numpy arrays of matrices.
#include <string>

#include <widenn/lie/lie.hpp>

#include "common.hpp"

namespace widenn::python {
namespace {

const char* group_names = "so2, so3, spd2, spd3, sspd2, sspd3, gl+2, gl+3, sl2, sl3, se2, se3, aff2 (affine GL+(2)), aff3";

// Calls f.template operator()<G>() for the group named `name`.
template <class F>
decltype(auto) with_group(const std::string& name, F&& f) {
    namespace l = widenn::lie;
    if (name == "so2") return f.template operator()<l::so<2>>();
    if (name == "so3") return f.template operator()<l::so<3>>();
    if (name == "spd2") return f.template operator()<l::spd<2>>();
    if (name == "spd3") return f.template operator()<l::spd<3>>();
    if (name == "sspd2") return f.template operator()<l::sspd<2>>();
    if (name == "sspd3") return f.template operator()<l::sspd<3>>();
    if (name == "gl+2") return f.template operator()<l::gl_plus<2>>();
    if (name == "gl+3") return f.template operator()<l::gl_plus<3>>();
    if (name == "sl2") return f.template operator()<l::sl<2>>();
    if (name == "sl3") return f.template operator()<l::sl<3>>();
    if (name == "se2") return f.template operator()<l::affine<l::so<2>>>();
    if (name == "se3") return f.template operator()<l::affine<l::so<3>>>();
    if (name == "aff2") return f.template operator()<l::affine<l::gl_plus<2>>>();
    if (name == "aff3") return f.template operator()<l::affine<l::gl_plus<3>>>();
    fail("widenn.lie: unknown group '", name, "' (choose ", group_names, ")");
}

// The size of G's matrices (n, or n + 1 for the affine groups in homogeneous coordinates).
template <class G>
std::size_t matrix_size() {
    return G::identity().matrix().size();
}

// A batch of tangent vectors: (dof,) or (batch, dof); `single` tells which.
template <class G>
py::array_t<double, py::array::c_style> tangents(const py::object& v, const char* where, bool& single) {
    const auto a = as_array<double>(v, where, "v", 0);
    single = a.ndim() == 1;
    require<shape_error>((a.ndim() == 1 || a.ndim() == 2) && a.shape(a.ndim() - 1) == static_cast<py::ssize_t>(G::dof), where,
                         ": v must have shape (", G::dof, ",) or (batch, ", G::dof, ") for this group, got ",
                         py::str(py::tuple(a.attr("shape"))).cast<std::string>());
    return a;
}

// A batch of matrices: (m, m) or (batch, m, m).
template <class G>
py::array_t<double, py::array::c_style> matrices(const py::object& g, const char* where, bool& single) {
    const auto a = as_array<double>(g, where, "g", 0);
    const auto m = static_cast<py::ssize_t>(matrix_size<G>());
    single = a.ndim() == 2;
    require<shape_error>((a.ndim() == 2 || a.ndim() == 3) && a.shape(a.ndim() - 1) == m && a.shape(a.ndim() - 2) == m, where,
                         ": g must have shape (", m, ", ", m, ") or (batch, ", m, ", ", m, ") for this group, got ",
                         py::str(py::tuple(a.attr("shape"))).cast<std::string>());
    return a;
}

// Tangent vectors -> matrices by `to_matrix(tangent)` (exp, from_chart, hat), element by element without the GIL.
template <class G, class F>
py::array_t<double> tangents_to_matrices(const py::object& v, const char* where, F to_matrix_of) {
    bool single = false;
    const auto a = tangents<G>(v, where, single);
    const std::size_t batch = single ? 1 : static_cast<std::size_t>(a.shape(0)), m = matrix_size<G>();
    py::array_t<double> out = single ? py::array_t<double>({m, m}) : py::array_t<double>({batch, m, m});
    const double* in = a.data();
    double* o = out.mutable_data();
    {
        py::gil_scoped_release release;
        for (std::size_t b = 0; b < batch; ++b) {
            typename G::tangent t{};
            std::copy(in + b * G::dof, in + (b + 1) * G::dof, t.begin());
            const auto mat = to_matrix_of(t);
            std::copy(mat.begin(), mat.end(), o + b * m * m);
        }
    }
    return out;
}

// Matrices -> tangent vectors by `to_tangent(G::from_matrix(matrix))` (log, chart): membership is checked.
template <class G, class F>
py::array_t<double> matrices_to_tangents(const py::object& g, const char* where, F to_tangent) {
    bool single = false;
    const auto a = matrices<G>(g, where, single);
    const std::size_t batch = single ? 1 : static_cast<std::size_t>(a.shape(0)), m = matrix_size<G>();
    py::array_t<double> out = single ? py::array_t<double>(G::dof) : py::array_t<double>({batch, G::dof});
    const double* in = a.data();
    double* o = out.mutable_data();
    {
        py::gil_scoped_release release;
        for (std::size_t b = 0; b < batch; ++b) {
            typename G::algebra mat(m);
            std::copy(in + b * m * m, in + (b + 1) * m * m, mat.begin());
            const auto t = to_tangent(G::from_matrix(mat));
            std::copy(t.begin(), t.end(), o + b * G::dof);
        }
    }
    return out;
}

}  // namespace

void bind_lie(py::module_& m) {
    using namespace pybind11::literals;
    py::module_ l = m.def_submodule(
        "lie", "Lie groups of widenn (lie/): exp, log, hat, the global chart and its inverse, for one element or a batch.\n"
               "Groups: so2, so3 (rotations), spd2, spd3 (SPD matrices, log-Euclidean product), sspd2, sspd3 (determinant 1),\n"
               "gl+2, gl+3, sl2, sl3 (polar charts), se2, se3, aff2, aff3 (affine groups in homogeneous (n+1)x(n+1) form).\n"
               "Tangent vectors have shape (dof,) or (batch, dof); elements are matrices (m, m) or (batch, m, m).");
    l.attr("groups") = py::make_tuple("so2", "so3", "spd2", "spd3", "sspd2", "sspd3", "gl+2", "gl+3", "sl2", "sl3", "se2", "se3",
                                      "aff2", "aff3");
    l.def("dof", [](const std::string& group) { return with_group(group, []<class G>() { return G::dof; }); }, "group"_a,
          "The dimension of the group's tangent space.");
    l.def("matrix_size", [](const std::string& group) { return with_group(group, []<class G>() { return matrix_size<G>(); }); },
          "group"_a, "The size m of the group's matrices.");
    l.def("exp", [](const std::string& group, const py::object& v) {
              return with_group(group, [&]<class G>() {
                  return tangents_to_matrices<G>(v, "widenn.lie.exp", [](const typename G::tangent& t) { return G::exp(t).matrix(); });
              });
          }, "group"_a, "v"_a, "The group exponential exp(v) as matrices.");
    l.def("log", [](const std::string& group, const py::object& g) {
              return with_group(group, [&]<class G>() {
                  return matrices_to_tangents<G>(g, "widenn.lie.log", [](const G& e) { return e.log(); });
              });
          }, "group"_a, "g"_a, "The group logarithm of matrices (checked to lie in the group; ValueError otherwise).");
    l.def("hat", [](const std::string& group, const py::object& v) {
              return with_group(group, [&]<class G>() {
                  return tangents_to_matrices<G>(v, "widenn.lie.hat", [](const typename G::tangent& t) { return G::hat(t); });
              });
          }, "group"_a, "v"_a, "The Lie-algebra matrices of tangent vectors (exp(v) = expm(hat(v)) for the matrix groups and SPD).");
    l.def("chart", [](const std::string& group, const py::object& g) {
              return with_group(group, [&]<class G>() {
                  return matrices_to_tangents<G>(g, "widenn.lie.chart", [](const G& e) { return e.chart(); });
              });
          }, "group"_a, "g"_a, "The global chart (the inverse of from_chart) of matrices in the group.");
    l.def("from_chart", [](const std::string& group, const py::object& z) {
              return with_group(group, [&]<class G>() {
                  return tangents_to_matrices<G>(z, "widenn.lie.from_chart",
                                                 [](const typename G::tangent& t) { return G::from_chart(t).matrix(); });
              });
          }, "group"_a, "z"_a, "The group elements at chart coordinates z, as matrices.");
}

}  // namespace widenn::python
