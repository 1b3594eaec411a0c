#!/usr/bin/env bash
# GPU check for a machine with an NVIDIA GPU and driver but no .NET: runs a self-contained `revnet` bundle (see
# publish-gpu-bundle.sh) on CUDA within about 10 minutes: golden cases, gradient check, benchmarks (if this build has
# them), a 200-step training run and, when python3 has torch, a PyTorch RevNet-38 step for an images/s comparison.
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
run bench-step 90 "$revnet" bench step --device cuda
run train 150 "$revnet" train --device cuda --data "$data" --max-steps 200 --epochs 1 --batch 128 --test-limit 2000 --out "$logs/train-run"
if python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    run torch-revnet38 90 python3 "$bundle/scripts/torch_revnet.py" step --model revnet38 --batch 128 --steps 30
else
    rows+=("$(printf '%-16s %-38s' torch-revnet38 'SKIP (no python3 with CUDA torch)')")
fi

echo
echo "logs: $logs"
printf '%-16s %-38s %6s  %s\n' check status time "last line"
printf '%s\n' "${rows[@]}"
! printf '%s\n' "${rows[@]}" | grep -qE ' (FAIL|TIMEOUT)'
