#pragma once
// The TP4 classification of an abc-parametrization (Yang & Hu 2020, §3 and §5): r, r_l,
// stability (Thm 3.3), nontriviality, the feature-learning / kernel dichotomy (Thm 3.6, 3.8,
// Cor 3.9) and maximal updates (Def 5.2, Prop 5.3, Prop 5.5). Exact rational arithmetic, usable
// at compile time (classify<P, L>()) and at run time (classify(input, hidden, output, L)).
#include <array>
#include <string_view>

#include "../core/errors.hpp"
#include "abc.hpp"

namespace widenn {

enum class regime { unstable, trivial, kernel, feature_learning };

constexpr std::string_view to_string(regime g) {
    switch (g) {
        case regime::unstable: return "unstable";
        case regime::trivial: return "trivial";
        case regime::kernel: return "kernel";
        case regime::feature_learning: return "feature_learning";
    }
    return "?";
}

namespace param {

inline constexpr int max_classified_depth = 64;

// The six stability conditions of TP4 Thm 3.3, in order.
inline constexpr std::array<std::string_view, 6> stability_conditions = {
    "a_1 + b_1 = 0 (input-layer preactivations are Theta(1) at initialisation)",
    "a_l + b_l = 1/2 for 2 <= l <= L (hidden preactivations are Theta(1) at initialisation)",
    "a_{L+1} + b_{L+1} >= 1/2 (the output is O(1) at initialisation)",
    "r >= 0 (features do not blow up during training)",
    "2 a_{L+1} + c >= 1 (the readout update does not blow up the output)",
    "a_{L+1} + b_{L+1} + r >= 1 (the feature update does not blow up the output)",
};

struct classification {
    int depth = 0;                   // L, the number of hidden layers
    rational c{};                    // the single c after reducing per-layer learning rates (TP4 §2)
    std::array<rational, max_classified_depth + 1> a{}, b{};  // reduced a_l, b_l for l = 1..L+1 (index l-1)
    rational r{};
    std::array<rational, max_classified_depth> r_l{};         // index l-1, l = 1..L
    std::array<bool, 6> condition_holds{};
    bool stable = false;
    bool nontrivial = false;
    widenn::regime regime = widenn::regime::unstable;
    std::array<bool, max_classified_depth + 1> updated_maximally{};  // layers 1..L+1 (index l-1)
    bool readout_initialised_maximally = false;

    constexpr int failed_condition_count() const {
        int count = 0;
        for (bool ok : condition_holds) count += ok ? 0 : 1;
        return count;
    }
};

// Runtime and constant-expression classification of exponents (input, hidden, output) at depth L.
constexpr classification classify(layer_exponents input, layer_exponents hidden, layer_exponents output, int depth) {
    if (depth < 1 || depth > max_classified_depth)
        throw error("widenn::param::classify: depth (number of hidden layers) must be in 1..64");
    classification k;
    k.depth = depth;
    const int L = depth;
    // Reduce per-layer SGD exponents to one c (docs/theory/abc-parametrization.md §2): θ_l = (c_l − c)/2,
    // a_l ← a_l + θ_l, b_l ← b_l − θ_l; we take c = the hidden layers' c, which maps TP5 Table 3 onto TP4 μP.
    k.c = hidden.c;
    auto reduce = [&](layer_exponents e, int l) {
        const rational theta = (e.c - k.c) / rational{2};
        k.a[l - 1] = e.a + theta;
        k.b[l - 1] = e.b - theta;
    };
    reduce(input, 1);
    for (int l = 2; l <= L; ++l) reduce(hidden, l);
    reduce(output, L + 1);

    const rational a_out = k.a[L], b_out = k.b[L];
    const rational readout = min(a_out + b_out, rational{2} * a_out + k.c);
    for (int l = 1; l <= L; ++l)
        k.r_l[l - 1] = readout + k.c - rational{1} + rational{2} * k.a[l - 1] + rational{l == 1 ? 1 : 0};
    k.r = k.r_l[0];
    for (int l = 2; l <= L; ++l) k.r = min(k.r, k.r_l[l - 1]);

    bool hidden_ok = true;
    for (int l = 2; l <= L; ++l) hidden_ok = hidden_ok && (k.a[l - 1] + k.b[l - 1] == rational{1, 2});
    k.condition_holds = {
        k.a[0] + k.b[0] == rational{0},
        hidden_ok,
        a_out + b_out >= rational{1, 2},
        k.r >= rational{0},
        rational{2} * a_out + k.c >= rational{1},
        a_out + b_out + k.r >= rational{1},
    };
    k.stable = k.failed_condition_count() == 0;
    k.nontrivial = (a_out + b_out + k.r == rational{1}) || (rational{2} * a_out + k.c == rational{1});
    if (!k.stable)
        k.regime = widenn::regime::unstable;
    else if (!k.nontrivial)
        k.regime = widenn::regime::trivial;
    else
        k.regime = k.r == rational{0} ? widenn::regime::feature_learning : widenn::regime::kernel;

    for (int l = 1; l <= L; ++l) k.updated_maximally[l - 1] = k.r_l[l - 1] == rational{0};
    k.updated_maximally[L] = rational{2} * a_out + k.c == rational{1};
    k.readout_initialised_maximally = a_out + b_out + k.r == rational{1};
    return k;
}

// The classification of a policy at depth L, as a compile-time constant.
template <Parametrization P, int L>
consteval classification classify() {
    static_assert(L >= 1 && L <= max_classified_depth, "widenn: the number of hidden layers L must be in 1..64");
    return classify(P::input, P::hidden, P::output, L);
}

// The guard every network and limit instantiates: an unstable parametrization is refused with
// the failed condition named, unless the policy is wrapped in param::allow_unstable<P>.
template <Parametrization P, int L>
consteval bool require_stable() {
    static_assert(P::max_depth == 0 || L <= P::max_depth,
                  "widenn: this preset is defined for one hidden layer only (param::mean_field); use param::mup for deeper "
                  "networks");
    constexpr classification k = classify<P, L>();
    constexpr bool opt_in = P::unstable_allowed;
    static_assert(opt_in || k.condition_holds[0],
                  "widenn: unstable parametrization: TP4 stability condition 1 fails: a_1 + b_1 = 0 (input preactivations "
                  "Theta(1)). Wrap the policy in param::allow_unstable<P> to instantiate it anyway");
    static_assert(opt_in || k.condition_holds[1],
                  "widenn: unstable parametrization: TP4 stability condition 2 fails: a_l + b_l = 1/2 for hidden layers. "
                  "Wrap the policy in param::allow_unstable<P> to instantiate it anyway");
    static_assert(opt_in || k.condition_holds[2],
                  "widenn: unstable parametrization: TP4 stability condition 3 fails: a_{L+1} + b_{L+1} >= 1/2 (output O(1) "
                  "at init). Wrap the policy in param::allow_unstable<P> to instantiate it anyway");
    static_assert(opt_in || k.condition_holds[3],
                  "widenn: unstable parametrization: TP4 stability condition 4 fails: r >= 0 (features blow up). Wrap the "
                  "policy in param::allow_unstable<P> to instantiate it anyway");
    static_assert(opt_in || k.condition_holds[4],
                  "widenn: unstable parametrization: TP4 stability condition 5 fails: 2 a_{L+1} + c >= 1 (the readout "
                  "update blows up the output; SP needs learning rate 1/n). Wrap the policy in param::allow_unstable<P> "
                  "to instantiate it anyway");
    static_assert(opt_in || k.condition_holds[5],
                  "widenn: unstable parametrization: TP4 stability condition 6 fails: a_{L+1} + b_{L+1} + r >= 1 (the "
                  "feature update blows up the output). Wrap the policy in param::allow_unstable<P> to instantiate it "
                  "anyway");
    return true;
}

}  // namespace param
}  // namespace widenn
