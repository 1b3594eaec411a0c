#!/usr/bin/env bash
# Plans one RevNet-38 training step at batch 128 (reconstructing) as a CUDA H200 (132 SMs, sm_90) would launch it, with
# no GPU: `revnet compile-kernels --plan` runs the step on ILGPU's CPU accelerator with the GPU's launch shapes (256-thread
# groups, GPU tilings, K splits to two groups per SM) recording launches instead of running them, and writes the PTX of
# exactly the kernels it launches. Each file is assembled with ptxas for sm_90; scripts/ptx_report.py reports registers,
# shared memory, spills, occupancy, each conv GEMM's K loop from `cuobjdump -sass` (FFMA share, 128-bit global loads),
# a table per conv GEMM shape with the roofline bound and an estimated time, and the step's estimated GPU time. Last line:
#   ptx-check: <n> files assembled, <s> spills, gemm_ffma_share=<x>, launched_ffma_share=<y>, ldg128_share=<z>, min_groups_per_sm=<w>
# Fails on any assembly failure, any spill, launched_ffma_share < 0.5, ldg128_share < 0.8 or min_groups_per_sm < 2.
# Installs Debian 12's nvidia-cuda-toolkit (non-free, ptxas and cuobjdump 11.8) if they are missing.
# Usage: ptx-check.sh [MODEL [BATCH]]   (default revnet38 128)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
model="${1:-revnet38}"
batch="${2:-128}"
arch=sm_90
sms=132

install_ptxas() {
    echo "ptxas missing; installing nvidia-cuda-toolkit (Debian non-free, large download)"
    if ! grep -rqs 'non-free' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat > /etc/apt/sources.list.d/debian-non-free.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nvidia-cuda-toolkit >/dev/null
}
command -v ptxas >/dev/null || install_ptxas
command -v cuobjdump >/dev/null || install_ptxas
ptxas --version | tail -n 1

dotnet build Examples/Cli -c Release -v q -nologo >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet Examples/Cli/bin/Release/net10.0/revnet.dll compile-kernels --out "$out" --target ptx --arch "$arch" \
    --plan "$model" --batch "$batch" --image 32 --sms "$sms" | grep -E "launches planned|compiled,"
python3 scripts/ptx_report.py "$out" "$arch"
