#!/usr/bin/env bash
# The `widenn` command on bad input: every case must end with one clear line and a non-zero exit code (2 for bad
# input, 1 for a numerical failure), never a crash, a hang, a silent success or a partial output file.
# Usage: tests/cli/bad_input.sh PATH/TO/widenn
set -u
widenn=${1:?usage: bad_input.sh PATH/TO/widenn}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
passed=0 failed=0

# expect CODE PATTERN -- COMMAND...: the command exits with CODE within 60 s and its stderr matches PATTERN.
expect() {
  local code=$1 pattern=$2
  shift 3
  local err rc
  err=$(timeout 60 "$widenn" "$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -eq $code ]] && grep -qE -- "$pattern" <<<"$err" && [[ $(grep -c . <<<"$err") -le 2 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: widenn $* -> exit $rc (expected $code), stderr: $err (expected /$pattern/)"
  fi
}
check() {  # check DESCRIPTION CONDITION...
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what"; fi
}

python3 - <<'PY'
import struct
def npy(dict_text, data=b"", major=1):
    fixed = 10 if major == 1 else 12
    header = dict_text
    total = (fixed + len(header) + 1 + 63) // 64 * 64
    header = header + " " * (total - fixed - len(header) - 1) + "\n"
    length = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + length + header.encode() + data
def f8(shape):
    return "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % ", ".join(map(str, shape))
open("x.npy", "wb").write(npy(f8([6, 3]), struct.pack("<18d", *[0.1 * (i % 7) - 0.3 for i in range(18)])))
open("x4.npy", "wb").write(npy(f8([6, 4]), struct.pack("<24d", *[0.1 * i for i in range(24)])))
open("y.npy", "wb").write(npy(f8([6, 1]), struct.pack("<6d", *[1, -1, 1, -1, 1, -1])))
open("crafted.npy", "wb").write(npy(f8([2**62 + 1, 4]), b"\0" * 32))
full = npy(f8([6, 3]), b"\0" * 144)
open("truncated.npy", "wb").write(full[:-8])
open("header_only.npy", "wb").write(full[:128])
open("empty_header.npy", "wb").write(b"\x93NUMPY\x01\x00\x00\x00")
open("v2_short.npy", "wb").write(b"\x93NUMPY\x02\x00" + struct.pack("<I", 1300000000) + b"x")
open("rank3.npy", "wb").write(npy(f8([2, 3, 1]), b"\0" * 48))
open("img.npy", "wb").write(npy(f8([2, 4, 4, 1]), struct.pack("<32d", *[0.1 * (i % 5) - 0.2 for i in range(32)])))
open("img2c.npy", "wb").write(npy(f8([2, 4, 4, 2]), struct.pack("<64d", *[0.1 * (i % 5) - 0.2 for i in range(64)])))
open("huge.npy", "wb").write(npy(f8([6, 3]), struct.pack("<18d", *[1e155] * 18)))
open("nan.npy", "wb").write(npy(f8([6, 3]), struct.pack("<18d", *([float("nan")] + [0.5] * 17))))
open("labels.npy", "wb").write(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }", struct.pack("<6q", 0, 1, 0, 1, 2, 1)))
open("onehot_bad.npy", "wb").write(npy(f8([6, 3]), struct.pack("<18d", *([1, 1, 0] + [1, 0, 0] * 5))))
open("tall.npy", "wb").write(npy(f8([2000000, 1]), b"\0" * 16000000))
open("f2.npy", "wb").write(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (6, 3), }", b"\0" * 36))
open("text.npy", "w").write("not an array\n")
# A small IDX data set in Fashion-MNIST's layout (50 train and 20 test images, 28 x 28), and copies with a label of 10
# and with every image equal (a singular kernel).
import os, random
random.seed(1)
def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(payload)
def dataset(name, labels_train, labels_test, same=False):
    os.makedirs(name, exist_ok=True)
    for split, labels in (("train", labels_train), ("t10k", labels_test)):
        pixels = [0 if same else random.randrange(256) for _ in range(len(labels) * 784)]
        open(f"{name}/{split}-images-idx3-ubyte", "wb").write(idx([len(labels), 28, 28], pixels))
        open(f"{name}/{split}-labels-idx1-ubyte", "wb").write(idx([len(labels)], labels))
dataset("small", [i % 10 for i in range(50)], [i % 10 for i in range(20)])
dataset("label10", [i % 10 for i in range(50)], [10] + [i % 10 for i in range(19)])
dataset("same", [i % 10 for i in range(50)], [i % 10 for i in range(20)], same=True)
PY

# .npy inputs that crashed, were accepted with zeros, or allocated gigabytes.
expect 2 "multiply to more than 2\^64" -- kernel --x1 crafted.npy --nngp k.npy
expect 2 "multiply to more than 2\^64" -- mup-limit --x crafted.npy --y y.npy
expect 2 "is truncated" -- kernel --x1 truncated.npy --nngp k.npy
expect 2 "the file has 0" -- kernel --x1 header_only.npy --nngp k.npy
expect 2 "empty .npy header" -- kernel --x1 empty_header.npy --nngp k.npy
expect 2 "claims 1300000000 bytes but the file has 13" -- kernel --x1 v2_short.npy --nngp k.npy
expect 2 "2-D array" -- kernel --x1 rank3.npy --nngp k.npy
expect 2 "float16" -- kernel --x1 f2.npy --nngp k.npy
expect 2 "not a .npy file" -- kernel --x1 text.npy --nngp k.npy
expect 2 "cannot open" -- kernel --x1 missing.npy --nngp k.npy
expect 2 "same number of features" -- kernel --x1 x.npy --x2 x4.npy --nngp k.npy
expect 2 "non-finite|not finite|NaN|nan" -- kernel --x1 nan.npy --nngp k.npy
# --arch SPEC: a token that does not parse, an image smaller than a filter or pooling window, channel counts that
# disagree, a 2-D input for a conv SPEC, a SPEC without its image readout, flags that do not apply.
expect 2 "token 'rleu' at column 8 is not a layer: expected conv:K" -- kernel --arch conv:3,rleu,flatten --x1 img.npy --nngp k.npy
expect 2 "padding 'full' is not one of same, valid, circular" -- kernel --arch conv:3:full,relu,flatten --x1 img.npy --nngp k.npy
expect 2 "res\( opened at column 8 is not closed" -- kernel --arch conv:3,res\(relu,conv:3 --x1 img.npy --nngp k.npy
expect 2 "'conv:5:valid' \(column 1\) needs an image of at least 5 x 5 pixels" -- kernel --arch conv:5:valid,relu,flatten --x1 img.npy --nngp k.npy
expect 2 "'avgpool:8' \(column 13\) pools 8 x 8 windows, but its input is only 4 x 4" -- kernel --arch conv:3,relu,avgpool:8,gap --x1 img.npy --nngp k.npy
expect 2 "same shape per input, got 4 x 4 x 1 and 4 x 4 x 2 \(the channel counts differ\)" -- kernel --arch conv:3,relu,flatten --x1 img.npy --x2 img2c.npy --nngp k.npy
expect 2 "works on images, but the input is 2-D" -- kernel --arch conv:3,relu,flatten --x1 x.npy --nngp k.npy
expect 2 "must end with flatten or gap" -- kernel --arch conv:3,relu --x1 img.npy --nngp k.npy
expect 2 "must hold images N x H x W x C" -- kernel --arch conv:3,relu,flatten --x1 rank3.npy --nngp k.npy
expect 2 "--depth does not apply with --arch" -- kernel --arch conv:3,relu,flatten --depth 2 --x1 img.npy --nngp k.npy
expect 2 "--param ntk or --param standard, got 'mup'" -- kernel --arch conv:3,relu,flatten --param mup --x1 img.npy --nngp k.npy
expect 2 "--param standard: its NTK grows with the hidden width; give --width N" -- kernel --arch conv:3,relu,flatten --param standard --x1 img.npy --ntk k.npy
expect 2 "--width applies to --param standard only" -- kernel --arch conv:3,relu,flatten --width 64 --x1 img.npy --nngp k.npy
check "no output after failed runs" test ! -e k.npy
# Memory: a 200,000 x 200,000 kernel from a 1.6 MB input is refused before loading, with the size it needs.
expect 2 "the streamed 2000000 x 2000000 kernel needs 32 TB of disk in '.', but only .* is free" -- kernel --x1 tall.npy --nngp k.npy
expect 2 "the inputs and a block of 2000000 kernel rows needs 32 TB of memory" -- kernel --x1 tall.npy --nngp k.npy --block-rows 3000000
# Outputs: aliasing, unwritable places, a full device.
cp x.npy x_copy.npy
expect 2 "would destroy the input" -- kernel --x1 x.npy --nngp x.npy
check "the input survives an aliasing output" cmp -s x.npy x_copy.npy
expect 2 "name the same file" -- kernel --x1 x.npy --nngp k.npy --ntk ./k.npy
expect 2 "cannot create a file in" -- kernel --x1 x.npy --nngp no/such/dir/k.npy
expect 2 "is a directory" -- kernel --x1 x.npy --nngp .
expect 2 "No space left on device" -- kernel --x1 x.npy --nngp /dev/full
expect 2 "No space left on device" -- mup-limit --x x.npy --y y.npy --steps 2 --csv /dev/full
expect 2 "would destroy the input" -- mup-limit --x x.npy --y y.npy --predict x.npy --out y.npy
# A failed run leaves the previous output intact and no partial file.
"$widenn" kernel --x1 x.npy --nngp k.npy > /dev/null 2>&1
cp k.npy k_before.npy
expect 1 "overflows double" -- kernel --x1 huge.npy --nngp k.npy
check "the previous output is intact after a failed run" cmp -s k.npy k_before.npy
check "no partial files are left" test -z "$(ls -A | grep partial)"
# A really full disk (a 64 KiB tmpfs, where this machine lets us mount one): a 200 x 200 kernel (320 KB) does not fit.
mkdir tiny_disk
if mount -t tmpfs  -o size=64k tmpfs tiny_disk 2> /dev/null; then
  python3 -c "
import struct
h = \"{'descr': '<f8', 'fortran_order': False, 'shape': (200, 3), }\"
h += ' ' * (118 - len(h)) + '\\n'
open('x200.npy', 'wb').write(b'\\x93NUMPY\\x01\\x00' + struct.pack('<H', len(h)) + h.encode() + struct.pack('<600d', *[0.01 * i for i in range(600)]))"
  echo "previous" > tiny_disk/k.npy
  expect 2 "No space left on device" -- kernel --x1 x200.npy --nngp tiny_disk/k.npy
  check "a full disk leaves the previous file intact" test "$(cat tiny_disk/k.npy)" = previous
  check "a full disk leaves no partial file" test "$(ls -A tiny_disk)" = k.npy
  umount tiny_disk
else
  echo "note: cannot mount a small tmpfs here; the full-disk case is covered by /dev/full above"
fi

# Integer options never narrow or wrap; counts are positive.
expect 2 "must be an integer in \[1, 10000\], got 4294967299" -- kernel --x1 x.npy --nngp k.npy --depth 4294967299
expect 2 "--width must be an integer in \[0," -- kernel --x1 x.npy --nngp k.npy --width -1
expect 2 "--repeats must be an integer in \[1," -- equivariance --repeats -1 --out eq
expect 2 "--n-train must be an integer in \[1," -- regress --n-train 0
expect 2 "expects a finite number" -- kernel --x1 x.npy --nngp k.npy --weight-var nan
expect 2 "--steps expects an integer" -- mup-limit --x x.npy --y y.npy --steps 1e3
expect 2 "must be an integer in" -- coord-check --widths 64,-128
expect 2 "unknown option --dpeth" -- kernel --x1 x.npy --nngp k.npy --dpeth 2
# Data sets smaller than a command expects, labels out of range, a singular kernel: used as they are or refused clearly.
WIDENN_FASHION_MNIST_DIR=small timeout 120 "$widenn" tour > tour.out 2>&1
check "tour runs on a data set with fewer images than it asks for" grep -q "kernel regression on Fashion-MNIST: 50 train, 20 test" tour.out
WIDENN_FASHION_MNIST_DIR=label10 expect 2 "label 10 at position 0; Fashion-MNIST's labels are 0..9" -- tour
WIDENN_FASHION_MNIST_DIR=same expect 2 "--diag-reg 0 with a singular kernel: train points 0 and 1 are identical" -- regress --diag-reg 0 --n-train 50 --n-test 20
# Kernel regression at scale: solver flags, the preconditioner rank, memory, .npy labels.
WIDENN_FASHION_MNIST_DIR=small expect 2 "preconditioner rank 60 is larger than the number of training points N = 50" -- regress --solver pcg --rank 60 --n-test 20
expect 2 "preconditioner rank 300 is larger than the number of training points N = 200" -- regress --solver pcg --rank 300 --n-train 200
expect 2 "the Cholesky solver needs the 200000 x 200000 kernel in double, 320 GB" -- regress --solver cholesky --n-train 200000
expect 2 "the pcg solver needs" -- regress --solver pcg --n-train 2000000
expect 2 "--solver must be auto, cholesky or pcg, got 'qr'" -- regress --solver qr
expect 2 "--store must be float or double, got 'half'" -- regress --solver pcg --store half
expect 2 "--rank must be an integer in \[0," -- regress --rank -1
expect 2 "pcg solver needs a positive ridge" -- regress --solver pcg --diag-reg 0
expect 2 "--solver pcg solves the converged" -- regress --solver pcg --time 5
expect 2 "--tolerance must be in" -- regress --solver pcg --tolerance 0
expect 2 "go together: give all four" -- regress --train-x x.npy --train-y labels.npy
expect 2 "labels must be integers in \[0, 1e6\) or one-hot rows; row 1 holds -1" -- regress --train-x x.npy --train-y y.npy --test-x x.npy --test-y y.npy
expect 2 "one-hot rows must hold exactly one 1; row 0 holds 2" -- regress --train-x x.npy --train-y labels.npy --test-x x.npy --test-y onehot_bad.npy
expect 2 "--train-x has 3 features per row but --test-x has 4" -- regress --train-x x.npy --train-y labels.npy --test-x x4.npy --test-y labels.npy
expect 2 "non-finite" -- regress --train-x nan.npy --train-y labels.npy --test-x x.npy --test-y labels.npy
"$widenn" regress --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy --solver pcg --rank 4 > npy.out 2>&1
check "regress runs on .npy features and integer labels with the pcg solver" grep -q "accuracy .* / 6)" npy.out
WIDENN_FASHION_MNIST_DIR=small "$widenn" regress --solver pcg --rank 20 --n-test 20 > pcg.out 2>&1
check "regress --solver pcg reports its iterations and the memory peak" grep -q "pcg: .* iterations, true relative residual" pcg.out
check "regress reports the memory peak" grep -q "memory peak" pcg.out
# --arch SPEC in regress and coord-check: bad SPECs, flags that do not apply, images that do not fit, --downsample.
python3 - <<'PY'
import struct
def npy(shape, values, descr="<f8"):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    total = (10 + len(header) + 1 + 63) // 64 * 64
    header = header + " " * (total - 10 - len(header) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack("<%d%s" % (len(values), "q" if descr == "<i8" else "d"), *values)
open("img_labels.npy", "wb").write(npy([2], [0, 1], "<i8"))
open("img6.npy", "wb").write(npy([6, 4, 4, 1], [0.1 * ((i * 7) % 11) - 0.5 for i in range(96)]))
PY
WIDENN_FASHION_MNIST_DIR=small expect 2 "token 'rleu' at column 8 is not a layer" -- regress --arch conv:3,rleu,flatten --n-test 20
expect 2 "--depth does not apply with --arch" -- regress --arch conv:3,relu,flatten --depth 2
expect 2 "--act does not apply with --arch" -- regress --arch conv:3,relu,flatten --act tanh
expect 2 "--width applies to --param standard only" -- regress --arch conv:3,relu,flatten --width 100
expect 2 "--param ntk or --param standard, got 'mup'" -- regress --arch conv:3,relu,flatten --param mup
WIDENN_FASHION_MNIST_DIR=small expect 2 "--param standard needs --width N for its NTK" -- regress --arch conv:3,relu,flatten --param standard --n-test 20
expect 2 "'conv:5:valid' \(column 1\) needs an image of at least 5 x 5 pixels" -- regress --arch conv:5:valid,relu,flatten --train-x img.npy --train-y img_labels.npy --test-x img.npy --test-y img_labels.npy
expect 2 "'avgpool:8' \(column 13\) pools 8 x 8 windows, but its input is only 4 x 4" -- regress --arch conv:3,relu,avgpool:8,gap --train-x img.npy --train-y img_labels.npy --test-x img.npy --test-y img_labels.npy
expect 2 "--train-x has inputs of 4 x 4 x 1 but --test-x has 4 x 4 x 2" -- regress --arch conv:3,relu,flatten --train-x img.npy --train-y img_labels.npy --test-x img2c.npy --test-y img_labels.npy
expect 2 "works on images, but the input is 2-D" -- regress --arch conv:3,relu,flatten --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy
expect 2 "images N x H x W x C need --arch SPEC" -- regress --train-x img.npy --train-y img_labels.npy --test-x img.npy --test-y img_labels.npy
expect 2 "--downsample 2 averages pixel blocks of images, but the data are feature vectors" -- regress --arch dense,relu --downsample 2 --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy
WIDENN_FASHION_MNIST_DIR=small expect 2 "--downsample 3 needs images whose height and width it divides, got 28 x 28" -- regress --arch conv:3,relu,flatten --downsample 3 --n-test 20
expect 2 "--downsample must be an integer in \[1, 64\]" -- regress --arch conv:3,relu,flatten --downsample 0
expect 2 "conv:K with K in 1..7, got K = 9" -- coord-check --arch conv:9,relu,gap
expect 2 "avgpool:K with K in 1..4" -- coord-check --arch conv:3,relu,avgpool:5,gap --image 10,10,1
expect 2 "--depth does not apply with --arch" -- coord-check --arch conv:3,relu,gap --depth 2
expect 2 "'avgpool:8' \(column 13\) pools 8 x 8 windows, but its input is only 4 x 4" -- coord-check --arch conv:3,relu,avgpool:8,gap --image 4,4,1
expect 2 "--image is for SPECs with image layers" -- coord-check --arch dense,relu --image 4,4,1
expect 2 "--d-in does not apply to a SPEC with image layers" -- coord-check --arch conv:3,relu,gap --d-in 10
"$widenn" coord-check --arch dense,tanh,dense,tanh --d-in 7 --widths 16,32 --seeds 1 --steps 2 > cc_dense.out 2>/dev/null
check "coord-check --arch on a dense-only SPEC takes --d-in and prints every layer" grep -q "^  tanh4 " cc_dense.out
expect 2 "--image must be H,W,C \(three sizes\)" -- coord-check --arch conv:3,relu,gap --image 4,4
expect 2 "--image gives the input of an --arch SPEC" -- coord-check --image 4,4,1
expect 2 "must end with flatten or gap" -- coord-check --arch conv:3,relu
expect 2 "defined for 1 hidden layer\(s\) only, the SPEC has 2" -- coord-check --arch conv:3,relu,conv:3,relu,gap --preset mf
# The SPEC forms run: regress on images (Cholesky and PCG) and on .npy images; a dense-only SPEC is the MLP form.
WIDENN_FASHION_MNIST_DIR=small "$widenn" regress --arch conv:3,relu,conv:3,relu,flatten --n-test 20 > arch.out 2>&1
check "regress --arch prints the accuracy on 28 x 28 x 1 images" grep -q "on 28x28x1 images.*" arch.out
check "regress --arch prints the accuracy" grep -q "accuracy .* / 20)" arch.out
WIDENN_FASHION_MNIST_DIR=small "$widenn" regress --arch conv:3,relu,avgpool:2,conv:3,relu,gap --downsample 4 --solver pcg --rank 20 --n-test 20 > arch_pcg.out 2>&1
check "regress --arch --downsample 4 --solver pcg runs on 7 x 7 images" grep -q "on 7x7x1 images" arch_pcg.out
check "regress --arch --solver pcg reports its iterations" grep -q "pcg: .* iterations, true relative residual" arch_pcg.out
"$widenn" regress --arch conv:3,relu,avgpool:2,gap --train-x img6.npy --train-y labels.npy --test-x img6.npy --test-y labels.npy > arch_npy.out 2>&1
check "regress --arch runs on .npy images N x H x W x C" grep -q "accuracy .* / 6)" arch_npy.out
"$widenn" regress --arch dense,relu,dense,relu --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy > arch_dense.out 2>&1
"$widenn" regress --depth 2 --act relu --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy > mlp_dense.out 2>&1
check "regress --arch dense,relu,dense,relu gives the MLP form's accuracy" test "$(grep accuracy arch_dense.out)" = "$(grep accuracy mlp_dense.out)"
"$widenn" regress --arch dense,relu,dense,relu --param standard --width 64 --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy > arch_sp.out 2>&1
"$widenn" regress --depth 2 --act relu --param standard --width 64 --train-x x.npy --train-y labels.npy --test-x x.npy --test-y labels.npy > mlp_sp.out 2>&1
check "regress --arch --param standard runs and gives the MLP form's accuracy" test -n "$(grep accuracy arch_sp.out)" -a "$(grep accuracy arch_sp.out)" = "$(grep accuracy mlp_sp.out)"
check "regress --arch --param standard says so" grep -q "standard parametrization" arch_sp.out
# coord-check --arch: a muP CNN stays flat in width, SP's readout grows (docs/architectures_finite.md's CNN, lr 0.1)
cc() { "$widenn" coord-check --arch conv:3,relu,avgpool:2,conv:3,relu,gap --image 6,6,3 --widths 64,256 --seeds 2 --batch 8 --base-width 16 --preset "$1" 2>/dev/null; }
ratio() { awk '/^t = 3/ { t3 = 1 } t3 && $1 == "out" { print $3 / $2 }'; }
mup_ratio=$(cc mup | ratio) sp_ratio=$(cc sp | ratio)
check "coord-check --arch: muP's readout within 10% from width 64 to 256 at t = 3 (got $mup_ratio)" awk -v r="$mup_ratio" 'BEGIN { exit !(r > 0.9 && r < 1.1) }'
check "coord-check --arch: SP's readout grows > 2x from width 64 to 256 at t = 3 (got $sp_ratio)" awk -v r="$sp_ratio" 'BEGIN { exit !(r > 2) }'
"$widenn" info > info.out 2>&1
check "info names the BLAS and the SIMD level" grep -q "SIMD of widenn's own kernels" info.out
# Rational exponents whose arithmetic overflows 64 bits: an error, not a negative denominator.
expect 2 "overflows 64 bits" -- classify --a-in 1/99999989 --b-in 1/99999971 --a-hidden 1/99999959 --b-hidden 1/99999941 --a-out 1/99999931 --b-out 1/99999929 --c 1/99999923

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
