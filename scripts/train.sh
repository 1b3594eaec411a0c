#!/usr/bin/env bash
# The main job: trains the default RevNet on the real Fashion-MNIST on the best accelerator present
# (CUDA, then OpenCL, then ILGPU's CPU accelerator). Installs the dataset package if it is missing.
# Extra arguments go to `revnet train` (e.g. --epochs 3, --device cpu, --model revnet38).
set -euo pipefail
cd "$(dirname "$0")/.."
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/t10k-images-idx3-ubyte.gz" ] && [ ! -f "$data/t10k-images-idx3-ubyte" ]; then
  echo "Fashion-MNIST not found in $data: installing Debian's dataset-fashion-mnist package" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq dataset-fashion-mnist
fi
exec dotnet run --project Examples/Cli -c Release -- train "$@"
