#!/usr/bin/env bash
# Fetch, on a machine with PyPI, the wheels that EmoNet needs on the GPU check machine and that
# its image lacks (../shared/GPU.md: Python 3.12 with torch, pandas, scipy, typer, rich,
# lightning-utilities …, but no soundfile, cffi, pycparser, soxr or lightning-fabric), into the
# ignored folder .whl/ (about 3 MB). Run once here; then each device call names .whl in `carry`
# and runs benchmarks/gpu_session.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${platforms[@]}" -d .whl \
  soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 soxr==1.1.0 lightning-fabric==2.6.6
ls -l .whl
