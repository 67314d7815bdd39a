#!/usr/bin/env python3
"""Kernel regression with the infinite-width limit of a ReLU network, in neural-tangents' style, with widenn.

Fits y = sin(2 x0) + x1 / 2 on inputs in R^8 from 256 training points and predicts 128 test points with
  * the NTK: a network trained by gradient descent on MSE, at a finite time and to convergence;
  * the NNGP: Bayesian inference of the infinitely wide network, with its posterior variance.
Usage: PYTHONPATH=build/release/python /usr/bin/python3 examples/python/kernel_regression.py [--train 256] [--depth 3]
"""
import argparse
import time

import numpy as np

import widenn


def target(x):
    return (np.sin(2 * x[:, 0]) + 0.5 * x[:, 1])[:, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=256, help="training points (default 256)")
    parser.add_argument("--test", type=int, default=128, help="test points (default 128)")
    parser.add_argument("--depth", type=int, default=3, help="hidden layers (default 3)")
    parser.add_argument("--act", default="relu", help="activation (default relu; see help(widenn.kernel))")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x_train, x_test = rng.normal(size=(args.train, 8)), rng.normal(size=(args.test, 8))
    y_train, y_test = target(x_train), target(x_test)

    # kernel_fn(x1, x2, ('nngp', 'ntk')) of stax.serial(Dense(W_std=sqrt(2), b_std=sqrt(0.1)), Relu(), ..., Dense(...))
    start = time.perf_counter()
    k_train_train = widenn.kernel(x_train, act=args.act, depth=args.depth, weight_var=2.0, bias_var=0.1)
    k_test_train = widenn.kernel(x_test, x_train, act=args.act, depth=args.depth, weight_var=2.0, bias_var=0.1)
    k_test_test = widenn.kernel(x_test, act=args.act, depth=args.depth, weight_var=2.0, bias_var=0.1, get="nngp")
    print(f"kernels of {args.train} train and {args.test} test points: {time.perf_counter() - start:.3f} s")

    def mse(f):
        return float(np.mean((f - y_test) ** 2))

    print(f"predicting zero:                        test MSE {mse(np.zeros_like(y_test)):.4f}")
    ntk = k_train_train["ntk"]
    lr = widenn.predict.max_learning_rate(ntk) / 2
    for steps in (10, 100, 1000):
        _, f_test = widenn.predict.gradient_descent_mse(ntk, y_train, k_test_train["ntk"], t=steps, learning_rate=lr)
        print(f"NTK, gradient descent, {steps:5d} steps:    test MSE {mse(f_test):.4f}")
    _, f_test = widenn.predict.gradient_descent_mse(ntk, y_train, k_test_train["ntk"], diag_reg=1e-4)
    print(f"NTK, trained to convergence:            test MSE {mse(f_test):.4f}")
    posterior = widenn.predict.gp_inference(k_train_train["nngp"], y_train, k_test_train["nngp"], k_test_test, diag_reg=1e-4)
    sd = np.sqrt(np.clip(np.diag(posterior.covariance), 0, None))[:, None]
    print(f"NNGP posterior mean:                    test MSE {mse(posterior.mean):.4f} "
          f"(posterior standard deviation {float(np.mean(sd)):.3f} on average)")


if __name__ == "__main__":
    main()
