#!/usr/bin/env bash
# Peak resident memory per rank, and the time to the first step, against the
# number of samples in a --data file (issue 21): writes h5py files of N
# samples of 784 uint8 bytes (x contiguous, as h5py writes by default; y
# int64; a fixed x_test of 10,000 so that the evaluation costs the same at
# every N), trains mlp at np=2 for STEPS steps with each trainer given, and
# prints one line per (trainer, N). "first step" is start to the end of a
# one-step run, on a fresh data cache (the first run over the file) and
# again (the checks remembered under the file's identity). The files are
# deleted afterwards.
#
#   scripts/memory-vs-n.sh [DIR]        # DIR for the files (default /tmp/memory-vs-n)
#   TRAINERS="after=.build/release/trainer before=/tmp/trainer-before" SIZES="24000 240000 2400000" STEPS=60
#
# The largest file is 1.9 GB: check `df` first. Run it while nothing builds.
set -euo pipefail
dir=${1:-/tmp/memory-vs-n}
trainers=${TRAINERS:-after=.build/release/trainer}
sizes=${SIZES:-24000 240000 2400000}
steps=${STEPS:-60}
mkdir -p "$dir"
df -h "$dir" | tail -1
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2 -x OPENBLAS_NUM_THREADS=1)
export SWIFTDDP_CACHE_DIR="$dir/cache"
printf '%-8s %9s %12s %12s %14s %14s\n' trainer N rank0_MB rank1_MB first_step_s next_start_s
for n in $sizes; do
    file="$dir/n$n.h5"
    python3 - "$file" "$n" <<'EOF'
import sys, h5py, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
with h5py.File(path, "w", libver=("earliest", "v110")) as f:
    x = f.create_dataset("x", shape=(n, 784), dtype=np.uint8)
    for start in range(0, n, 100_000):
        rows = min(100_000, n - start)
        x[start:start + rows] = rng.integers(0, 256, size=(rows, 784), dtype=np.uint8)
    f["y"] = rng.integers(0, 10, size=n).astype(np.int64)
    f["x_test"] = rng.integers(0, 256, size=(10_000, 784), dtype=np.uint8)
    f["y_test"] = rng.integers(0, 10, size=10_000).astype(np.int64)
EOF
    for entry in $trainers; do
        label=${entry%%=*} trainer=${entry#*=}
        rm -rf "$dir/ck" "$dir"/rss.* "$SWIFTDDP_CACHE_DIR"
        # Each rank under GNU time: %M is its peak resident set (KB).
        if ! "${mpi[@]}" sh -c 'exec /usr/bin/time -f %M -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$dir/rss" \
            "$trainer" train --data "$file" --model mlp --max-steps "$steps" --threads 1 --checkpoint-dir "$dir/ck" \
            > "$dir/log" 2>&1; then
            echo "$label N=$n: the run failed: $(tail -2 "$dir/log" | tr '\n' ' ')"
        fi
        r0=$(tail -1 "$dir/rss.0" 2>/dev/null || echo 0) r1=$(tail -1 "$dir/rss.1" 2>/dev/null || echo 0)
        # Start to the end of step 1 (with the constant evaluation of x_test and
        # one checkpoint): the first run over the file, then the next.
        times=()
        rm -rf "$SWIFTDDP_CACHE_DIR"
        for _ in first next; do
            rm -rf "$dir/ck"
            start=$(date +%s.%N)
            "${mpi[@]}" "$trainer" train --data "$file" --model mlp --max-steps 1 --threads 1 --checkpoint-dir "$dir/ck" \
                > "$dir/log" 2>&1 || true
            end=$(date +%s.%N)
            times+=("$(echo "$end - $start" | bc -l)")
        done
        printf '%-8s %9d %12.1f %12.1f %14.2f %14.2f\n' "$label" "$n" "$(echo "$r0 / 1024" | bc -l)" \
            "$(echo "$r1 / 1024" | bc -l)" "${times[0]}" "${times[1]}"
    done
    rm -f "$file"
done
rm -rf "$dir/ck" "$dir"/rss.* "$dir/log" "$SWIFTDDP_CACHE_DIR"
