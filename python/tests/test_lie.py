"""widenn.lie: exp = expm(hat) for every group, log and chart invert exp and from_chart, membership is checked."""
import numpy as np
import pytest

import widenn


def expm(a):
    """Matrix exponential by scaling and squaring of a Taylor series (accurate to ~1e-15 for the small norms here)."""
    squarings = max(0, int(np.ceil(np.log2(max(np.linalg.norm(a, 1), 1e-300)))) + 1)
    b = a / 2.0 ** squarings
    term, out = np.eye(len(a)), np.eye(len(a))
    for k in range(1, 20):
        term = term @ b / k
        out = out + term
    for _ in range(squarings):
        out = out @ out
    return out


@pytest.mark.parametrize("group", widenn.lie.groups)
def test_exp_is_expm_of_hat_and_log_inverts_it(rng, group):
    dof, m = widenn.lie.dof(group), widenn.lie.matrix_size(group)
    v = 0.4 * rng.normal(size=(6, dof))
    g = widenn.lie.exp(group, v)
    assert g.shape == (6, m, m)
    hats = widenn.lie.hat(group, v)
    for i in range(6):
        assert np.allclose(g[i], expm(hats[i]), rtol=0, atol=1e-12), group
    assert np.allclose(widenn.lie.log(group, g), v, rtol=0, atol=1e-11)
    assert np.allclose(widenn.lie.exp(group, v[2]), g[2], rtol=0, atol=0)  # one element: shape (dof,) -> (m, m)
    z = 0.4 * rng.normal(size=(6, dof))
    assert np.allclose(widenn.lie.chart(group, widenn.lie.from_chart(group, z)), z, rtol=0, atol=1e-11)


def test_known_elements():
    rotation = widenn.lie.exp("so2", np.array([0.3]))
    angle = np.arctan2(rotation[1, 0], rotation[0, 0])
    assert rotation.shape == (2, 2) and np.allclose(rotation, [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    assert np.isclose(np.linalg.det(widenn.lie.exp("sl3", np.full(8, 0.2))), 1.0, atol=1e-12)
    spd = widenn.lie.exp("spd3", np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    assert np.allclose(spd, spd.T) and np.all(np.linalg.eigvalsh(spd) > 0)


def test_membership_and_shape_errors(rng):
    with pytest.raises(ValueError, match=r"lie::so<3>::from_matrix: det R = -1, expected \+1"):
        widenn.lie.log("so3", np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(ValueError, match=r"lie::spd::from_matrix|lie::spd"):
        widenn.lie.log("spd2", np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"widenn.lie.exp: v must have shape \(3,\) or \(batch, 3\) for this group, got \(4,\)"):
        widenn.lie.exp("so3", np.zeros(4))
    with pytest.raises(ValueError, match="unknown group 'so4'"):
        widenn.lie.exp("so4", np.zeros(6))
    v = np.zeros((2, 3))
    v[1, 2] = np.nan
    with pytest.raises(ValueError):
        widenn.lie.exp("so3", v)
