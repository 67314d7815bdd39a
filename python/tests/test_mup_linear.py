"""widenn.MupLinearLimit: the exact muP limit of a linear one-hidden-layer network, and finite nets sampled from it."""
import numpy as np
import pytest

import widenn


def data(rng, batch=12, d_in=5, d_out=3):
    return rng.normal(size=(batch, d_in)), rng.normal(size=(batch, d_out))


def test_initial_coefficients_and_end_to_end_map(rng):
    lim = widenn.MupLinearLimit(5, 3, 0.1, sigma_u=1.2, sigma_v=0.7)
    a, b = lim.coefficients_u, lim.coefficients_v
    assert np.array_equal(a, np.vstack([1.2 * np.eye(5), np.zeros((3, 5))]))  # A_0 = [sigma_u I; 0]
    assert np.array_equal(b, np.hstack([np.zeros((3, 5)), 0.7 * np.eye(3)]))  # B_0 = [0, sigma_v I]
    assert np.array_equal(lim.predict(rng.normal(size=(4, 5))), np.zeros((4, 3)))  # B_0 A_0 = 0
    x, y = data(rng)
    for _ in range(5):
        lim.step(x, y)
    assert lim.steps == 5
    assert np.allclose(lim.predict(x), x @ lim.end_to_end().T, rtol=1e-13, atol=1e-13)


def test_training_fits_a_linear_target(rng):
    lim = widenn.MupLinearLimit(5, 3, 0.3)
    x = rng.normal(size=(12, 5))
    y = x @ rng.normal(size=(5, 3)) / 2
    losses = [lim.step(x, y) for _ in range(60)]
    assert losses[-1] < 0.2 * losses[0]


def test_a_finite_net_with_orthogonal_omega_is_the_limit(rng):
    lim = widenn.MupLinearLimit(5, 3, 0.2, weight_decay=0.01)
    x, y = data(rng)
    n = 64
    omega = np.zeros((n, 8))
    omega[:8] = np.sqrt(n) * np.eye(8)  # Omega^T Omega = n I
    finite = lim.sample_with(omega)
    assert finite.width == n
    for _ in range(10):
        assert finite.step(x, y) == pytest.approx(lim.step(x, y), rel=1e-12)
    assert np.allclose(finite.predict(x), lim.predict(x), rtol=1e-12, atol=1e-12)


def test_wide_gaussian_nets_converge_to_the_limit(rng):
    x, y = data(rng)
    gaps = []
    for width in (256, 4096):
        lim = widenn.MupLinearLimit(5, 3, 0.2)
        finite = lim.sample(width, seed=3)
        for _ in range(10):
            finite.step(x, y)
            lim.step(x, y)
        gaps.append(np.max(np.abs(finite.predict(x) - lim.predict(x))))
    assert gaps[1] < 0.5 * gaps[0]  # O(n^-1/2): 16x the width, about 4x closer


def test_errors(rng):
    with pytest.raises(ValueError, match="mup_linear: d_in and d_out must be positive, got d_in = 0"):
        widenn.MupLinearLimit(0, 3)
    with pytest.raises(ValueError, match="loss must be 'mse' or 'xent'"):
        widenn.MupLinearLimit(2, 3, loss="hinge")
    lim = widenn.MupLinearLimit(5, 3)
    with pytest.raises(ValueError, match=r"mup_linear::step: inputs X \(batch x d_in\) must be \* x 5, got 4 x 4"):
        lim.step(rng.normal(size=(4, 4)), rng.normal(size=(4, 3)))
    x = rng.normal(size=(4, 5))
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        lim.predict(x)
