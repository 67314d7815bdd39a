// nn::network (nn/serial.hpp): gradients of every layer type and of whole compositions against central differences,
// one generic battery instantiated for every architecture (double tight, float loose).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include <widenn/act/activations.hpp>
#include <widenn/nn/serial.hpp>

namespace {

namespace wn = widenn;
namespace nn = widenn::nn;
using tanh_ = wn::act::tanh;
using erf_ = wn::act::erf<>;
using wn::nn::padding;

// loss = Σ out ⊙ R for a fixed random R, so dloss/dout = R.
template <class Net>
double loss_of(Net& net, const wn::matrix<typename Net::value_type>& x, const wn::matrix<typename Net::value_type>& r) {
    const auto& out = net.forward(x);
    double total = 0;
    for (std::size_t i = 0; i < out.size(); ++i) total += static_cast<double>(out.data()[i]) * static_cast<double>(r.data()[i]);
    return total;
}

// Every entry of every parameter (up to `per_tensor` entries each, spread over the tensor): the backward gradient
// against (L(w + h) − L(w − h)) / 2h, to within tol·(1 + max |gradient|).
template <class Net>
void check_gradients(const nn::network_config& config, std::size_t batch, double h, double tol, std::size_t per_tensor = 40) {
    using T = typename Net::value_type;
    Net net(config);
    const auto x = wn::normal_matrix<T>(batch, net.config().d_in, 101);
    const auto r = wn::normal_matrix<T>(batch, config.d_out, 202);
    net.forward(x);
    net.backward(x, r);
    double largest = 0;
    for (auto* p : net.parameters().parameters())
        for (auto g : p->grad) largest = std::max(largest, std::abs(static_cast<double>(g)));
    REQUIRE(largest > 0);
    std::size_t checked = 0;
    for (auto* p : net.parameters().parameters()) {
        const std::vector<T> analytic = p->grad;
        const std::size_t n = p->size(), step = std::max<std::size_t>(1, n / per_tensor);
        for (std::size_t i = 0; i < n; i += step) {
            const T saved = p->value[i];
            p->value[i] = static_cast<T>(saved + h);
            const double up = loss_of(net, x, r);
            p->value[i] = static_cast<T>(saved - h);
            const double down = loss_of(net, x, r);
            p->value[i] = saved;
            const double numeric = (up - down) / (2 * h);
            CAPTURE(p->name);
            CAPTURE(i);
            CHECK(std::abs(numeric - static_cast<double>(analytic[i])) <= tol * (1 + largest));
            ++checked;
        }
    }
    CHECK(checked > 0);
}

template <class Arch, class T = double>
using mup_net = nn::network<wn::param::mup, Arch, T>;

nn::network_config image_config(std::size_t h, std::size_t w, std::size_t c, std::size_t width = 4) {
    nn::network_config c0;
    c0.image = {h, w, c};
    c0.width = width;
    c0.d_out = 3;
    c0.base_width = 2;  // ñ = 2: multipliers and initial scales differ from 1
    c0.bias_var = 0.1;  // nonzero biases
    c0.seed = 5;
    return c0;
}

constexpr double h64 = 1e-6, tol64 = 1e-6;

}  // namespace

TEST_CASE("serial gradients (double): dense and activations on vectors equal central differences") {
    nn::network_config c;
    c.d_in = 5;
    c.width = 6;
    c.d_out = 3;
    c.base_width = 3;
    c.bias_var = 0.2;
    c.seed = 1;
    check_gradients<mup_net<nn::serial<nn::dense, tanh_, nn::dense, erf_>>>(c, 4, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::dense, tanh_, nn::layernorm<>, nn::residual<nn::dense, tanh_>>>>(c, 4, h64, tol64);
    check_gradients<mup_net<nn::serial<>>>(c, 4, h64, tol64);  // the readout alone
    c.constants = nn::constants_in::multiplier;
    check_gradients<nn::network<wn::param::ntk, nn::serial<nn::dense, erf_, nn::dense, erf_>, double>>(c, 4, h64, tol64);
}

TEST_CASE("serial gradients (double): conv with every padding and stride, and the 1x1 direct path") {
    check_gradients<mup_net<nn::serial<nn::conv<3>, tanh_, nn::flatten>>>(image_config(5, 4, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3, 2>, tanh_, nn::gap>>>(image_config(5, 6, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<2, 1, padding::valid>, tanh_, nn::flatten>>>(image_config(4, 5, 3), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3, 2, padding::valid>, tanh_, nn::flatten>>>(image_config(7, 6, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3, 1, padding::circular>, tanh_, nn::conv<3, 1, padding::circular>, tanh_, nn::gap>>>(
        image_config(4, 5, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3, 2, padding::circular>, tanh_, nn::flatten>>>(image_config(5, 5, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<1>, tanh_, nn::conv<1, 2>, erf_, nn::flatten>>>(image_config(4, 4, 3), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<5>, tanh_, nn::gap>>>(image_config(3, 3, 1), 2, h64, tol64);  // filter > image
    check_gradients<mup_net<nn::serial<nn::conv<5, 1, padding::circular>, tanh_, nn::gap>>>(image_config(3, 2, 1), 2, h64, tol64);
}

TEST_CASE("serial gradients (double): pooling, gap, flatten, dense on pixels, layer norm and residual blocks in compositions") {
    check_gradients<mup_net<nn::serial<nn::conv<3>, tanh_, nn::avgpool<2>, nn::conv<3>, tanh_, nn::gap>>>(image_config(6, 5, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<2>, erf_, nn::avgpool<3, 2>, nn::flatten, nn::dense, tanh_>>>(image_config(7, 7, 1), 2, h64,
                                                                                                           tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3>, tanh_, nn::dense, tanh_, nn::gap>>>(image_config(4, 4, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3>, nn::layernorm<>, tanh_, nn::flatten>>>(image_config(4, 3, 2), 2, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3>, nn::layernorm<nn::norm_over::channels_and_space>, tanh_, nn::gap>>>(image_config(4, 3, 2), 2,
                                                                                                                        h64, tol64);
    check_gradients<mup_net<nn::serial<nn::conv<3>, tanh_, nn::residual<nn::conv<3>, tanh_, nn::layernorm<>, nn::conv<1>>, tanh_,
                                       nn::residual<nn::residual<nn::conv<3, 1, padding::circular>, erf_>>, nn::gap>>>(image_config(4, 4, 2), 2,
                                                                                                                     h64, tol64);
    check_gradients<mup_net<nn::serial<nn::flatten, nn::dense, tanh_>>>(image_config(3, 2, 2), 3, h64, tol64);
    check_gradients<mup_net<nn::serial<nn::gap>>>(image_config(3, 2, 2), 3, h64, tol64);
}

TEST_CASE("serial gradients (float): a CNN with every layer type agrees with central differences to float accuracy") {
    using arch = nn::serial<nn::conv<3>, tanh_, nn::avgpool<2>, nn::conv<3, 2, padding::circular>, nn::layernorm<>,
                            nn::residual<nn::conv<3>, tanh_>, nn::dense, erf_, nn::flatten>;
    check_gradients<mup_net<arch, float>>(image_config(6, 6, 2), 2, 5e-3, 5e-3);
    nn::network_config c;
    c.d_in = 5;
    c.width = 8;
    c.d_out = 2;
    c.seed = 3;
    check_gradients<mup_net<nn::serial<nn::dense, tanh_, nn::dense, tanh_>, float>>(c, 3, 5e-3, 5e-3);
}
