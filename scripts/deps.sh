#!/usr/bin/env bash
# Installs the Debian packages widenn needs that are missing (run as root on Debian 12).
# Usage: scripts/deps.sh [demo]   ("demo" adds the Fashion-MNIST data set used by the examples)
set -euo pipefail
packages=(build-essential cmake python3 xtensor-dev xtl-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev
          doctest-dev libbenchmark-dev gnuplot-nox zlib1g-dev
          openmpi-bin libopenmpi-dev libscalapack-openmpi-dev  # widenn::distributed and widenn-mpi (optional component)
          clang libclang-rt-14-dev  # clang: the libFuzzer targets of tests/fuzz
          python3-dev pybind11-dev python3-pybind11 python3-numpy python3-pytest)  # the Python module (python/)
if [[ "${1:-}" == "demo" ]]; then packages+=(dataset-fashion-mnist); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "widenn: installing missing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "widenn: run as root (or with sudo) to install packages" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
