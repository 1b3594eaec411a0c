#!/usr/bin/env bash
# Makes revnet-gpu-bundle.tar.xz for gpu-check.sh: a self-contained linux-x64 `revnet` (no .NET needed on the GPU
# machine), the golden cases, Fashion-MNIST (if present here) and the scripts.
# Usage: publish-gpu-bundle.sh [OUTPUT_DIR]   (default: ./artifacts)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$repo/artifacts}" && cd "${1:-$repo/artifacts}" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/revnet-gpu-bundle"

dotnet publish "$repo/Examples/Cli" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o "$bundle" -nologo -v q
cp -r "$repo/Tests/TestData/golden" "$bundle/golden"
mkdir -p "$bundle/scripts"
cp "$repo/scripts/gpu-check.sh" "$repo/scripts/torch_revnet.py" "$repo/scripts/torch_conv_shapes.py" "$bundle/scripts/"
fashion=/usr/share/datasets/fashion-mnist
if [ -d "$fashion" ]; then mkdir -p "$bundle/data" && cp -r "$fashion" "$bundle/data/fashion-mnist"
else echo "note: $fashion not found; the bundle's training check will need --data"
fi
tar -C "$stage" -cJf "$out/revnet-gpu-bundle.tar.xz" revnet-gpu-bundle
echo "$out/revnet-gpu-bundle.tar.xz ($(du -h "$out/revnet-gpu-bundle.tar.xz" | cut -f1)); on the GPU machine:"
echo "  tar xJf revnet-gpu-bundle.tar.xz && revnet-gpu-bundle/scripts/gpu-check.sh revnet-gpu-bundle"
