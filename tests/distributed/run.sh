#!/usr/bin/env bash
# The distributed tests (tests/distributed/CMakeLists.txt): widenn-mpi under mpirun.
#   run.sh solve WIDENN_MPI TOOL DATA NP BLOCK KERNEL [options]
#        --kernel KERNEL (ntk or nngp): the predictions equal the single-process solution to 1e-10
#   run.sh pcg WIDENN_MPI TOOL DATA NP BLOCK STORE [options]
#        --solver pcg --store STORE (float or double) --rank 300 --tolerance 1e-10 (the NTK): the predictions equal
#        limit::kernel_ridge's PCG with the same options on one process to 1e-10, and the Cholesky solution to 1e-8
#        (double store) or 1e-5 (float store: the kernel's entries rounded to float)
#   run.sh arch WIDENN_MPI TOOL DATA NP BLOCK TOLERANCE [options]
#        --arch conv:3,relu,avgpool:2,conv:3,relu,gap on 6 x 6 x 2 .npy images (the NTK): the predictions equal the
#        single-process Cholesky solution with limit::spec_kernel_plan to TOLERANCE
#   run.sh fail WIDENN_MPI DATA NP CODE PATTERN SET [options]
#        exit code CODE, and every rank printed the same one line "widenn-mpi regress: ..." matching PATTERN (grep -E);
#        SET names the data set written by mpi_test_tool (none: no data options)
# One thread per process (OpenMP and OpenBLAS), so 4 processes on 2 cores stay a few seconds; every run is bounded by a
# timeout, so a hang fails the test instead of stopping CI.
set -u
mode=${1:?usage: run.sh solve|pcg|arch|fail ...}
shift
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# Shared memory between processes without the ptrace-based single copy, which containers often forbid.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
launcher=(mpirun --oversubscribe)
if [[ $(id -u) -eq 0 ]]; then launcher+=(--allow-run-as-root); fi
data_options() {  # SET DIR
  [[ $1 == none ]] && return
  echo --train-x "$2/$1_train_x.npy" --train-y "$2/$1_train_y.npy" --test-x "$2/$1_test_x.npy" --test-y "$2/$1_test_y.npy"
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case $mode in
solve)
  bin=$1 tool=$2 data=$3 np=$4 block=$5 kernel=$6
  shift 6
  # shellcheck disable=SC2046
  timeout 300 "${launcher[@]}" -np "$np" "$bin" regress $(data_options main "$data") --block "$block" --kernel "$kernel" \
    --predictions "$work/predictions.npy" --no-preprocess "$@" || { echo "FAILED: mpirun -np $np widenn-mpi regress exited with $?"; exit 1; }
  "$tool" compare "$work/predictions.npy" "$data/main_reference_$kernel.npy" 1e-10 || { echo "FAILED: predictions differ from the single-process solution"; exit 1; }
  ;;
pcg)
  bin=$1 tool=$2 data=$3 np=$4 block=$5 store=$6
  shift 6
  # shellcheck disable=SC2046
  timeout 300 "${launcher[@]}" -np "$np" "$bin" regress $(data_options main "$data") --block "$block" --kernel ntk --solver pcg \
    --store "$store" --rank 300 --tolerance 1e-10 --predictions "$work/predictions.npy" --no-preprocess "$@" \
    || { echo "FAILED: mpirun -np $np widenn-mpi regress --solver pcg exited with $?"; exit 1; }
  "$tool" compare "$work/predictions.npy" "$data/main_reference_pcg_$store.npy" 1e-10 || { echo "FAILED: predictions differ from the single-process PCG"; exit 1; }
  tolerance=1e-8
  [[ $store == float ]] && tolerance=1e-5
  "$tool" compare "$work/predictions.npy" "$data/main_reference_ntk.npy" $tolerance || { echo "FAILED: predictions differ from the Cholesky solution"; exit 1; }
  ;;
arch)
  bin=$1 tool=$2 data=$3 np=$4 block=$5 tolerance=$6
  shift 6
  # shellcheck disable=SC2046
  timeout 300 "${launcher[@]}" -np "$np" "$bin" regress $(data_options images "$data") --arch conv:3,relu,avgpool:2,conv:3,relu,gap \
    --block "$block" --kernel ntk --predictions "$work/predictions.npy" --no-preprocess "$@" \
    || { echo "FAILED: mpirun -np $np widenn-mpi regress --arch exited with $?"; exit 1; }
  "$tool" compare "$work/predictions.npy" "$data/images_reference_ntk.npy" "$tolerance" || { echo "FAILED: predictions differ from the single-process solution"; exit 1; }
  ;;
fail)
  bin=$1 data=$2 np=$3 code=$4 pattern=$5 set=$6
  shift 6
  # shellcheck disable=SC2046
  timeout 120 "${launcher[@]}" -np "$np" "$bin" regress $(data_options "$set" "$data") "$@" > "$work/out" 2> "$work/err"
  rc=$?
  cat "$work/out" "$work/err"
  [[ $rc -eq 124 ]] && { echo "FAILED: timed out (a rank hangs)"; exit 1; }
  [[ $rc -eq $code ]] || { echo "FAILED: exit code $rc, expected $code"; exit 1; }
  lines=$(grep '^widenn-mpi regress: ' "$work/err")
  count=$(grep -c '^widenn-mpi regress: ' "$work/err")
  distinct=$(sort -u <<< "$lines" | wc -l)
  [[ $count -eq $np ]] || { echo "FAILED: $count ranks printed the failure, expected all $np"; exit 1; }
  [[ $distinct -eq 1 ]] || { echo "FAILED: the ranks printed $distinct different messages"; exit 1; }
  grep -Eq "$pattern" <<< "$lines" || { echo "FAILED: the message does not match '$pattern'"; exit 1; }
  echo "passed: exit $rc on all $np ranks, one message"
  ;;
*)
  echo "usage: run.sh solve|pcg|arch|fail ..." >&2
  exit 2
  ;;
esac
