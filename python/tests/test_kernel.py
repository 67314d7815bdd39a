"""widenn.kernel against the `widenn kernel` command and against a numpy recursion written here."""
import numpy as np
import pytest

import widenn


def relu_kernels(x1, x2, depth, weight_var, bias_var):
    """NNGP and NTK of a ReLU MLP in the NTK parametrization (arc-cosine kernel; Cho & Saul 2009, Jacot et al. 2018)."""
    d = x1.shape[1]
    k12, k11, k22 = x1 @ x2.T / d, (x1 * x1).sum(1) / d, (x2 * x2).sum(1) / d
    s12, s11, s22 = weight_var * k12 + bias_var, weight_var * k11 + bias_var, weight_var * k22 + bias_var
    theta = s12.copy()
    for _ in range(depth):
        norm = np.sqrt(np.outer(s11, s22))
        cos = np.clip(s12 / norm, -1.0, 1.0)
        if x2 is x1:
            np.fill_diagonal(cos, 1.0)  # exactly parallel (arccos near 1 would lose half the digits)
        angle = np.arccos(cos)
        t, tdot = norm * (np.sin(angle) + (np.pi - angle) * cos) / (2 * np.pi), (np.pi - angle) / (2 * np.pi)
        s12 = weight_var * t + bias_var
        theta = s12 + weight_var * tdot * theta
        s11, s22 = weight_var * s11 / 2 + bias_var, weight_var * s22 / 2 + bias_var
    return s12, theta


def relative_error(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("depth", [1, 3, 10])
@pytest.mark.parametrize("symmetric", [True, False])
def test_relu_equals_the_numpy_recursion(rng, depth, symmetric):
    x1 = rng.normal(size=(70, 12))
    x2 = x1 if symmetric else rng.normal(size=(45, 12)) * 1.7
    k = widenn.kernel(x1, None if symmetric else x2, act="relu", depth=depth, weight_var=2.0, bias_var=0.1)
    nngp, ntk = relu_kernels(x1, x2, depth, 2.0, 0.1)
    assert k["nngp"].shape == nngp.shape and k["ntk"].shape == ntk.shape
    assert relative_error(k["nngp"], nngp) <= 1e-12
    assert relative_error(k["ntk"], ntk) <= 1e-12
    if symmetric:
        assert np.array_equal(k["nngp"], k["nngp"].T) and np.array_equal(k["ntk"], k["ntk"].T)


def command_kernels(cli, tmp_path, x1, x2, act, depth, param, wv, bv, width=0, use_float=False):
    np.save(tmp_path / "x1.npy", x1)
    args = ["kernel", "--x1", tmp_path / "x1.npy", "--act", act, "--depth", depth, "--param", param,
            "--weight-var", wv, "--bias-var", bv, "--nngp", tmp_path / "k.npy", "--ntk", tmp_path / "t.npy"]
    if x2 is not None:
        np.save(tmp_path / "x2.npy", x2)
        args += ["--x2", tmp_path / "x2.npy"]
    if width:
        args += ["--width", width]
    if use_float:
        args += ["--float"]
    cli(*args)
    return np.load(tmp_path / "k.npy"), np.load(tmp_path / "t.npy")


@pytest.mark.parametrize("act", ["relu", "erf", "gelu", "tanh", "sin", "leaky_relu"])
@pytest.mark.parametrize("param", ["ntk", "standard"])
def test_equals_the_command(cli, tmp_path, rng, act, param):
    rows = 8 if act == "tanh" else 40  # tanh's dual is a 2-D Gauss-Hermite quadrature: slow
    x1, x2 = rng.normal(size=(rows, 9)), rng.normal(size=(rows // 2 + 3, 9))
    width = 512 if param == "standard" else 0
    for second in (None, x2):
        nngp, ntk = command_kernels(cli, tmp_path, x1, second, act, 3, param, 1.6, 0.05, width)
        k = widenn.kernel(x1, second, act=act, depth=3, param=param, weight_var=1.6, bias_var=0.05, width=width)
        assert k["nngp"].dtype == np.float64
        assert relative_error(k["nngp"], nngp) <= 1e-12
        assert relative_error(k["ntk"], ntk) <= 1e-12


def test_float32_is_computed_in_float32_like_the_command(cli, tmp_path, rng):
    x = rng.normal(size=(50, 16)).astype(np.float32)
    nngp, ntk = command_kernels(cli, tmp_path, x, None, "erf", 2, "ntk", 2.0, 0.1, use_float=True)
    k = widenn.kernel(x, act="erf", depth=2)
    assert k["nngp"].dtype == np.float32 and k["ntk"].dtype == np.float32
    assert nngp.dtype == np.float32
    assert relative_error(k["nngp"], nngp) <= 1e-6 and relative_error(k["ntk"], ntk) <= 1e-6
    # and close to the double computation, to float precision
    k64 = widenn.kernel(x.astype(np.float64), act="erf", depth=2)
    assert relative_error(k["ntk"].astype(np.float64), k64["ntk"]) <= 1e-5


def test_get_selects_the_kernels(rng):
    x1, x2 = rng.normal(size=(8, 3)), rng.normal(size=(5, 3))
    both = widenn.kernel(x1, x2)
    assert set(both) == {"nngp", "ntk"}
    assert np.array_equal(widenn.kernel(x1, x2, get="ntk"), both["ntk"])
    assert np.array_equal(widenn.kernel(x1, x2, get="nngp"), both["nngp"])
    only = widenn.kernel(x1, x2, get=("nngp",))
    assert list(only) == ["nngp"] and np.array_equal(only["nngp"], both["nngp"])


def test_other_dtypes_and_layouts_are_converted_once(rng):
    x = rng.normal(size=(12, 5))
    reference = widenn.kernel(x, depth=2)
    for converted in (np.asfortranarray(x), x.tolist(), x[:, ::1].copy(order="F"), np.repeat(x, 2, axis=1)[:, ::2]):
        k = widenn.kernel(converted, depth=2)
        assert np.array_equal(k["ntk"], reference["ntk"])
    ints = np.arange(24).reshape(6, 4)
    assert np.array_equal(widenn.kernel(ints, get="ntk"), widenn.kernel(ints.astype(np.float64), get="ntk"))


def command_arch_kernels(cli, tmp_path, x1, x2, arch, wv, bv):
    np.save(tmp_path / "x1.npy", x1)
    args = ["kernel", "--arch", arch, "--x1", tmp_path / "x1.npy", "--weight-var", wv, "--bias-var", bv,
            "--nngp", tmp_path / "k.npy", "--ntk", tmp_path / "t.npy"]
    if x2 is not None:
        np.save(tmp_path / "x2.npy", x2)
        args += ["--x2", tmp_path / "x2.npy"]
    cli(*args)
    return np.load(tmp_path / "k.npy"), np.load(tmp_path / "t.npy")


@pytest.mark.parametrize("arch", ["conv:3,relu,conv:3:circular,erf,flatten", "conv:3,relu,avgpool:2,conv:3,relu,gap",
                                  "conv:3,res(relu,conv:3,relu,conv:3),layernorm,gap"])
def test_arch_equals_the_command(cli, tmp_path, rng, arch):
    x1, x2 = rng.normal(size=(5, 6, 6, 2)), rng.normal(size=(3, 6, 6, 2))
    for second in (None, x2):
        nngp, ntk = command_arch_kernels(cli, tmp_path, x1, second, arch, 1.7, 0.05)
        k = widenn.kernel(x1, second, arch=arch, weight_var=1.7, bias_var=0.05)
        assert k["nngp"].shape == nngp.shape
        assert relative_error(k["nngp"], nngp) <= 1e-12
        assert relative_error(k["ntk"], ntk) <= 1e-12


def test_a_dense_only_arch_is_the_mlp(rng):
    x1, x2 = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    mlp = widenn.kernel(x1, x2, act="relu", depth=3, weight_var=2.0, bias_var=0.1)
    arch = widenn.kernel(x1, x2, arch="dense,relu,dense,relu,dense,relu", weight_var=2.0, bias_var=0.1)
    assert relative_error(arch["nngp"], mlp["nngp"]) <= 1e-12
    assert relative_error(arch["ntk"], mlp["ntk"]) <= 1e-12


def test_a_dense_only_arch_is_the_mlp_in_the_standard_parametrization(rng):
    # The standard parametrization's NTK grows with the width; a SPEC and the MLP must grow alike (and differ from the
    # NTK parametrization's, so the check can fail).
    x1, x2 = rng.normal(size=(6, 5)), rng.normal(size=(3, 5))
    common = dict(weight_var=2.0, bias_var=0.1, param="standard", width=256)
    mlp = widenn.kernel(x1, x2, act="relu", depth=2, **common)
    arch = widenn.kernel(x1, x2, arch="dense,relu,dense,relu", **common)
    ntk_param = widenn.kernel(x1, x2, arch="dense,relu,dense,relu", weight_var=2.0, bias_var=0.1)
    assert relative_error(arch["nngp"], mlp["nngp"]) <= 1e-12
    assert relative_error(arch["ntk"], mlp["ntk"]) <= 1e-12
    assert relative_error(arch["ntk"], ntk_param["ntk"]) > 0.5
