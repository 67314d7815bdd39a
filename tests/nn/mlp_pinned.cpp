// nn::mlp's numbers pinned: forward outputs, gradients, parameters after three optimiser steps (SGD with momentum and
// weight decay; Adam with L2 and clipping) and the empirical NTK, recorded (as hexadecimal floats) from the
// stand-alone nn::mlp implementation before nn::mlp became the composition nn::network<P, serial<(dense, A) x L>, T>.
// Every value must still be reproduced exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <widenn/act/activations.hpp>
#include <widenn/core/rng.hpp>
#include <widenn/nn/loss.hpp>
#include <widenn/nn/mlp.hpp>
#include <widenn/nn/ntk.hpp>
#include <widenn/nn/optim.hpp>

namespace {
namespace nn = widenn::nn;

// The scenarios (a 5 -> 16 -> ... -> 3 MLP at base width 8, a batch of 4).
template <class T>
void append(std::vector<double>& out, const T* p, std::size_t n, std::size_t stride) {
    for (std::size_t i = 0; i < n; i += stride) out.push_back(static_cast<double>(p[i]));
}
template <class T, class P, class A, int L>
std::vector<double> collect(nn::constants_in constants, bool adam) {
    nn::mlp<P, A, L, T> net({.d_in = 5, .width = 16, .d_out = 3, .base_width = 8, .bias_var = 0.25, .constants = constants, .seed = 7});
    const auto x = widenn::normal_matrix<T>(4, 5, 11);
    const auto y = widenn::normal_matrix<T>(4, 3, 12);
    std::vector<double> out;
    append(out, net.forward(x).data(), 12, 1);
    widenn::matrix<T> dout;
    nn::mse::value_and_gradient(net.forward(x), y, dout);
    auto g = net.make_gradients();
    net.backward(x, dout, g);
    append(out, g.weight(1).data(), g.weight(1).size(), 7);
    append(out, g.bias(2).data(), g.bias(2).size(), 3);
    append(out, g.weight(L + 1).data(), g.weight(L + 1).size(), 5);
    auto train = [&](auto& opt) {
        for (int s = 0; s < 3; ++s) {
            nn::mse::value_and_gradient(net.forward(x), y, dout);
            opt.step(net.backward(x, dout));
        }
    };
    if (adam) {
        nn::adam opt(net, {.lr = 1e-2, .weight_decay = 1e-3, .clip_norm = 0.5});
        train(opt);
    } else {
        nn::sgd opt(net, {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3});
        train(opt);
    }
    append(out, net.forward(x).data(), 12, 1);
    append(out, net.weight(2).data(), net.weight(2).size(), 17);
    append(out, net.bias(1).data(), net.bias(1).size(), 5);
    const auto theta = nn::empirical_ntk(net, x, x);
    append(out, theta.data(), 144, 13);
    return out;
}

const std::vector<double> pinned_float_mup_relu = {-0x1.487b64p-1, -0x1.09b2aep+0, 0x1.1f92aap-1, -0x1.daeac6p-2, -0x1.e835p-1, 0x1.867608p-2, -0x1.693b18p-1, -0x1.500cfcp+0, 0x1.9b77fp+0, -0x1.b745d4p-1, -0x1.53423ep+0, 0x1.8e0212p+0, 0x1.35cc64p-2, 0x1.f4f016p-5, -0x1.f5def6p-2, -0x1.55c3f8p-2, -0x1.4f353p-4, 0x1.47dcbep-1, -0x1.4f0e08p-2, 0x1.6f3546p-3, 0x1.07db6ep-5, 0x1.122fd6p-4, 0x1.638018p-2, 0x1.3159aep-4, 0x1.86150ep-3, 0x1.69d6dap-2, 0x1.177b26p-4, 0x0p+0, 0x1.86b066p-3, 0x1.1c565ap+0, -0x1.e2d414p-2, -0x1.e59938p-5, -0x1.ad68b8p-5, -0x1.03a452p-1, 0x0p+0, 0x0p+0, 0x0p+0, 0x1.2be0b2p-2, 0x1.f0a6b6p+0, 0x1.37cb76p-1, 0x1.e770f8p-3, -0x1.a88534p-1, -0x1.0c953p-3, 0x1.86172cp-3, -0x1.a5b646p-1, -0x1.3a51cp-7, 0x1.55a13cp-2, -0x1.f33204p-2, -0x1.e41748p-4, 0x1.85447p-6, -0x1.ff7c58p-1, -0x1.04b9dp+0, 0x1.19f56ep-5, -0x1.1a7344p-5, -0x1.ffb2b2p-4, 0x1.c193fcp-3, 0x1.3dceeep-4, -0x1.db49d2p-3, 0x1.7041e2p-4, -0x1.5e230ap-2, -0x1.686772p-3, -0x1.4acf9p-3, 0x1.4e3eaap-3, 0x1.14babcp-8, -0x1.8663acp-4, 0x1.caf772p-3, -0x1.f110e4p-3, 0x1.6b39ep-9, -0x1.c73c62p-2, 0x1.8b94bep-2, 0x1.3d2532p-1, 0x1.264726p-2, 0x1.2ffd84eb990aep+2, 0x1.f29f01cb8e922p+1, 0x1.d169912ed7798p+2, 0x1.88dde9edb001ep+1, 0x1.7e13334b11462p+1, 0x1.4d32cc4f0d922p+2, 0x1.fafe34f3cf65bp+2, 0x1.04c1fb94176b8p+3, 0x1.638e468382a81p+3, 0x1.6c50688c20515p+2, 0x1.c03d0530625f1p+2, 0x1.7f5236ada6fa9p+3};
const std::vector<double> pinned_double_ntk_erf = {-0x1.b8a1b7a05759p-5, -0x1.68d17fcdf0bfep-1, 0x1.99ba56975364ep-2, 0x1.051f4e1eebf94p-4, -0x1.80f0c15478b51p-1, 0x1.49d40ac7e5631p-3, -0x1.60ac2cbc3144ap-1, -0x1.bb2308748217cp-5, 0x1.98dc571e2f998p-2, -0x1.1abff29ba8f42p-1, -0x1.2dd9c3d12e488p-5, 0x1.05960a1caccd2p-1, -0x1.1d9fe3b2ad69bp-8, -0x1.1ea3bda796a1p-7, 0x1.898ffb71a8ad5p-7, -0x1.231b8f6137666p-9, -0x1.368e93787eb4bp-8, 0x1.b41cb27e354abp-8, -0x1.0fa610a2d2c6cp-7, -0x1.0b6bdc2d5b41fp-9, 0x1.83deae8482aa4p-7, 0x1.da6c7a5ca963bp-7, 0x1.9eced2e65aab6p-12, 0x1.48a421754b827p-6, 0x1.40385de6e1e7p-5, 0x1.d56250373874p-9, -0x1.b6137e9581edfp-5, -0x1.7b51abc61cb42p-7, 0x1.fc41309c84516p-5, -0x1.89805f1d25f08p-7, 0x1.31dc20b711cc2p-5, -0x1.c7fdfd621473ap-4, 0x1.25bc69be0f46fp-3, -0x1.c95a8b5fd1158p-6, 0x1.f01c067115f86p-10, -0x1.a6c8aa9d46fe3p-5, 0x1.1c0ed094285c5p-8, -0x1.4a8eeda541184p-4, -0x1.992ae48a9bfc5p-5, 0x1.85535044c355ep-4, 0x1.783fac7e4b31ap-3, -0x1.c8a8799d6f5a6p-1, 0x1.71f77e7aa7b3ep-2, 0x1.373bb3da843ccp-3, -0x1.c13a2da37b1p-1, 0x1.e3f41d41ef5bep-3, -0x1.fd0a249d9940cp-2, -0x1.f4bef3ec3eda7p-3, 0x1.804d7b495bc78p-2, -0x1.8fbfd7a201fa8p-2, -0x1.992b8e0277d89p-2, 0x1.e84f7a790655ep-3, 0x1.7a9e663af23e4p-2, -0x1.27a1b039ff321p-4, -0x1.1f97af5333637p-1, 0x1.0bfa11db186fcp+0, 0x1.2381825fb718cp-2, -0x1.b68c9b8e09cp-1, 0x1.4850371c362cfp-2, -0x1.6066ebf84073p+0, -0x1.1ce4a0c46d3bp-1, -0x1.3b8537d0cd33ap-1, 0x1.32320ac2bcdf8p-1, 0x1.6d9ee6cf13b28p-8, -0x1.4c35606fe24bcp-2, 0x1.b192cf8a203fcp-1, -0x1.e1d5b57287edp-1, 0x1.48ea5615b8bb3p-3, -0x1.422b2f9f2afbbp+0, 0x1.1121a7c57e948p+0, 0x1.a28ed04301602p+0, 0x1.a507642504de4p-1, 0x1.75f3bc693a85ap+0, 0x1.6d2b590cfa4aap+0, 0x1.3c876eede7a24p+0, 0x1.4bdf641e9820cp+0, 0x1.9cb684bd584c4p+0, 0x1.1a6c43e40f80bp+0, 0x1.35cd95a18af8ap+0, 0x1.74c00ffe3ef5ap+0, 0x1.4f69f8df41cc8p+0, 0x1.3c1cdf79c9667p+0, 0x1.a1ae6ec5525bep+0, 0x1.7273d34076d93p+0};
const std::vector<double> pinned_double_sp_tanh = {-0x1.449ebbc4267e9p-1, -0x1.df9563417927ap-3, 0x1.18c5c9b5e2c03p-2, 0x1.3be23f3aa64dep-2, -0x1.a62b45802a3a3p-2, 0x1.300d4d5ff36f5p-3, 0x1.e852f30ed0f0dp-3, -0x1.bc5391debdd52p-2, 0x1.2ce2fcb270d25p-1, 0x1.8b1437ce9f1e4p-5, 0x1.546516fb7dcb2p-1, -0x1.948ba966a9784p-4, 0x1.17f934af8d02p-12, 0x1.421ce3bf2c66dp-6, -0x1.1646b97c16ea3p-4, 0x1.2e1e1b9cbdba3p-7, -0x1.02d1ad4316ab8p-4, -0x1.046a952502ddep-4, -0x1.f5b3fa522c2a8p-9, 0x1.4c9147f586055p-4, -0x1.ded90107aadebp-8, 0x1.375a8e5db215ep-4, 0x1.5d654ac06c5aap-11, 0x1.b3e49c54fb316p-3, -0x1.860501b5f591p-2, -0x1.078eb94f81407p-3, 0x1.84a8e1c2b0edap-2, -0x1.c4f79d6e04d6p-7, -0x1.7214c2d50e878p-3, 0x1.f3e6a919558e2p-2, 0x1.31aac0a15772fp-2, 0x1.00a9a3042b74cp-1, 0x1.23740992156a5p-2, 0x1.e480365de400ap-2, -0x1.22520a58474ecp-4, -0x1.56e0075c8c8c2p-3, -0x1.4b9a65383cac6p-1, 0x1.453d48791da64p-2, 0x1.04e1f5528da28p-1, -0x1.895b66603f0a8p-1, 0x1.17811605e86c4p-2, 0x1.29be487e3231dp-2, -0x1.169ce7de8eed9p-1, 0x1.5b3b6c011a5b8p-1, 0x1.f244867be0b56p-2, -0x1.444b86055bf02p-4, -0x1.19149ba2dd542p-1, 0x1.dad740531f6efp-4, -0x1.52811a2901cacp-4, -0x1.85068b795b6cdp-3, -0x1.3c17e1a40c2cfp-1, 0x1.24d7c39cca968p-1, 0x1.b19d248701007p-1, 0x1.aacb99eef73d4p-2, 0x1.06b86e8aa625p+2, 0x1.1a7f1c66d6764p+2, 0x1.2cc380854b182p+2, 0x1.8c811ffe494fep+1, 0x1.98f38b5ea4623p+1, 0x1.a8f7b7769f84cp+1, 0x1.4f2f4fbd5e027p+2, 0x1.4c07cebcb1f71p+2, 0x1.5ab667d41f1d8p+2, 0x1.9d23177ae3d31p+2, 0x1.bb2e017b10c1cp+2, 0x1.c51077ca1e666p+2};

void check_pinned(const std::vector<double>& got, const std::vector<double>& pinned) {
    REQUIRE(got.size() == pinned.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        if (got[i] != pinned[i]) {
            if (++mismatches <= 5) MESSAGE("entry ", i, ": got ", got[i], ", pinned ", pinned[i]);
        }
    CHECK(mismatches == 0);
}

}  // namespace

TEST_CASE("nn::mlp reproduces its pinned numbers exactly (float, mup, relu, SGD with momentum)") {
    check_pinned(collect<float, widenn::param::mup, widenn::act::relu, 2>(nn::constants_in::init, false), pinned_float_mup_relu);
}

TEST_CASE("nn::mlp reproduces its pinned numbers exactly (double, ntk with constants in the multiplier, erf, Adam with clipping)") {
    check_pinned(collect<double, widenn::param::ntk, widenn::act::erf<>, 3>(nn::constants_in::multiplier, true), pinned_double_ntk_erf);
}

TEST_CASE("nn::mlp reproduces its pinned numbers exactly (double, standard with lr 1/n, tanh, one hidden layer)") {
    check_pinned(collect<double, widenn::param::standard_lr_1_over_n, widenn::act::tanh, 1>(nn::constants_in::init, false),
                 pinned_double_sp_tanh);
}
