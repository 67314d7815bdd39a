#!/usr/bin/env bash
# The main job: installs what is missing, builds the `widenn` command and runs `widenn tour`.
# Extra arguments are passed to widenn (e.g. scripts/demo.sh classify --preset mup).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh" demo
build="$root/build/release"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target widenn_cli
if (($#)); then exec "$build/examples/widenn" "$@"; fi
exec "$build/examples/widenn" tour
