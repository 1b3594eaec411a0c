#!/usr/bin/env bash
# Generates OpenCL C for every kernel the engine launches (revnet compile-kernels) and compiles each file with clang-15
# to SPIR: catches OpenCL code-generation bugs without an OpenCL device. Cheap enough for CI.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

if ! command -v clang-15 >/dev/null; then
    echo "clang-15 missing; installing it with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang-15 >/dev/null
fi

dotnet build Examples/Cli -v q -nologo >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
dotnet Examples/Cli/bin/Debug/net10.0/revnet.dll compile-kernels --out "$out" --target opencl | tail -n 1

ok=0 failed=0
for cl in "$out"/opencl/*.cl; do
    name="$(basename "$cl" .cl)"
    if log="$(clang-15 -x cl -cl-std=CL2.0 -target spir64 -Xclang -finclude-default-header -c -emit-llvm -o /dev/null "$cl" 2>&1)"; then
        printf 'OK    %s\n' "$name"
        ok=$((ok + 1))
    else
        printf 'FAIL  %s\n%s\n' "$name" "$log"
        failed=$((failed + 1))
    fi
done
echo "opencl-check: $ok OK, $failed FAIL"
[ "$failed" -eq 0 ] && [ "$ok" -gt 0 ]
