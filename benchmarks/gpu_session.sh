#!/usr/bin/env bash
# Run on the GPU check machine, from the checkout's root, with .whl/ carried (made here by
# benchmarks/gpu_wheels.sh): install the wheels the image lacks into /tmp/site, put EmoNet's
# sources on the path, then run benchmarks/gpu.py with the given arguments. gpu.py copies its
# results (benchmarks/results/gpu.{json,md}) to $OUT after every part, so a run cut short still
# returns what it measured. One device call:
#
#   run(command="bash benchmarks/gpu_session.sh", carry=[".whl"], timeout_s=480)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ] && ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "no wheels in .whl/: run benchmarks/gpu_wheels.sh here and carry .whl" >&2
  export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, soundfile, soxr, lightning_fabric; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 benchmarks/gpu.py "$@"
