#!/usr/bin/env bash
# Generates PTX for every kernel the engine launches (revnet compile-kernels, sm_90 and sm_80) and assembles each file
# with ptxas: catches PTX the driver's JIT would reject, and shows registers, shared memory and spills per kernel
# without a GPU. Installs Debian 12's nvidia-cuda-toolkit (non-free, ptxas 11.8) if ptxas is missing.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
archs=(sm_90 sm_80)
# Kernels whose spills cost training time: the GEMM/convolution and batch-norm kernels.
hot='Gemm|Conv|BatchNorm'

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
ptxas --version | tail -n 1

dotnet build Examples/Cli -v q -nologo >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet Examples/Cli/bin/Debug/net10.0/revnet.dll compile-kernels --out "$out" --target ptx --arch "$(IFS=,; echo "${archs[*]}")" | tail -n 1

failed=0 assembled=0 warnings=0
for arch in "${archs[@]}"; do
    echo
    printf '%-7s %-100s %5s %7s %7s %7s\n' "$arch" kernel regs smem_B spill_st spill_ld
    for ptx in "$out/ptx/$arch"/*.ptx; do
        name="$(basename "$ptx" .ptx)"
        if ! log="$(ptxas -arch="$arch" -v -o /dev/null "$ptx" 2>&1)"; then
            printf '%-7s %-100s FAIL\n%s\n' "$arch" "$name" "$log"
            failed=$((failed + 1))
            continue
        fi
        assembled=$((assembled + 1))
        # ptxas -v: "Used N registers, N bytes smem, ..." and "N bytes stack frame, N bytes spill stores, N bytes spill loads"
        # (spills summed over the entry and any helper functions).
        read -r regs smem stores loads < <(awk '
            /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) { if ($i ~ /^registers/) r = $(i-1); if ($i ~ /^smem/) s = $(i-2) } }
            /spill stores/ { for (i = 1; i <= NF; i++) { if ($i ~ /^stores/) st += $(i-3); if ($i ~ /^loads/) ld += $(i-3) } }
            END { print r+0, s+0, st+0, ld+0 }' <<<"$log")
        printf '%-7s %-100s %5s %7s %7s %7s\n' "$arch" "$name" "$regs" "$smem" "$stores" "$loads"
        if [[ "$name" =~ $hot ]] && { [ "$stores" -gt 0 ] || [ "$loads" -gt 0 ]; }; then
            echo "WARNING: $arch $name spills ($stores B stores, $loads B loads) in a hot kernel"
            warnings=$((warnings + 1))
        fi
    done
done
echo
echo "ptx-check: $assembled assembled, $failed failed, $warnings hot-kernel spill warnings"
[ "$failed" -eq 0 ] && [ "$assembled" -gt 0 ]
