#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <widenn/param/classify.hpp>

namespace p = widenn::param;
using widenn::rational;
using widenn::regime;

// The regime is a compile-time fact.
static_assert(p::classify<p::mup, 3>().stable);
static_assert(p::classify<p::mup, 3>().regime == regime::feature_learning);
static_assert(p::classify<p::ntk, 3>().regime == regime::kernel);
static_assert(p::require_stable<p::mup, 4>());
static_assert(p::require_stable<p::allow_unstable<p::standard>, 2>());  // the opt-in compiles

TEST_CASE("presets classify as in TP4 (docs/theory/abc-parametrization.md §4)") {
    struct expected {
        p::classification k;
        int L;
        bool stable, nontrivial;
        rational r;
        regime g;
    };
    const std::vector<expected> table = {
        {p::classify<p::standard_lr_1_over_n, 1>(), 1, true, true, {3, 2}, regime::kernel},
        {p::classify<p::standard_lr_1_over_n, 2>(), 2, true, true, {1, 2}, regime::kernel},
        {p::classify<p::standard_lr_1_over_n, 5>(), 5, true, true, {1, 2}, regime::kernel},
        {p::classify<p::standard, 1>(), 1, false, false, 0, regime::unstable},
        {p::classify<p::standard, 3>(), 3, false, false, -1, regime::unstable},
        {p::classify<p::ntk, 1>(), 1, true, true, {1, 2}, regime::kernel},
        {p::classify<p::ntk, 4>(), 4, true, true, {1, 2}, regime::kernel},
        {p::classify<p::mean_field, 1>(), 1, true, true, 0, regime::feature_learning},
        {p::classify<p::mup, 1>(), 1, true, true, 0, regime::feature_learning},
        {p::classify<p::mup, 6>(), 6, true, true, 0, regime::feature_learning},
        {p::classify<p::mup_table3, 3>(), 3, true, true, 0, regime::feature_learning},
        {p::classify<p::mup_package, 3>(), 3, true, true, 0, regime::feature_learning},
    };
    for (const auto& e : table) {
        CAPTURE(e.L);
        CHECK(e.k.depth == e.L);
        CHECK(e.k.stable == e.stable);
        CHECK(e.k.r == e.r);
        CHECK(e.k.regime == e.g);
        if (e.stable) CHECK(e.k.nontrivial == e.nontrivial);
    }
    // Per-layer r_l for SP with lr 1/n: 3/2 for the input layer, 1/2 for the others.
    const auto sp = p::classify<p::standard_lr_1_over_n, 3>();
    CHECK(sp.r_l[0] == rational{3, 2});
    CHECK(sp.r_l[1] == rational{1, 2});
    CHECK(sp.r_l[2] == rational{1, 2});
    // SP with Θ(1) lr fails condition 5 (2a_{L+1} + c >= 1) at every depth, and condition 4 from L = 2 on.
    CHECK_FALSE(p::classify<p::standard, 1>().condition_holds[4]);
    CHECK(p::classify<p::standard, 1>().condition_holds[3]);
    CHECK_FALSE(p::classify<p::standard, 2>().condition_holds[3]);
}

TEST_CASE("mu-P updates every layer maximally and initialises the readout maximally (TP4 Thm 5.6); NTK updates none") {
    const auto mu = p::classify<p::mup, 3>();
    for (int l = 0; l <= 3; ++l) CHECK(mu.updated_maximally[l]);
    CHECK(mu.readout_initialised_maximally);
    const auto ntk = p::classify<p::ntk, 3>();
    for (int l = 0; l < 3; ++l) CHECK_FALSE(ntk.updated_maximally[l]);
    CHECK(ntk.updated_maximally[3]);  // 2 a_{L+1} + c = 1: the readout itself moves maximally in NTK too
}

TEST_CASE("mean-field shifted by theta = -1/2 is mu-P (TP4 section 2)") {
    using shifted = p::shift<p::mean_field, rational{-1, 2}>;
    CHECK(shifted::input == p::mup::input);
    CHECK(shifted::output == p::mup::output);
}

namespace {
template <class P, int L, rational Theta>
void check_shift_invariant() {
    const auto before = p::classify<P, L>();
    const auto after = p::classify<p::shift<P, Theta>, L>();
    CAPTURE(L);
    CAPTURE(widenn::to_string(Theta));
    CHECK(after.stable == before.stable);
    CHECK(after.nontrivial == before.nontrivial);
    CHECK(after.r == before.r);
    CHECK(after.regime == before.regime);
    CHECK(after.condition_holds == before.condition_holds);
    for (int l = 0; l < L; ++l) CHECK(after.r_l[l] == before.r_l[l]);
}
template <class P, int L>
void check_shifts() {
    check_shift_invariant<P, L, rational{-3, 2}>();
    check_shift_invariant<P, L, rational{-1, 3}>();
    check_shift_invariant<P, L, rational{1, 4}>();
    check_shift_invariant<P, L, rational{1}>();
    check_shift_invariant<P, L, rational{7, 5}>();
}
}  // namespace

TEST_CASE("the symmetry shift (a + theta, b - theta, c - 2 theta) leaves every classification unchanged") {
    check_shifts<p::standard, 2>();
    check_shifts<p::standard_lr_1_over_n, 1>();
    check_shifts<p::standard_lr_1_over_n, 3>();
    check_shifts<p::ntk, 2>();
    check_shifts<p::mean_field, 1>();
    check_shifts<p::mup, 3>();
    check_shifts<p::mup_table3, 2>();
    check_shifts<p::mup_package, 2>();
}

TEST_CASE("per-layer learning rates reduce to TP4's single c: mup_table3 and mup_package classify exactly as mup") {
    for (int L = 1; L <= 6; ++L) {
        const auto tp4 = p::classify(p::mup::input, p::mup::hidden, p::mup::output, L);
        for (const auto& other : {p::classify(p::mup_table3::input, p::mup_table3::hidden, p::mup_table3::output, L),
                                  p::classify(p::mup_package::input, p::mup_package::hidden, p::mup_package::output, L)}) {
            CHECK(other.r == tp4.r);
            CHECK(other.regime == tp4.regime);
            for (int l = 0; l <= L; ++l) {
                CHECK(other.a[l] == tp4.a[l]);
                CHECK(other.b[l] == tp4.b[l]);
            }
        }
    }
}

// An independent evaluation of TP4 Thm 3.3 and Cor 3.9 in doubles on a half-integer grid
// (values are exact in binary floating point), written out literally for a single c.
TEST_CASE("a grid of exponents agrees with a plain evaluation of the TP4 formulas") {
    const std::vector<int> halves = {-2, -1, 0, 1, 2, 3};  // exponents -1, -1/2, ..., 3/2
    int cases = 0, stable_cases = 0, feature_learning_cases = 0;
    for (int L : {1, 2, 3})
        for (int a1 : halves) for (int b1 : halves) for (int ah : halves) for (int ao : halves) for (int bo : halves) for (int c : halves) {
            const int bh = 1 - ah;  // keeps hidden a + b = 1/2 on half the grid below, so stable cases occur
            for (int bh_choice : {bh, bh + 1}) {
                const double A1 = a1 / 2.0, B1 = b1 / 2.0, AH = ah / 2.0, BH = bh_choice / 2.0, AO = ao / 2.0, BO = bo / 2.0, C = c / 2.0;
                const double head = std::min(AO + BO, 2 * AO + C) + C - 1;
                double r = head + 2 * A1 + 1;
                if (L >= 2) r = std::min(r, head + 2 * AH);
                const bool stable = A1 + B1 == 0 && (L == 1 || AH + BH == 0.5) && AO + BO >= 0.5 && r >= 0 && 2 * AO + C >= 1 &&
                                    AO + BO + r >= 1;
                const bool nontrivial = AO + BO + r == 1 || 2 * AO + C == 1;
                const regime g = !stable ? regime::unstable : !nontrivial ? regime::trivial : r == 0 ? regime::feature_learning : regime::kernel;

                const widenn::layer_exponents in{{a1, 2}, {b1, 2}, {c, 2}, 0}, hid{{ah, 2}, {bh_choice, 2}, {c, 2}, 0},
                    out{{ao, 2}, {bo, 2}, {c, 2}, 0};
                const auto k = p::classify(in, hid, out, L);
                REQUIRE(k.r.to_double() == r);
                REQUIRE(k.stable == stable);
                REQUIRE(k.regime == g);
                if (stable) REQUIRE(k.nontrivial == nontrivial);
                ++cases;
                stable_cases += stable;
                feature_learning_cases += g == regime::feature_learning;
            }
        }
    CHECK(cases == 3 * 6 * 6 * 6 * 6 * 6 * 6 * 2);
    CHECK(stable_cases > 0);
    CHECK(feature_learning_cases > 0);
}

TEST_CASE("classify rejects a depth outside 1..64 at run time") {
    CHECK_THROWS_AS(p::classify(p::mup::input, p::mup::hidden, p::mup::output, 0), widenn::error);
    CHECK_THROWS_AS(p::classify(p::mup::input, p::mup::hidden, p::mup::output, 65), widenn::error);
}
