#!/usr/bin/env bash
# `widenn kernel --block-rows R` streams the kernels in blocks of R rows of X1 to the output files (the path taken
# for kernels larger than memory): the files equal the kernels computed whole, for the MLP form and --arch, a kernel
# of X with itself (both triangles computed) and X1 against X2, float64 and float32; a bad --block-rows is refused.
# Usage: tests/cli/kernel_stream.sh PATH/TO/widenn
set -u
widenn=$(realpath "${1:?usage: kernel_stream.sh PATH/TO/widenn}")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
passed=0 failed=0

python3 - <<'PY'
import random, struct
def npy(shape, values):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % "".join("%d, " % s for s in shape)
    total = (10 + len(header) + 1 + 63) // 64 * 64
    header = header + " " * (total - 10 - len(header) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<%dd" % len(values), *values)
random.seed(5)
def save(name, shape):
    n = 1
    for s in shape: n *= s
    open(name, "wb").write(npy(shape, [random.gauss(0, 1) for _ in range(n)]))
save("x.npy", [11, 6]); save("y.npy", [7, 6])
save("img.npy", [9, 5, 4, 2]); save("img2.npy", [6, 5, 4, 2])
PY

# same A B TOL: both .npy files hold the same shape and dtype, and every entry agrees to TOL relative to the largest
same() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + n].decode()
    code = "d" if "'<f8'" in header else "f"
    body = data[10 + n:]
    return header, struct.unpack("<%d%s" % (len(body) // struct.calcsize(code), code), body)
ha, a = load(sys.argv[1])
hb, b = load(sys.argv[2])
scale = max(abs(v) for v in a)
worst = max(abs(u - v) for u, v in zip(a, b)) / scale
if ha != hb or len(a) != len(b) or not worst <= float(sys.argv[3]):
    print("%s vs %s: headers %r / %r, %d / %d values, worst relative difference %g" % (sys.argv[1], sys.argv[2], ha, hb, len(a), len(b), worst))
    sys.exit(1)
PY
}

# compare TOL ARGS...: widenn kernel ARGS whole and with --block-rows 1, 4 and 100 (one block); both kernels agree
compare() {
  local tol=$1
  shift
  if ! "$widenn" kernel "$@" --nngp k.npy --ntk t.npy >/dev/null 2>err.txt; then
    failed=$((failed + 1)); echo "FAILED: widenn kernel $* -> $(cat err.txt)"; return
  fi
  local r
  for r in 1 4 100; do
    if "$widenn" kernel "$@" --block-rows $r --nngp ks.npy --ntk ts.npy >out.txt 2>err.txt &&
       grep -q "streamed in blocks of" out.txt && same k.npy ks.npy "$tol" && same t.npy ts.npy "$tol"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1)); echo "FAILED: widenn kernel $* --block-rows $r: $(cat out.txt err.txt)"
    fi
  done
}

compare 1e-13 --x1 x.npy --act relu --depth 3 --weight-var 2 --bias-var 0.1
compare 1e-13 --x1 x.npy --x2 y.npy --act erf --depth 2 --weight-var 1.5 --bias-var 0.05
compare 1e-13 --x1 x.npy --act relu --depth 2 --param standard --width 64 --weight-var 2 --bias-var 0.1
compare 1e-5 --x1 x.npy --x2 y.npy --act relu --depth 2 --float
compare 1e-13 --arch conv:3,relu,conv:3,relu,flatten --x1 img.npy --weight-var 2 --bias-var 0.01
compare 1e-13 --arch conv:3,relu,avgpool:2,conv:1,erf,gap --x1 img.npy --x2 img2.npy --weight-var 2 --bias-var 0.01
compare 1e-13 --arch conv:3,relu,gap --x1 img.npy --param standard --width 32 --weight-var 2 --bias-var 0.01
compare 1e-5 --arch conv:3,relu,flatten --x1 img.npy --x2 img2.npy --float
compare 1e-13 --arch dense,relu,dense,relu --x1 x.npy --x2 y.npy --weight-var 2

# a refused --block-rows leaves no output file behind
for bad in 0 -3 x; do
  err=$("$widenn" kernel --x1 x.npy --block-rows "$bad" --nngp bad.npy 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq 2 ]] && grep -q -- "--block-rows" <<<"$err" && [[ ! -e bad.npy ]]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAILED: --block-rows $bad -> exit $rc, $err"; fi
done

echo "kernel_stream: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
