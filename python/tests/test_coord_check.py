"""widenn.coord_check: muP flat in width, SP growing (the criterion of tests/nn/coord_check.cpp), and equal to the command."""
import csv
import io

import numpy as np
import pytest

import widenn

# The protocol of tests/nn/coord_check.cpp at widths 256 and 1024 (4x less work): SGD lr 1, d = 16, batch 16, 3 seeds.
CRITERION = dict(widths=[256, 1024], steps=3, seeds=3, lr=1.0, d_in=16, batch=16)


def mean_l1(table, width, step, layer):
    rows = (table["width"] == width) & (table["step"] == step) & (table["layer"] == layer)
    assert rows.sum() == 3  # one per seed
    return table["l1"][rows].mean()


def slope(table, step, layer):
    """d log l1 / d log width between the two widths."""
    return np.log(mean_l1(table, 1024, step, layer) / mean_l1(table, 256, step, layer)) / np.log(4)


def test_mup_is_flat_and_sp_grows():
    mup = widenn.coord_check("mup", **CRITERION)
    assert set(mup) == {"width", "seed", "step", "layer", "l1"}
    assert len(mup["l1"]) == 2 * 3 * 3 * 5 and sorted(set(mup["layer"])) == ["h1", "h2", "out", "x1", "x2"]
    for step in (1, 2, 3):
        for layer in ("h1", "x1", "h2", "x2", "out"):
            if step == 1 and layer == "out":
                assert mean_l1(mup, 256, 1, "out") == 0.0  # the zero-initialised readout
                continue
            assert abs(slope(mup, step, layer)) < np.log(1.2) / np.log(4), (step, layer)
    sp = widenn.coord_check("sp", **CRITERION)
    # measured: h2 0.84, x2 0.17, out 1.37 (muP: all within +-0.06)
    assert slope(sp, 3, "h2") > 0.5 and slope(sp, 3, "out") > 0.5 and slope(sp, 3, "x2") > 0.1
    assert abs(slope(sp, 1, "x2")) < np.log(1.05) / np.log(4)  # the same network as muP at initialisation


def test_equals_the_command(cli, tmp_path):
    cli("coord-check", "--preset", "mup", "--widths", "32,64", "--steps", "2", "--seeds", "2", "--d-in", "8", "--batch", "4",
        "--lr", "0.5", "--csv", tmp_path / "c.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text())))
    table = widenn.coord_check("mup", [32, 64], steps=2, seeds=2, d_in=8, batch=4, lr=0.5)
    assert len(rows) == len(table["l1"])
    for i, row in enumerate(rows):
        assert (int(row["width"]), int(row["seed"]), int(row["step"]), row["layer"]) == (
            table["width"][i], table["seed"][i], table["step"][i], table["layer"][i])
        assert float(row["l1"]) == float(f"{table['l1'][i]:.6g}")  # the CSV holds 6 significant digits


def test_coord_check_errors():
    with pytest.raises(ValueError, match="unknown preset 'xp'"):
        widenn.coord_check("xp", [8])
    with pytest.raises(ValueError, match="widths must not be empty"):
        widenn.coord_check("mup", [])
    with pytest.raises(ValueError, match="preset mf is defined for one hidden layer only"):
        widenn.coord_check("mf", [8], depth=2)
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'adam'"):
        widenn.coord_check("mup", [8], optimizer="lion")
    with pytest.raises(ValueError, match="lr must be positive and finite"):
        widenn.coord_check("mup", [8], lr=float("nan"))
