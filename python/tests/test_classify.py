"""widenn.classify against `widenn classify --json`."""
import json
from fractions import Fraction

import pytest

import widenn

PRESETS = {"sp": 0, "sp-lr": 0, "ntk": 0, "mf": 1, "mup": 0, "mup-table3": 0, "mup-package": 0}  # name: max depth (0: any)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_equals_the_command(cli, preset):
    for depth in (1, 2, 3, 5):
        if PRESETS[preset] and depth > PRESETS[preset]:
            continue
        expected = json.loads(cli("classify", "--preset", preset, "--depth", depth, "--json"))
        assert widenn.classify(preset, depth=depth) == expected


def test_explicit_exponents_equal_the_command(cli):
    expected = json.loads(cli("classify", "--a-in", "-1/2", "--b-in", "1/2", "--a-hidden", "0", "--b-hidden", "1/2",
                              "--a-out", "1/2", "--b-out", "1/2", "--c", "0", "--depth", "3", "--json"))
    got = widenn.classify(a=(Fraction(-1, 2), 0, "1/2"), b="1/2", c=0, depth=3)
    assert got == expected
    # a preset's exponents overridden, as the command does
    expected = json.loads(cli("classify", "--preset", "mup", "--c", "1", "--json"))
    assert widenn.classify("mup", c=1) == expected


def test_known_facts():
    assert widenn.classify("mup", depth=3)["regime"] == "feature_learning"
    assert widenn.classify("ntk", depth=3)["regime"] == "kernel"
    assert widenn.classify("sp", depth=2)["stable"] is False


def test_bad_exponents_and_names_raise_value_error():
    with pytest.raises(ValueError, match="unknown preset 'mu'"):
        widenn.classify("mu")
    with pytest.raises(ValueError, match="cannot read 'x/2' as a rational"):
        widenn.classify(a="x/2")
    with pytest.raises(ValueError, match="not a small fraction"):
        widenn.classify(a=0.1)
    with pytest.raises(ValueError, match="one exponent or three"):
        widenn.classify(b=(0, 1))
    with pytest.raises(ValueError, match=r"depth \(number of hidden layers\) must be in 1\.\.64"):
        widenn.classify("mup", depth=0)
    with pytest.raises(ValueError, match="defined for 1 hidden layer"):
        widenn.classify("mf", depth=2)
    assert widenn.classify(a=0.5) == widenn.classify(a="1/2")
