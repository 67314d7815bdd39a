"""Bad input raises ValueError (RuntimeError for a numerical failure) carrying the library's sentence."""
import numpy as np
import pytest

import widenn


def test_kernel_input_errors(rng):
    x = rng.normal(size=(6, 4))
    cases = [
        (dict(x1=x, x2=rng.normal(size=(3, 5))), "limit::kernel: X1 and X2 must have the same number of features, got X1 6 x 4 and X2 3 x 5"),
        (dict(x1=x[:, :0]), "limit::kernel: X must have at least one row and one feature, got 6 x 0"),
        (dict(x1=x[0]), r"widenn.kernel: x1 must be a 2-D array, got 1-D with shape \(4,\)"),
        (dict(x1=x.reshape(2, 3, 4)), "widenn.kernel: x1 must be a 2-D array, got 3-D"),
        (dict(x1=x.astype(complex)), "widenn.kernel: x1 must hold real numbers .* got dtype complex128"),
        (dict(x1=np.array([["a", "b"]])), "widenn.kernel: x1 must hold real numbers"),
        (dict(x1=None), "widenn.kernel: x1 is None"),
        (dict(x1=x, depth=0), r"limit::kernel: depth \(number of hidden layers\) must be >= 1, got 0"),
        (dict(x1=x, weight_var=-1.0), "limit::kernel: weight_var and bias_var must be finite and >= 0, got -1 and 0.1"),
        (dict(x1=x, act="relu6"), "widenn.kernel: act: unknown activation 'relu6' \\(choose from relu, "),
        (dict(x1=x, param="mup"), "widenn.kernel: param must be ntk or standard, got 'mup'"),
        (dict(x1=x, param="standard"), "widenn.kernel: param='standard': its NTK grows with the hidden width; give width=N"),
        (dict(x1=x, get="cov"), "widenn.kernel: get must name 'nngp' or 'ntk', got 'cov'"),
        (dict(x1=x, get=()), "widenn.kernel: get is empty"),
        (dict(x1=x, arch="conv(3)"), r"parse_spec: token 'conv\(' at column 1"),
        (dict(x1=x, arch="dense", act="erf"), "widenn.kernel: act and depth do not apply with arch"),
        (dict(x1=x, arch="dense", param="mup"), "widenn.kernel: arch computes neural-tangents' two parametrizations"),
        (dict(x1=x, arch="dense", param="standard"), "widenn.kernel: param='standard': its NTK grows with the hidden width"),
        (dict(x1=x, arch="dense", width=64), "widenn.kernel: width applies to param='standard' only"),
        (dict(x1=x, arch="conv:3,relu,flatten"), "conv"),
        (dict(x1=np.zeros((2, 3, 3)), arch="conv:3,relu,flatten"), "must be N x H x W x C images or N x d vectors, got a 3-D array"),
        (dict(x1=np.ones((2, 2, 2, 1)), arch="conv:3:valid,relu,flatten"), "conv"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            widenn.kernel(**kwargs)


def test_nan_and_inf_raise_with_their_position(rng):
    x = rng.normal(size=(5, 3))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"limit::kernel: X has a non-finite value \(nan\) at flat index 7"):
        widenn.kernel(x)
    y = rng.normal(size=(4, 3))
    y[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"limit::kernel: X2 has a non-finite value \(inf\) at flat index 0"):
        widenn.kernel(rng.normal(size=(2, 3)), y)
    with pytest.raises(ValueError, match=r"non-finite value \(nan\)"):
        widenn.kernel(x.astype(np.float32))


def test_overflow_is_a_runtime_error(rng):
    x = rng.normal(size=(3, 2)) * 1e200
    with pytest.raises(RuntimeError, match="limit::kernel: row 0 of X has a squared norm / d that overflows double"):
        widenn.kernel(x)


def test_predict_errors(rng):
    k, y = np.eye(4), rng.normal(size=(4, 2))
    with pytest.raises(ValueError, match="limit::gradient_descent_mse: y_train must be 4 x \\*, got 3 x 2"):
        widenn.predict.gradient_descent_mse(k, y[:3])
    with pytest.raises(ValueError, match="time must be >= 0"):
        widenn.predict.gradient_descent_mse(k, y, t=-1.0)
    with pytest.raises(ValueError, match="lr must be positive and finite"):
        widenn.predict.gradient_descent_mse(k, y, learning_rate=0.0)
    with pytest.raises(ValueError, match=r"limit::gp_posterior: K_\*D must be \* x 4, got 2 x 3"):
        widenn.predict.gp_inference(k, y, np.ones((2, 3)))
    bad = np.ones((4, 4))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite value"):
        widenn.predict.gradient_descent_mse(bad, y)
    with pytest.raises(RuntimeError):  # not positive definite: the Cholesky factorisation breaks down
        widenn.predict.gp_inference(-np.eye(4), y, np.ones((2, 4)))
