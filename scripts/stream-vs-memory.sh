#!/usr/bin/env bash
# Throughput of the catalog's Fashion-MNIST streamed from its cache file
# (the default) against read into memory (no cache: HOME, XDG_CACHE_HOME
# and SWIFTDDP_CACHE_DIR unset), `trainer bench` in the default mode,
# alternated rounds, for each workload at np=1 and np=2 (issue 21). Prints
# each round, then the medians and the ratio streamed / memory.
#
#   scripts/stream-vs-memory.sh                   # WORKLOADS="mlp cnn" NPS="1 2" ROUNDS=3 SECONDS_EACH=4
#   COLD=1 scripts/stream-vs-memory.sh            # drop the page cache before every streamed run (root)
#
# Run it while nothing else runs: the machine has 2 cores.
set -euo pipefail
trainer=${TRAINER:-.build/release/trainer}
workloads=${WORKLOADS:-mlp cnn}
nps=${NPS:-1 2}
rounds=${ROUNDS:-3}
seconds=${SECONDS_EACH:-4}
cache=${SWIFTDDP_CACHE_DIR:-/tmp/stream-vs-memory-cache}
mpi=(mpirun --allow-run-as-root --oversubscribe -x OPENBLAS_NUM_THREADS=1)

rate() {  # mode np workload -> samples/s of one bench run
    local mode=$1 np=$2 workload=$3 run=()
    if [[ $mode == memory ]]; then
        run=(env -u HOME -u XDG_CACHE_HOME -u SWIFTDDP_CACHE_DIR)
    else
        run=(env SWIFTDDP_CACHE_DIR="$cache")
        [[ ${COLD:-0} == 1 ]] && { sync; echo 3 > /proc/sys/vm/drop_caches; }
    fi
    if ((np > 1)); then run+=("${mpi[@]}" -np "$np"); fi
    "${run[@]}" "$trainer" bench --workload "$workload" --mode default --seconds "$seconds" 2>/dev/null \
        | grep -o '"samples_per_s":[0-9.]*' | head -1 | cut -d: -f2
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# Unpack once, outside the timing.
SWIFTDDP_CACHE_DIR="$cache" "$trainer" bench --workload mlp --mode default --steps 1 > /dev/null 2>&1
printf '%-6s %3s %5s %12s %12s\n' workload np round memory streamed
for workload in $workloads; do
    for np in $nps; do
        memory=() streamed=()
        for round in $(seq "$rounds"); do
            memory+=("$(rate memory "$np" "$workload")")
            streamed+=("$(rate streamed "$np" "$workload")")
            printf '%-6s %3d %5d %12.0f %12.0f\n' "$workload" "$np" "$round" "${memory[-1]}" "${streamed[-1]}"
        done
        m=$(printf '%s\n' "${memory[@]}" | median) s=$(printf '%s\n' "${streamed[@]}" | median)
        printf '%-6s %3d %5s %12.0f %12.0f   ratio %.3f\n' "$workload" "$np" median "$m" "$s" "$(echo "$s / $m" | bc -l)"
    done
done
