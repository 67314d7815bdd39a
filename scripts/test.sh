#!/usr/bin/env bash
# Builds and runs every test: the doctest suites and compile-failure tests (Release), the same
# suites under AddressSanitizer + UndefinedBehaviorSanitizer, the consumer project against an
# installed widenn, and the packaging checks. Installs missing Debian packages first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/deps.sh"
jobs=$(nproc)
started=$SECONDS
step() { printf '\n=== widenn test: %s (at %d s) ===\n' "$*" $((SECONDS - started)); }

step "Release build (tests, examples, benchmarks; -Wall -Wextra -Wpedantic -Werror)"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$root/build/release" -j "$jobs"
step "Release tests"
ctest --test-dir "$root/build/release" --output-on-failure -j "$jobs"

step "The README's example, compiled and run"
"$root/build/release/examples/quickstart"

step "AddressSanitizer + UndefinedBehaviorSanitizer build of the tests"
# The sanitized build is the largest step of CI (1,160 s of 2,460 on 2 cores at -O2 -g). -g1 (line tables, enough
# for the sanitizers' stack traces): full debug info was about a sixth of the compile time. -O1 (ASan's recommended
# level): test_limit's 18 files build in 175 s instead of 296 s at -O2, and its sanitized run takes 108 s against 102.
cmake -S "$root" -B "$root/build/asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DWIDENN_SANITIZE=ON -DWIDENN_BUILD_EXAMPLES=OFF -DWIDENN_BUILD_BENCHMARKS=OFF > /dev/null
cmake --build "$root/build/asan" -j "$jobs"
step "Sanitized tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build/asan" --output-on-failure -j "$jobs" -E '^compile_fail'

step "Install to a temporary prefix and build the consumer project with find_package(widenn)"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$root/build/release" --prefix "$prefix" > /dev/null
cmake -S "$root/tests/consumer" -B "$root/build/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$root/build/consumer" -j "$jobs"
ctest --test-dir "$root/build/consumer" --output-on-failure

step "Fuzz targets (libFuzzer + ASan + UBSan, clang): ${WIDENN_FUZZ_SECONDS:-30} s each from the seed corpus"
if command -v clang++ > /dev/null; then
  cmake -S "$root/tests/fuzz" -B "$root/build/fuzz" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$root/build/fuzz" -j "$jobs"
  for target in npy idx cli spec; do
    found=$(mktemp -d)  # new inputs go here, not into the repository's seed corpus
    log="$root/build/fuzz/fuzz_$target.log"
    # A fixed seed makes the bounded CI run explore the same inputs every time (WIDENN_FUZZ_SEED=0: a random seed).
    if ! "$root/build/fuzz/fuzz_$target" -seed="${WIDENN_FUZZ_SEED:-1}" -max_total_time="${WIDENN_FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$root/build/fuzz/" "$found" "$root/tests/fuzz/corpus/$target" > "$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz_$target found a failure (the input is saved as crash-* or oom-* or timeout-* in $(pwd))"
      exit 1
    fi
    echo "fuzz_$target: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") executions, no crash, leak, timeout or sanitizer report"
    rm -rf "$found"
  done
else
  echo "clang++ not found: fuzz targets skipped (scripts/deps.sh installs clang)"
fi

step "Packaging checks (vcpkg overlay port, conan recipe)"
bash "$root/packaging/check.sh" "$prefix"
echo
echo "widenn test: all steps passed in $((SECONDS - started)) s"
