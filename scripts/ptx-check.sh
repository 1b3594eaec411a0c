#!/usr/bin/env bash
# Generates PTX for every kernel the engine launches (revnet compile-kernels, sm_90 and sm_80; tiled GEMMs closed over
# every GPU tiling) and assembles each file with ptxas: catches PTX the driver's JIT would reject, and reports per kernel
# registers, static and dynamic shared memory, spills, theoretical occupancy and, for the conv GEMMs, the FFMA share of
# the main loop in the SASS (scripts/ptx_report.py). Last line:
#   ptx-check: <n> files assembled, <s> spills, gemm_ffma_share=<lowest share>
# Fails on any assembly failure, any spill, or a conv GEMM main loop under half FFMA.
# Installs Debian 12's nvidia-cuda-toolkit (non-free, ptxas and cuobjdump 11.8) if they are missing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
archs=(sm_90 sm_80)

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
dotnet Examples/Cli/bin/Release/net10.0/revnet.dll compile-kernels --out "$out" --target ptx --arch "$(IFS=,; echo "${archs[*]}")" | tail -n 1
python3 scripts/ptx_report.py "$out/ptx" "${archs[@]}"
