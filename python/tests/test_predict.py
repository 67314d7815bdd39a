"""widenn.predict against the closed forms of gradient flow and GP inference (the identities tests/limit/predict.cpp checks)."""
import numpy as np
import pytest

import widenn


@pytest.fixture
def problem(rng):
    x = rng.normal(size=(11, 4))
    k = widenn.kernel(x, act="relu", depth=2, weight_var=2.0, bias_var=0.1)
    train, test = slice(0, 8), slice(8, 11)
    return dict(ntk_dd=k["ntk"][train, train], ntk_td=k["ntk"][test, train], nngp_dd=k["nngp"][train, train],
                nngp_td=k["nngp"][test, train], nngp_tt=k["nngp"][test, test], y=rng.normal(size=(8, 2)))


def close(a, b, tol=1e-10):
    return np.max(np.abs(a - b)) <= tol * max(1.0, np.max(np.abs(b)))


def test_converged_training_is_kernel_regression(problem):
    p = problem
    fx_train, fx_test = widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"])  # t=None: t = infinity
    assert np.array_equal(fx_train, p["y"])
    assert close(fx_test, p["ntk_td"] @ np.linalg.solve(p["ntk_dd"], p["y"]))
    assert close(widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"], t=1e9)[1], fx_test, 1e-8)


def test_finite_time_equals_the_eigen_decomposition(problem, rng):
    p = problem
    lr, t = 0.7, 40.0
    f0_train, f0_test = rng.normal(size=(8, 2)), rng.normal(size=(3, 2))
    fx_train, fx_test = widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"], t, learning_rate=lr,
                                                            fx_train_0=f0_train, fx_test_0=f0_test)
    lam, v = np.linalg.eigh(p["ntk_dd"])
    flow_time = lr * t / p["y"].size  # neural-tangents: MSE loss normalised by the number of targets
    decay = v @ np.diag(np.exp(-lam * flow_time)) @ v.T
    assert close(fx_train, p["y"] + decay @ (f0_train - p["y"]))
    weights = v @ np.diag(-np.expm1(-lam * flow_time) / lam) @ v.T
    assert close(fx_test, f0_test + p["ntk_td"] @ weights @ (p["y"] - f0_train))
    # at t = 0 nothing has moved
    fx_train0, fx_test0 = widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"], 0.0, fx_train_0=f0_train,
                                                              fx_test_0=f0_test)
    assert close(fx_train0, f0_train, 1e-12) and np.array_equal(fx_test0, f0_test)


def test_diag_reg_scales_with_the_mean_diagonal(problem):
    p = problem
    reg = 1e-2
    _, fx_test = widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"], diag_reg=reg)
    shifted = p["ntk_dd"] + reg * np.trace(p["ntk_dd"]) / 8 * np.eye(8)
    assert close(fx_test, p["ntk_td"] @ np.linalg.solve(shifted, p["y"]))
    _, fx_abs = widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"], diag_reg=reg, diag_reg_absolute_scale=True)
    assert close(fx_abs, p["ntk_td"] @ np.linalg.solve(p["ntk_dd"] + reg * np.eye(8), p["y"]))


def test_gp_inference_mean_and_covariance(problem):
    p = problem
    post = widenn.predict.gp_inference(p["nngp_dd"], p["y"], p["nngp_td"], p["nngp_tt"])
    solve = np.linalg.solve(p["nngp_dd"], np.hstack([p["y"], p["nngp_td"].T]))
    assert close(post.mean, p["nngp_td"] @ solve[:, :2])
    assert close(post.covariance, p["nngp_tt"] - p["nngp_td"] @ solve[:, 2:])
    assert np.all(np.linalg.eigvalsh(post.covariance) > -1e-10)
    mean_only = widenn.predict.gp_inference(p["nngp_dd"], p["y"], p["nngp_td"])
    assert mean_only.covariance is None and np.array_equal(mean_only.mean, post.mean)
    # the NTK-GP mean is the converged gradient-descent prediction
    ntkgp = widenn.predict.gp_inference(p["ntk_dd"], p["y"], p["ntk_td"])
    assert close(ntkgp.mean, widenn.predict.gradient_descent_mse(p["ntk_dd"], p["y"], p["ntk_td"])[1], 1e-9)


def test_max_learning_rate(problem):
    p = problem
    lam_max = np.linalg.eigvalsh(p["ntk_dd"])[-1]
    assert widenn.predict.max_learning_rate(p["ntk_dd"]) == pytest.approx(2 * 8 / lam_max, rel=1e-12)
    assert widenn.predict.max_learning_rate(p["ntk_dd"], 16, momentum=0.5) == pytest.approx(2 * 1.5 * 16 / lam_max, rel=1e-12)
