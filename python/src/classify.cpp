// widenn.classify: TP4's classification of an abc-parametrization (param/classify.hpp), as `widenn classify --json`.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include <widenn/core/rational.hpp>
#include <widenn/param/classify.hpp>

#include "cli/param_presets.hpp"
#include "common.hpp"

namespace widenn::python {
namespace {

std::string text(rational q) {
    std::ostringstream out;
    out << q;
    return out.str();
}

// An exponent from Python: an int, a fractions.Fraction, a string "p/q", or a float that is a fraction with a
// small denominator (0.5); anything else is refused rather than rounded.
rational to_rational(py::handle v, const char* what) {
    if (py::isinstance<py::str>(v)) return parse_rational(v.cast<std::string>());
    if (py::isinstance<py::bool_>(v) || !(py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) ||
                                          py::hasattr(v, "numerator")))
        fail("widenn.classify: ", what, " must be an int, a fractions.Fraction or a string like '-1/2', got ", type_name(v));
    if (py::isinstance<py::float_>(v) && !std::isfinite(v.cast<double>()))
        fail("widenn.classify: ", what, " must be finite, got ", v.cast<double>());
    const py::object f = py::module_::import("fractions").attr("Fraction")(v);
    const py::object num = f.attr("numerator"), den = f.attr("denominator");
    const py::int_ limit(std::int64_t{1} << 40), float_limit(1024);
    if (num.attr("__abs__")() > limit || den > (py::isinstance<py::float_>(v) ? float_limit : limit))
        fail("widenn.classify: ", what, " = ", py::str(v).cast<std::string>(),
             " is not a small fraction; give it exactly, e.g. fractions.Fraction(1, 3) or '1/3'");
    return rational(num.cast<std::int64_t>(), den.cast<std::int64_t>());
}

// a=, b=: one value for every layer or a sequence (input, hidden, output); None entries keep the preset's value.
void set_exponents(py::handle v, const char* name, rational& input, rational& hidden, rational& output) {
    if (v.is_none()) return;
    if (py::isinstance<py::str>(v) || !py::isinstance<py::sequence>(v)) {
        input = hidden = output = to_rational(v, name);
        return;
    }
    const auto seq = py::reinterpret_borrow<py::sequence>(v);
    require(seq.size() == 3, "widenn.classify: ", name, " must be one exponent or three (input, hidden, output), got ", seq.size());
    const std::string base(name);
    rational* targets[3] = {&input, &hidden, &output};
    const char* parts[3] = {"[0] (input)", "[1] (hidden)", "[2] (output)"};
    for (std::size_t i = 0; i < 3; ++i)
        if (!seq[i].is_none()) *targets[i] = to_rational(seq[i], (base + parts[i]).c_str());
}

py::dict classify(const py::object& preset_name, const py::object& a, const py::object& b, const py::object& c,
                  const py::object& depth_obj) {
    namespace pr = widenn::cli::presets;
    pr::preset chosen{"custom", {}, {}, {}, 0};
    if (!preset_name.is_none()) {
        const std::string name = py::str(preset_name);
        const pr::preset* found = pr::find(name);
        if (!found) fail("widenn.classify: unknown preset '", name, "' (choose ", pr::preset_names, ")");
        chosen = *found;
    }
    const int depth = depth_obj.is_none() ? 2 : depth_obj.cast<int>();
    if (chosen.max_depth > 0 && depth > chosen.max_depth)
        fail("widenn.classify: preset ", chosen.name, " is defined for ", chosen.max_depth, " hidden layer(s); got depth=", depth);
    set_exponents(a, "a", chosen.input.a, chosen.hidden.a, chosen.output.a);
    set_exponents(b, "b", chosen.input.b, chosen.hidden.b, chosen.output.b);
    set_exponents(c, "c", chosen.input.c, chosen.hidden.c, chosen.output.c);
    const auto k = param::classify(chosen.input, chosen.hidden, chosen.output, depth);
    py::list r_l, failed, updated;
    for (int l = 0; l < k.depth; ++l) r_l.append(text(k.r_l[static_cast<std::size_t>(l)]));
    for (std::size_t i = 0; i < k.condition_holds.size(); ++i)
        if (!k.condition_holds[i]) failed.append(i + 1);
    for (int l = 0; l <= k.depth; ++l) updated.append(static_cast<bool>(k.updated_maximally[static_cast<std::size_t>(l)]));
    py::dict out;
    out["preset"] = chosen.name;
    out["depth"] = k.depth;
    out["stable"] = k.stable;
    out["nontrivial"] = k.nontrivial;
    out["r"] = text(k.r);
    out["r_l"] = r_l;
    out["regime"] = std::string(to_string(k.regime));
    out["failed_conditions"] = failed;
    out["updated_maximally"] = updated;
    return out;
}

}  // namespace

void bind_classify(py::module_& m) {
    using namespace pybind11::literals;
    m.def("classify", &classify, "preset"_a = py::none(), py::kw_only(), "a"_a = py::none(), "b"_a = py::none(), "c"_a = py::none(),
          "depth"_a = 2,
          "TP4 classification of an abc-parametrization (Yang & Hu 2020, Tensor Programs IV, Thm 3.3, Cor 3.9):\n"
          "W_l = n^{-a_l} w_l, w_l ~ N(0, n^{-2 b_l}), SGD learning rate eta n^{-c}, `depth` hidden layers.\n\n"
          "preset: 'sp', 'sp-lr', 'ntk', 'mf', 'mup', 'mup-table3', 'mup-package' or None (all exponents 0 unless given).\n"
          "a, b: one exponent for every layer or three (input, hidden, output), None entries keeping the preset's;\n"
          "c: the SGD exponent of every layer. Exponents are ints, fractions.Fraction or strings like '-1/2'.\n"
          "Returns the dict that `widenn classify --json` prints: preset, depth, stable, nontrivial, r, r_l, regime,\n"
          "failed_conditions, updated_maximally (rationals as strings such as '1/2').");
}

}  // namespace widenn::python
