#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and driver but no .NET: runs a self-contained `revnet` bundle (see
# publish-gpu-bundle.sh) on CUDA within about 15 minutes: golden cases, gradient check, benchmarks (if this build has
# them), a 200-step training run and, when python3 has CUDA torch, the same work in PyTorch on the same GPU: every
# RevNet-38 conv shape at batch 128 (forward, grad-input, grad-weight; revnet bench convs vs cuDNN, side by side) and
# the whole RevNet-38 training step at batch 128 (revnet bench step vs torch_revnet38_step.py).
# Usage: gpu-check.sh BUNDLE_DIR   (BUNDLE_DIR/revnet, BUNDLE_DIR/golden, BUNDLE_DIR/data/fashion-mnist, BUNDLE_DIR/scripts)
set -uo pipefail
bundle="$(cd "${1:?usage: gpu-check.sh BUNDLE_DIR}" && pwd)"
revnet="$bundle/revnet"
golden="$bundle/golden"
data="$bundle/data/fashion-mnist"
logs="$(mktemp -d)"
declare -a rows=()

# run NAME SECONDS CMD...: runs with a time limit, keeps the log, records PASS/FAIL/TIMEOUT/SKIP and the last line.
run() {
    local name="$1" limit="$2"; shift 2
    local log="$logs/$name.log" start=$SECONDS status
    echo "== $name: $*"
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
run golden 120 "$revnet" golden "$golden" --device cuda
run gradcheck 120 "$revnet" gradcheck --model revnet38 --batch 8 --device cuda
run bench-kernels 90 "$revnet" bench kernels --device cuda
run bench-step 240 "$revnet" bench step --model revnet38 --batch 128 --steps 20 --device cuda --out "$logs/step"
run bench-convs 240 "$revnet" bench convs --model revnet38 --batch 128 --repeat 10 --device cuda --out "$logs/convs"
run train 150 "$revnet" train --device cuda --data "$data" --max-steps 200 --epochs 1 --batch 128 --test-limit 2000 --out "$logs/train-run"
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    run torch-revnet38 90 python3 "$bundle/scripts/torch_revnet.py" step --model revnet38 --batch 128 --steps 30
    if [ -f "$logs/convs/convs.json" ]; then
        run torch-convs 240 python3 "$bundle/scripts/torch_conv_shapes.py" "$logs/convs/convs.json" --repeat 20
    else
        rows+=("$(printf '%-16s %-38s' torch-convs 'SKIP (bench convs wrote no JSON)')")
    fi
else
    rows+=("$(printf '%-16s %-38s' torch-revnet38 'SKIP (no python3 with CUDA torch)')")
    rows+=("$(printf '%-16s %-38s' torch-convs 'SKIP (no python3 with CUDA torch)')")
fi

echo
for table in "$logs/torch-convs.log" "$logs/step/step.md"; do
    [ -f "$table" ] && { echo "== $table"; cat "$table"; echo; }
done
[ -f "$logs/torch-revnet38.log" ] && { echo "== PyTorch RevNet-38 step, batch 128"; tail -n 2 "$logs/torch-revnet38.log"; echo; }
echo "logs: $logs"
printf '%-16s %-38s %6s  %s\n' check status time "last line"
printf '%s\n' "${rows[@]}"
! printf '%s\n' "${rows[@]}" | grep -qE ' (FAIL|TIMEOUT)'
