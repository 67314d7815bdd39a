#pragma once
// The named parametrizations of `widenn classify` and the Python module's widenn.classify: one list, so the command and
// the module cannot disagree about what "mup" or "sp-lr" means.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <widenn/param/abc.hpp>
#include <widenn/param/classify.hpp>

namespace widenn::cli::presets {

struct preset {
    std::string name;
    layer_exponents input, hidden, output;
    int max_depth;  // 0: any depth
};

template <class P>
preset make_preset(std::string name) {
    return {std::move(name), P::input, P::hidden, P::output, P::max_depth};
}

inline const char* preset_names = "sp, sp-lr, ntk, mf, mup, mup-table3, mup-package";

inline const std::vector<preset>& all() {
    namespace p = widenn::param;
    static const std::vector<preset> list = {
        make_preset<p::standard>("sp"),       make_preset<p::standard_lr_1_over_n>("sp-lr"),
        make_preset<p::ntk>("ntk"),           make_preset<p::mean_field>("mf"),
        make_preset<p::mup>("mup"),           make_preset<p::mup_table3>("mup-table3"),
        make_preset<p::mup_package>("mup-package"),
    };
    return list;
}

// The preset called `name`, or nullptr.
inline const preset* find(const std::string& name) {
    const auto& list = all();
    const auto found = std::find_if(list.begin(), list.end(), [&](const preset& p) { return p.name == name; });
    return found == list.end() ? nullptr : &*found;
}

}  // namespace widenn::cli::presets
