#!/usr/bin/env python3
"""The module's overhead: widenn.kernel against `widenn kernel`'s own timing of its kernel phase (file I/O excluded).

Both compute the ReLU NNGP and NTK (depth 3, weight_var 2, bias_var 0.1) of N random points in R^d with themselves;
the runs alternate so that a change in the machine's load affects both.
Usage: PYTHONPATH=build/release/python /usr/bin/python3 python/benchmarks/kernel_overhead.py \
           --cli build/release/examples/widenn [--n 4096] [--d 784] [--reps 5] [--threads 0]
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

import numpy as np

import widenn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="the widenn command")
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--d", type=int, default=784)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads of both (0: the default)")
    args = parser.parse_args()
    x = np.random.default_rng(0).normal(size=(args.n, args.d))
    command, module = [], []
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x)
        for rep in range(args.reps):
            out = subprocess.run([args.cli, "kernel", "--x1", os.path.join(tmp, "x.npy"), "--act", "relu", "--depth", "3",
                                  "--weight-var", "2", "--bias-var", "0.1", "--threads", str(args.threads),
                                  "--nngp", os.path.join(tmp, "k.npy"), "--ntk", os.path.join(tmp, "t.npy")],
                                 capture_output=True, text=True, check=True).stdout
            command.append(float(re.search(r"kernels ([0-9.e+-]+) s", out).group(1)))
            start = time.perf_counter()
            k = widenn.kernel(x, act="relu", depth=3, weight_var=2.0, bias_var=0.1, threads=args.threads)
            module.append(time.perf_counter() - start)
            print(f"rep {rep}: widenn kernel {command[-1]:.3f} s, widenn.kernel {module[-1]:.3f} s", flush=True)
        reference = np.load(os.path.join(tmp, "k.npy")), np.load(os.path.join(tmp, "t.npy"))
    for name, f in (("min", min), ("median", lambda v: sorted(v)[len(v) // 2])):
        print(f"{name}: widenn kernel {f(command):.3f} s, widenn.kernel {f(module):.3f} s, ratio {f(module) / f(command):.3f}")
    paired = sorted(m / c for m, c in zip(module, command))
    print(f"median of the paired ratios (module / command, run next to each other): {paired[len(paired) // 2]:.3f}")
    for key, ref in zip(("nngp", "ntk"), reference):
        print(f"{key}: largest difference from the command's output {np.max(np.abs(k[key] - ref)) / np.max(np.abs(ref)):.1e} "
              f"(relative to the largest entry)")


if __name__ == "__main__":
    main()
