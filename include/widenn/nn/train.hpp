#pragma once
// One training step, the loop body every user of nn::mlp or nn::network writes: forward, loss gradient, backward, update.
#include "../core/tensor.hpp"
#include "loss.hpp"
#include "mlp.hpp"
#include "optim.hpp"

namespace widenn::nn {

// Runs one step of `opt` on the batch (x, target) with loss Loss (nn::mse or nn::softmax_cross_entropy) and
// returns the loss before the update. `dout` holds the output gradient; pass the same matrix every step so that
// steady-state steps allocate nothing.
template <class Loss, class Net, class Optimizer, class Target>
typename Net::value_type train_step(Net& net, Optimizer& opt, const matrix<typename Net::value_type>& x, const Target& target,
                                    matrix<typename Net::value_type>& dout) {
    const auto loss = Loss::value_and_gradient(net.forward(x), target, dout);
    if constexpr (requires { opt.step(); }) {  // a parameter-list optimiser (nn::network): the gradients live in the parameters
        net.backward(x, dout);
        opt.step();
    } else {
        opt.step(net.backward(x, dout));
    }
    return loss;
}

}  // namespace widenn::nn
