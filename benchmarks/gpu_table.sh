#!/usr/bin/env bash
# Run on the GPU check machine after benchmarks/gpu_env.sh's staging: the full-size experiment
# (configs/experiment-gpu.yaml) on the corpora staged in $EMOSET, for at most LIMIT seconds
# (default 540; the experiment resumes where it stopped while the machine stays warm), then its
# report, results and every run's scores (a tarball without checkpoints) into $OUT. Arguments
# are passed on as --set overrides, e.g. seeds=0 or settings=scratch,multi. Two device calls:
#
#   run(command="bash benchmarks/gpu_session.sh", carry=[".whl", "emoset/emodb", "emoset/urdu"])
#   run(command="bash benchmarks/gpu_table.sh seeds=0", carry=[".whl", "emoset/ravdess"])
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/gpu_env.sh
runs="${RUNS:-/root/runs/experiment-gpu}"
corpora=$(cd "$EMOSET" && ls -d */ | tr -d / | paste -sd, -)
sets=(--set "emoset=$EMOSET" --set "corpora=$corpora" --set "out=$runs")
for s in "$@"; do sets+=(--set "$s"); done
out="${OUT:-$PWD/gpu-table-out}"
mkdir -p "$out"
status=0
timeout "${LIMIT:-540}" python3 -m emonet experiment configs/experiment-gpu.yaml --quiet \
  "${sets[@]}" 2>&1 | tee "$out/experiment.log" || status=$?
for f in report.md results.json experiment.yaml; do
  [ -f "$runs/$f" ] && cp "$runs/$f" "$out/"
done
tar czf "$out/scores.tgz" --exclude=checkpoints --exclude=tensorboard -C "$(dirname "$runs")" \
  "$(basename "$runs")" 2> /dev/null || true
if [ "$status" = 124 ]; then
  echo "experiment stopped at LIMIT=${LIMIT:-540} s: run again (machine still warm) to go on"
else
  echo "experiment exit status $status"
fi
exit "$status"
