#!/usr/bin/env bash
# The compile cost of a translation unit that includes only the given headers, in instructions executed by the
# compiler (cachegrind's I refs summed over g++ and its children; cc1plus dominates). Instruction counts do not depend
# on the machine's load, unlike seconds. Needs valgrind.
# Usage: scripts/compile_cost.sh widenn/widenn.hpp [more headers]      e.g. xtensor/xtensor.hpp for the reference
# Prints: <instructions> <headers>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if (($# == 0)); then
  echo "usage: $0 HEADER... (as written in #include <...>)" >&2
  exit 2
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for h in "$@"; do echo "#include <$h>"; done > "$dir/w.cpp"
# the TU must compile: a failing one would be cheap for the wrong reason
g++ -std=c++20 -O2 -I "$root/include" -fsyntax-only "$dir/w.cpp"
refs=$(cd "$dir" && valgrind --tool=cachegrind --cache-sim=no --trace-children=yes --cachegrind-out-file=/dev/null \
         g++ -std=c++20 -O2 -I "$root/include" -c w.cpp -o /dev/null 2>&1 |
       awk '/I *refs/ { gsub(",", "", $NF); s += $NF } END { printf "%.3e", s }')
echo "$refs $*"
