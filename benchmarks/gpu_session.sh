#!/usr/bin/env bash
# Run on the GPU check machine, from the checkout's root, with .whl/ carried (made here by
# benchmarks/gpu_wheels.sh): benchmarks/gpu.py with the given arguments, after
# benchmarks/gpu_env.sh. gpu.py copies its results (benchmarks/results/gpu.{json,md}) to $OUT
# after every part, so a run cut short still returns what it measured. One device call:
#
#   run(command="bash benchmarks/gpu_session.sh", carry=[".whl"], timeout_s=480)
#
# Carrying emoset/emodb and emoset/urdu too stages them for benchmarks/gpu_table.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/gpu_env.sh
python3 benchmarks/gpu.py "$@"
