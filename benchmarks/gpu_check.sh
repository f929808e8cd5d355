#!/usr/bin/env bash
# One GPU check of full/ (issue 11 §4), at most 8 minutes on one GPU, one summary at the end:
#   1. the CUDA-only tests (tests/full, every test with "cuda" in its name);
#   2. CPU/CUDA parity of the augmentation kernels: the same images and random numbers through
#      each kernel of full.augment on both devices, the largest difference;
#   3. host syncs per 60 training steps (batch, views, forward, backward, SGD), counted with
#      torch's sync debugger;
#   4. python -m full.bench --compile: dispatches, images/s of augmentation alone, the step
#      alone and both over a warm 50-step window, and the ratio to the torchvision DataLoader;
#   5. 2 epochs of the built-in shapes (50,000 images, the paper's network), eager then
#      --compile, with the images/s of the last epoch.
# Each part has its own time limit (their sum is 480 s); its full log is in $OUT/<part>.log.
#
#   bash benchmarks/gpu_check.sh          # on a GPU machine
#   bash benchmarks/gpu_check.sh --dry    # no GPU: every part on the CPU at toy sizes (checks
#                                         # this script; its figures mean nothing)
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
case "${1:-}" in
  --dry) DRY=1 ;;
  "") ;;
  *) echo "gpu_check.sh: unknown argument '$1'; use --dry or nothing" >&2; exit 2 ;;
esac
OUT=${OUT:-runs/gpu_check}
mkdir -p "$OUT"
SLOW=1
if [ "$DRY" = 1 ]; then
  # A CPU shared with other jobs: one thread per process (two threads fighting other processes
  # make this op-heavy code many times slower), and four times the time limits.
  export OMP_NUM_THREADS=1
  SLOW=4
fi
if [ "$DRY" = 0 ] && ! python -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
  echo "gpu_check.sh: no CUDA device; run with --dry to check the script on a CPU" >&2
  exit 2
fi
SUMMARY=()
FAILED=0

# part NAME LIMIT_S COMMAND...: run with a time limit, log to $OUT/NAME.log, keep the status.
# full.train saves and stops on SIGTERM at its next step, so SIGKILL follows 10 s later.
part() {
  local name=$1 limit=$(( $2 * SLOW )) start status
  shift 2
  start=$(date +%s)
  timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  status=$?
  local verdict="ok"
  case "$status" in
    0) ;;
    124|137) verdict="TIMED OUT after ${limit} s" ;;
    *) verdict="FAILED (exit $status)" ;;
  esac
  [ "$status" != 0 ] && FAILED=1
  SUMMARY+=("| $name | $verdict | $(( $(date +%s) - start )) s |")
  echo "== $name: $verdict (log: $OUT/$name.log)"
}

# 1. CUDA-only tests (on a CPU they are all skipped, which is what the dry run shows).
part cuda-tests 75 python -m pytest tests/full -k cuda -rs -p no:cacheprovider  # -q is in addopts

# 2. CPU/CUDA parity of each kernel of full.augment.
part parity 30 env DRY="$DRY" python - <<'EOF'
import torch
from full import augment as A
from full.data import shapes

dev = "cpu" if __import__("os").environ["DRY"] == "1" else "cuda"
images, _ = shapes(1024, seed=0)
u = torch.rand(2048, A.RANDOM_COLUMNS, generator=torch.Generator().manual_seed(0))
x = A.resized_crop(images.repeat(2, 1, 1, 1).float() / 255,
                   *A.draw_params(u, A.SIMSIAM_CIFAR, 32, 32)[:2], 32)

def on(device, fn):
    p = A.draw_params(u.to(device), A.SIMSIAM_CIFAR, 32, 32)
    return fn(p, x.to(device), images.to(device), u.to(device))

kernels = {
    "crop_boxes": lambda p, x, i, u: p.boxes,
    "resized_crop": lambda p, x, i, u: A.resized_crop(i.repeat(2, 1, 1, 1).float() / 255,
                                                      p.boxes, p.flip, 32),
    "color_jitter": lambda p, x, i, u: A.color_jitter(x, p),
    "hue_shift": lambda p, x, i, u: A.hue_shift(x, p.hue),
    "grayscale": lambda p, x, i, u: A.grayscale(x),
    "views (all, normalised)": lambda p, x, i, u: torch.cat(A.views(i, u, A.SIMSIAM_CIFAR, 2)),
}
worst = 0.0
for name, fn in kernels.items():
    diff = float((on("cpu", fn).float() - on(dev, fn).float().cpu()).abs().max())
    worst = max(worst, diff)
    print(f"parity {name}: max |cpu - {dev}| = {diff:.2e}")
print(f"FIGURE parity: max |cpu - {dev}| over the kernels {worst:.2e} (limit 1e-4)")
raise SystemExit(worst > 1e-4)
EOF

# 3. Host syncs over 60 steps of the trainer's own batches and train_step.
part host-syncs 45 env DRY="$DRY" OUT="$OUT" python - <<'EOF'
import os
import warnings

import torch
from full import trainer
from full.train import parse

dry = os.environ["DRY"] == "1"
argv = ["--dataset", "shapes", "--out", os.environ["OUT"] + "/syncs", "--no-progress",
        "--train-size", "4096", "--test-size", "512"]
argv += ["--width", "2", "--dim", "16", "--proj-hidden", "16", "--pred-hidden", "8",
         "--batch", "32"] if dry else ["--device", "cuda", "--batch", "64"]
run = trainer.Trainer(parse(argv, cuda=not dry))
try:
    batches = run._batches()
    run.train_step(next(batches)[1])  # lazy initialisation may sync once
    if not dry:
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("warn")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(60):
            run.train_step(next(batches)[1])
    if not dry:
        torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()
finally:
    run.close()
syncs = sum("synchroniz" in str(w.message) for w in caught)
for w in caught[:5]:
    print("sync:", str(w.message).splitlines()[0])
print(f"FIGURE host syncs per 60 steps: {syncs}" + (" (CPU: not counted)" if dry else ""))
raise SystemExit(syncs > 0)
EOF

# 4. The benchmark, compiled, on the device.
if [ "$DRY" = 1 ]; then
  part bench 150 python -m full.bench --batch 16 --batches 2 --repeats 1 --workers 0 --width 2 \
    --steps 2
else
  part bench 150 python -m full.bench --compile --workers 8
fi

# 5. Two epochs of shapes, eager then compiled: images/s of the last epoch.
SHAPES=(--dataset shapes --epochs 2 --no-progress --probe-epochs 5)
if [ "$DRY" = 1 ]; then
  SHAPES+=(--train-size 256 --test-size 64 --batch 64 --width 2 --dim 16 --proj-hidden 16
           --pred-hidden 8 --knn-k 5)
fi
part shapes-eager 60 python -m full.train "${SHAPES[@]}" --out "$OUT/shapes-eager"
if [ "$DRY" = 1 ]; then
  SUMMARY+=("| shapes-compiled | skipped in the dry run (inductor on a CPU takes minutes) | 0 s |")
else
  part shapes-compiled 120 python -m full.train "${SHAPES[@]}" --compile --out "$OUT/shapes-compiled"
fi

last_epoch_rate() {  # images/s of the last line of a run's metrics.jsonl
  python -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(f\"{r[-1].get('images_per_s', float('nan')):,.0f}\")" "$1" 2>/dev/null || echo "n/a"
}

echo
echo "## gpu_check summary ($( [ "$DRY" = 1 ] && echo "DRY RUN on the CPU: figures mean nothing" || python -c "import torch; print(torch.cuda.get_device_name())"), $(date -u +%F))"
echo
echo "| part | result | wall |"
echo "| --- | --- | --- |"
printf '%s\n' "${SUMMARY[@]}"
echo
grep -h "^FIGURE" "$OUT/parity.log" "$OUT/host-syncs.log" 2>/dev/null | sed 's/^FIGURE /- /'
echo "- CUDA-only tests: $(grep -E "(passed|failed|skipped|error).* in [0-9.]+s" "$OUT/cuda-tests.log" | tail -n 1)"
grep -h "^SKIPPED\|^FAILED" "$OUT/cuda-tests.log" | sed 's/^/  /'

echo "- full.bench:"
grep -h "^|" "$OUT/bench.log" 2>/dev/null | sed 's/^/  /'
echo "- shapes, 2 epochs, images/s of the last epoch: eager $(last_epoch_rate "$OUT/shapes-eager/metrics.jsonl"), compiled $(last_epoch_rate "$OUT/shapes-compiled/metrics.jsonl")"
exit "$FAILED"
