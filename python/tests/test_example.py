"""examples/python/kernel_regression.py runs and learns (the trained limit beats predicting zero)."""
import os
import pathlib
import re
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "kernel_regression.py"


def test_kernel_regression_example_runs_and_learns():
    done = subprocess.run([sys.executable, str(EXAMPLE), "--train", "128", "--test", "64"], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    mse = dict((name, float(value)) for name, value in re.findall(r"^(\w[\w ,]*?):.*test MSE ([0-9.]+)", done.stdout, re.M))
    assert mse["NTK, trained to convergence"] < 0.7 * mse["predicting zero"], done.stdout
    assert mse["NNGP posterior mean"] < 0.7 * mse["predicting zero"], done.stdout
