#!/usr/bin/env bash
# Makes revnet-gpu-bundle.tar.xz for gpu-check.sh: a self-contained linux-x64 `revnet` (no .NET needed on the GPU
# machine), the golden cases, the slice of Fashion-MNIST the check's training run reads (25,600 training images, what
# 200 steps of 128 see, and 2,000 test images; the full set is 30 MB) and the scripts the check runs. A GPU machine
# receives at most 64 MiB beyond the repository: the script fails, loudly, if the bundle is 48 MiB or more.
# Usage: publish-gpu-bundle.sh [OUTPUT_DIR]   (default: ./artifacts)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$repo/artifacts}" && cd "${1:-$repo/artifacts}" && pwd)"
limit_mib=48
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
bundle="$stage/revnet-gpu-bundle"

dotnet publish "$repo/Examples/Cli" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o "$bundle" -nologo -v q
# Debug symbols are not loaded by the check.
find "$bundle" -name '*.pdb' -delete
# gpu-check never exports or checks ONNX: ONNX Runtime's native libraries (55 MB, a Windows one among them) stay home,
# so `revnet export` cannot run its ONNX Runtime check from the bundle.
rm -f "$bundle"/libonnxruntime*.so "$bundle"/onnxruntime*.dll
cp -r "$repo/Tests/TestData/golden" "$bundle/golden"
mkdir -p "$bundle/scripts"
cp "$repo/scripts/gpu-check.sh" "$repo/scripts/torch_revnet.py" "$repo/scripts/torch_conv_shapes.py" "$bundle/scripts/"
fashion=/usr/share/datasets/fashion-mnist
if [ -d "$fashion" ]; then
    mkdir -p "$bundle/data/fashion-mnist"
    python3 - "$fashion" "$bundle/data/fashion-mnist" <<'SLICE'
import gzip, struct, sys
source, target = sys.argv[1], sys.argv[2]
# The first images of each split, as valid IDX files (the count in the header says how many).
for name, count in [("train-images-idx3-ubyte", 25600), ("train-labels-idx1-ubyte", 25600),
                    ("t10k-images-idx3-ubyte", 2000), ("t10k-labels-idx1-ubyte", 2000)]:
    with gzip.open(f"{source}/{name}.gz", "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = list(struct.unpack(">" + "I" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)]))
    per_item = 1
    for d in dims[1:]:
        per_item *= d
    dims[0] = min(count, dims[0])
    header = data[:4] + struct.pack(">" + "I" * len(dims), *dims)
    start = 4 + 4 * len(dims)
    with gzip.open(f"{target}/{name}.gz", "wb") as f:
        f.write(header + data[start:start + dims[0] * per_item])
SLICE
else
    echo "note: $fashion not found; the bundle's training check will need --data"
fi
tar -C "$stage" -cJf "$out/revnet-gpu-bundle.tar.xz" revnet-gpu-bundle
bytes=$(stat -c %s "$out/revnet-gpu-bundle.tar.xz")
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
if [ "$bytes" -ge $((limit_mib * 1024 * 1024)) ]; then
    echo "publish-gpu-bundle: FAILED: $out/revnet-gpu-bundle.tar.xz is $mib MiB, at or above the $limit_mib MiB limit" >&2
    exit 1
fi
echo "$out/revnet-gpu-bundle.tar.xz ($mib MiB, limit $limit_mib MiB); on the GPU machine:"
echo "  tar xJf revnet-gpu-bundle.tar.xz && revnet-gpu-bundle/scripts/gpu-check.sh revnet-gpu-bundle"
