#!/usr/bin/env bash
# Two namespace hosts of two ranks each against one host of two ranks:
# `trainer bench` in alternating rounds, over TCP between the hosts as on a
# cluster (scripts/testhosts, scripts/netns-rsh). Prints each run's figures
# and, per workload and layout, the median samples/s with the spread, the
# per-step phases and the bytes each rank moved, then removes the hosts.
#
#   scripts/multi-host-bench.sh [ROUNDS] [SECONDS] [WORKLOADS...]
#
# Needs root and iproute2 (network namespaces), mpirun and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
seconds=${2:-3}
shift $(($# < 2 ? $# : 2))
workloads=("$@")
[[ ${#workloads[@]} -gt 0 ]] || workloads=(mlp cnn)
trainer=$PWD/.build/release/trainer
[[ -x $trainer ]] || { echo "multi-host-bench: build first (swift build -c release)" >&2; exit 2; }

addresses=$(scripts/testhosts up 2)
subnet=$(echo "$addresses" | head -1 | cut -d. -f3)
scratch=$(mktemp -d)
trap 'scripts/testhosts down "$subnet" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
echo "$addresses" | awk '{print $1" slots=2"}' > "$scratch/two-hosts"
echo "$addresses" | head -1 | awk '{print $1" slots=2"}' > "$scratch/one-host"

export OMPI_MCA_plm_rsh_agent=$PWD/scripts/netns-rsh OMPI_MCA_btl=self,tcp
export OMPI_MCA_btl_tcp_if_include=10.78.$subnet.0/24 OMPI_MCA_oob_tcp_if_include=10.78.$subnet.0/24
export OPENBLAS_NUM_THREADS=1

layouts=("one-host 2" "two-hosts 4" "two-hosts 4 --no-shared-memory")
for ((round = 1; round <= rounds; round++)); do
    for ((i = 0; i < ${#layouts[@]}; i++)); do
        # Rotate the order from round to round, so that drift hits every layout alike.
        layout=${layouts[$(((i + round) % ${#layouts[@]}))]}
        read -r hosts np extra <<< "$layout"
        timeout 300 mpirun --allow-run-as-root --hostfile "$scratch/$hosts" -np "$np" -x OPENBLAS_NUM_THREADS \
            "$trainer" bench --mode default --seconds "$seconds" --batch-size 64 --threads 1 \
            --workload "${workloads[@]}" $extra 2>/dev/null \
            | grep '^{' | sed "s/^{/{\"layout\":\"$hosts np=$np${extra:+ messages}\",/" | tee -a "$scratch/runs.jsonl"
    done
done

python3 - "$scratch/runs.jsonl" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
for workload in dict.fromkeys(r["workload"] for r in runs):
    print(f"\n{workload}: samples/s median (min-max); per step, ms medians")
    base = None
    for layout in dict.fromkeys(r["layout"] for r in runs):
        rs = [r for r in runs if r["workload"] == workload and r["layout"] == layout]
        rate = [r["samples_per_s"] for r in rs]
        med = statistics.median(rate)
        base = base or med
        phases = " ".join(f"{k[:-3]} {statistics.median(r.get(k, 0) for r in rs):.3f}"
                          for k in ("step_ms", "compute_ms", "reduce_ms", "optimizer_ms", "allgather_ms"))
        moved = statistics.median(r.get("transport_bytes_per_step", 0) for r in rs)
        print(f"  {layout:28} {med:9.0f} ({min(rate):.0f}-{max(rate):.0f})  one host / this: {base / med:.2f}x  "
              f"{phases}  bytes through MPI per rank and step {moved:.0f}")
EOF
