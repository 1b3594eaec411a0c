#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and driver but no .NET: runs a self-contained `revnet` bundle (see
# publish-gpu-bundle.sh) on CUDA within 15 minutes: golden cases, gradient check, benchmarks, a 200-step training run
# and, when python3 has CUDA torch, the same work in PyTorch on the same GPU, twice: with TF32 off (fp32 throughout, what
# ours computes) and on (PyTorch's default for convolutions): every RevNet-38 conv shape at batch 128 (forward,
# grad-input, grad-weight; revnet bench convs vs cuDNN, side by side) and the whole RevNet-38 training step at batch 128
# (revnet bench step vs torch_revnet.py step). Each check has a time limit, cut so that all of them end within the
# script's 14-minute budget (a check with no time left is skipped, and says so); tables come last.
# Usage: gpu-check.sh BUNDLE_DIR   (BUNDLE_DIR/revnet, BUNDLE_DIR/golden, BUNDLE_DIR/data/fashion-mnist, BUNDLE_DIR/scripts)
set -uo pipefail
bundle="$(cd "${1:?usage: gpu-check.sh BUNDLE_DIR}" && pwd)"
revnet="$bundle/revnet"
golden="$bundle/golden"
data="$bundle/data/fashion-mnist"
logs="$(mktemp -d)"
deadline=$((SECONDS + 14 * 60))
declare -a rows=()

# run NAME SECONDS CMD...: runs with a time limit (cut to what is left of the budget), keeps the log, records
# PASS/FAIL/TIMEOUT/SKIP and the last line.
run() {
    local name="$1" limit="$2"; shift 2
    local log="$logs/$name.log" start=$SECONDS status left=$((deadline - SECONDS))
    if [ "$left" -lt 20 ]; then
        rows+=("$(printf '%-16s %-38s' "$name" 'SKIP (the 14-minute budget is spent)')")
        return
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    echo "== $name (at most ${limit}s): $*"
    timeout "$limit" "$@" >"$log" 2>&1
    local rc=$?
    tail -n 5 "$log"
    if [ $rc -eq 0 ]; then status=PASS
    elif [ $rc -eq 124 ]; then status=TIMEOUT
    elif grep -qiE "unrecognized command|unknown command|Required command was not provided" "$log"; then status="SKIP (no such command in this build)"
    else status="FAIL rc=$rc"
    fi
    rows+=("$(printf '%-16s %-38s %5ss  %s' "$name" "$status" "$((SECONDS - start))" "$(tail -n 1 "$log" | cut -c1-90)")")
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "warning: nvidia-smi failed"
run golden 90 "$revnet" golden "$golden" --device cuda
run gradcheck 90 "$revnet" gradcheck --model revnet38 --batch 8 --device cuda
run bench-step 150 "$revnet" bench step --model revnet38 --batch 128 --steps 20 --device cuda --no-pytorch --out "$logs/step"
run bench-convs 150 "$revnet" bench convs --model revnet38 --batch 128 --repeat 10 --device cuda --out "$logs/convs"
run train 120 "$revnet" train --device cuda --data "$data" --max-steps 200 --epochs 1 --batch 128 --test-limit 2000 --out "$logs/train-run"
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    for tf32 in off on; do
        flag=""; [ "$tf32" = on ] && flag="--tf32"
        run "torch-step-tf32-$tf32" 60 python3 "$bundle/scripts/torch_revnet.py" step --model revnet38 --batch 128 --steps 30 $flag
        if [ -f "$logs/convs/convs.json" ]; then
            run "torch-convs-tf32-$tf32" 120 python3 "$bundle/scripts/torch_conv_shapes.py" "$logs/convs/convs.json" --repeat 20 $flag
        else
            rows+=("$(printf '%-16s %-38s' "torch-convs-tf32-$tf32" 'SKIP (bench convs wrote no JSON)')")
        fi
    done
else
    rows+=("$(printf '%-16s %-38s' torch 'SKIP (no python3 with CUDA torch)')")
fi
run bench-kernels 60 "$revnet" bench kernels --device cuda

echo
for table in "$logs/torch-convs-tf32-off.log" "$logs/torch-convs-tf32-on.log" "$logs/step/step.md"; do
    [ -f "$table" ] && { echo "== $table"; cat "$table"; echo; }
done
for tf32 in off on; do
    [ -f "$logs/torch-step-tf32-$tf32.log" ] && { echo "== PyTorch RevNet-38 step, batch 128, TF32 $tf32"; tail -n 2 "$logs/torch-step-tf32-$tf32.log"; echo; }
done
echo "logs: $logs (all checks took $SECONDS s)"
printf '%-22s %-38s %6s  %s\n' check status time "last line"
printf '%s\n' "${rows[@]}"
! printf '%s\n' "${rows[@]}" | grep -qE ' (FAIL|TIMEOUT)'
