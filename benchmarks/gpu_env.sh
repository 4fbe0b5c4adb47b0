# Sourced by benchmarks/gpu_session.sh and gpu_table.sh on the GPU check machine, from the
# checkout's root: installs the carried wheels (.whl/, made here by benchmarks/gpu_wheels.sh)
# into /tmp/site, puts EmoNet's sources on the path, and stages carried EmoSet corpora
# (emoset/<corpus>/, an ignored folder) into $EMOSET (default /root/emoset), where they outlast
# the call while the machine stays warm: a 64-MiB call carries EmoDB + URDU, the next RAVDESS.
if [ -d .whl ] && ls .whl/*.whl > /dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "no wheels in .whl/: run benchmarks/gpu_wheels.sh here and carry .whl" >&2
  export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
export EMOSET="${EMOSET:-/root/emoset}"
mkdir -p "$EMOSET"
for corpus in emoset/*/; do
  [ -f "$corpus/corpus.json" ] || continue
  name=$(basename "$corpus")
  rm -rf "$EMOSET/$name.tmp" && cp -r "$corpus" "$EMOSET/$name.tmp"
  rm -rf "${EMOSET:?}/$name" && mv "$EMOSET/$name.tmp" "$EMOSET/$name"
  echo "staged $name into $EMOSET"
done
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, soundfile, soxr, lightning_fabric; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
