#!/usr/bin/env bash
# The main job: trains revnet-fmnist (units 2-2-2, widths 16/32/64, full 28x28 resolution) on all 60,000
# Fashion-MNIST training images for a 300-second budget on the best accelerator present (CUDA, then OpenCL, then
# the CPU's host kernels), then evaluates on the full 10,000-image test set. The first 30 steps warm the learning
# rate up and are timed; the run then prints the step count that fits the budget, re-times the steps once their pace
# has settled (the rate is held at its peak meanwhile) and prints the final count; `bash scripts/train.sh --max-steps N`
# repeats that run exactly, without a budget. Installs the dataset package if it is missing.
# Extra arguments go to `revnet train` and replace these (e.g. --time-budget 600, --device ilgpu-cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/t10k-images-idx3-ubyte.gz" ] && [ ! -f "$data/t10k-images-idx3-ubyte" ]; then
  echo "Fashion-MNIST not found in $data: installing Debian's dataset-fashion-mnist package" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq dataset-fashion-mnist
fi
# The main job's settings, each unless the caller passed that option.
args=("$@")
default() {
  local option=$1; shift
  for given in "${args[@]}"; do [ "$given" = "$option" ] && return 0; done
  args+=("$option" "$@")
}
default --model revnet-fmnist
default --train-limit 0
default --batch 64
default --lr 0.05
default --epochs 20
default --warmup-steps 30
# A fixed step count (e.g. the one a budgeted run printed) replaces the budget: that repeats the run exactly.
[[ " ${args[*]} " == *" --max-steps "* ]] || default --time-budget 300
exec dotnet run --project Examples/Cli -c Release -- train "${args[@]}"
