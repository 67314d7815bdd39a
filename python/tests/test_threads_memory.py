"""No copy of C-contiguous inputs, outputs handed over without a copy, the GIL released, Ctrl-C honoured."""
import _thread
import threading
import time
import tracemalloc

import numpy as np
import pytest

import widenn


def peak_python_allocation(f):
    """The peak of memory allocated through Python (numpy's array buffers included) while f runs."""
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_c_contiguous_inputs_are_not_copied(rng, dtype):
    x = rng.normal(size=(4, 250_000)).astype(dtype)  # 8 MB (4 MB): a copy would show in the peak
    peak = peak_python_allocation(lambda: widenn.kernel(x, get="nngp", depth=1))
    assert peak < x.nbytes / 8
    # the check can fail: a Fortran-ordered input is converted (once), and the conversion shows
    fortran = np.asfortranarray(x)
    assert peak_python_allocation(lambda: widenn.kernel(fortran, get="nngp", depth=1)) >= x.nbytes
    # and so is a float64 input next to a float32 one (both computed in float64)
    assert peak_python_allocation(lambda: widenn.kernel(x.astype(np.float32), x[:2].astype(np.float64), get="nngp",
                                                         depth=1)) >= 2 * x.nbytes / x.itemsize * 8 / 2


def test_outputs_own_the_library_memory(rng):
    k = widenn.kernel(rng.normal(size=(6, 3)))
    for a in k.values():
        assert type(a.base).__name__ == "PyCapsule"  # the C++ matrix itself, not a copy
        assert a.flags.c_contiguous and a.flags.writeable and a.flags.owndata is False
    a = k["ntk"]
    a[0, 0] = 7.0  # writing is safe: the array is the only owner
    assert a[0, 0] == 7.0


def test_a_python_thread_runs_while_a_kernel_is_computed(rng):
    x = rng.normal(size=(900, 32))
    span = {}

    def compute():
        span["start"] = time.perf_counter()
        widenn.kernel(x, act="relu", depth=12, threads=1)
        span["end"] = time.perf_counter()

    worker = threading.Thread(target=compute)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    start, end = span["start"], span["end"]
    inside = [start] + [t for t in ticks if start < t < end] + [end]
    longest_pause = max(b - a for a, b in zip(inside, inside[1:]))
    # With the GIL held for the whole call, this thread would be frozen from start to end (one pause of the whole
    # duration); released, it keeps running (pauses are scheduler time slices).
    assert len(inside) > 1000
    assert longest_pause < 0.5 * (end - start), (longest_pause, end - start)


def test_ctrl_c_interrupts_a_long_kernel(rng):
    x = rng.normal(size=(1500, 16))
    timer = threading.Timer(0.3, _thread.interrupt_main)  # a SIGINT, as Ctrl-C delivers it
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            widenn.kernel(x, act="tanh", depth=1, threads=1)  # Gauss-Hermite duals: minutes of work
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 10.0  # typically about 1 s; the bound leaves room for a loaded machine
