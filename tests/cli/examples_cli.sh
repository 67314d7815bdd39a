#!/usr/bin/env bash
# Every example program (examples/*.cpp) speaks the command-line vocabulary of widenn::cli::run_program:
#   --help            exits 0 within seconds, prints its usage on stdout and creates no file (it starts no work);
#   --no-such-flag    exits 2 with one line on stderr and creates no file;
#   a stray argument  exits 2 the same way.
# Usage: tests/cli/examples_cli.sh BUILD/examples   (the directory holding the example programs)
set -u
bin=${1:?usage: examples_cli.sh DIRECTORY_OF_THE_EXAMPLE_PROGRAMS}
bin=$(cd "$bin" && pwd)
sources=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }

# run NAME ARGS...: runs the program in an empty working directory; sets rc, out, err and created (files left behind).
run() {
  local name=$1
  shift
  local work="$dir/work"
  rm -rf "$work" && mkdir "$work"
  (cd "$work" && timeout 30 "$bin/$name" "$@" >"$dir/out" 2>"$dir/err")
  rc=$?
  out=$(cat "$dir/out")
  err=$(cat "$dir/err")
  created=$(ls -A "$work")
}

programs=0
for source in "$sources"/*.cpp; do
  name=$(basename "$source" .cpp)
  programs=$((programs + 1))
  if [[ ! -x "$bin/$name" ]]; then
    fail "$name: no program $bin/$name (build the example targets first)"
    continue
  fi

  for help in --help -h; do
    run "$name" "$help"
    if [[ $rc -eq 0 && -n $out && -z $created ]]; then
      pass
    else
      fail "$name $help -> exit $rc (expected 0), stdout ${#out} bytes (expected usage), files created: '${created}'"
    fi
  done
  # --help wins wherever it stands, even after options that would start work.
  run "$name" --seeds 1 --help
  if [[ $rc -eq 0 && -n $out && -z $created ]]; then pass; else fail "$name --seeds 1 --help -> exit $rc, files created: '${created}'"; fi

  for bad in --no-such-flag stray-argument; do
    run "$name" "$bad"
    lines=$(grep -c . <<<"$err")
    if [[ $rc -eq 2 && $lines -eq 1 && $err == "$name: "* && -z $created ]]; then
      pass
    else
      fail "$name $bad -> exit $rc (expected 2), stderr ($lines lines, expected 1 starting '$name: '): $err; files created: '${created}'"
    fi
  done
done

if [[ $programs -eq 0 ]]; then fail "no example sources found in $sources"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
