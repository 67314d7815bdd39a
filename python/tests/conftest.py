"""Shared fixtures of the widenn module's tests: the `widenn` command (for comparisons) and small inputs."""
import os
import subprocess

import numpy as np
import pytest


@pytest.fixture(scope="session")
def cli():
    """Runs `widenn ARGS...` and returns its stdout (the command is given by the WIDENN_CLI environment variable)."""
    path = os.environ.get("WIDENN_CLI")
    if not path:
        pytest.skip("WIDENN_CLI is not set (ctest sets it when the widenn command is built)")

    def run(*args):
        done = subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"widenn {' '.join(map(str, args))} failed: {done.stderr}"
        return done.stdout

    return run


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)
