#!/usr/bin/env python3
"""Assembles every kernel's PTX with ptxas and reports, per kernel and architecture: registers, static and dynamic shared
memory, spills and theoretical occupancy, and for each conv GEMM (the register-tiled kernel over a convolution's
operands, at a GPU tiling) the FFMA share of its main loop from `cuobjdump -sass`.

Usage: ptx_report.py PTX_DIR ARCH...   (PTX_DIR/ARCH/*.ptx, as `revnet compile-kernels --target ptx` writes them)
Last line (a contract): ptx-check: <n> files assembled, <s> spills, gemm_ffma_share=<lowest share, 0..1>
where <s> counts kernel files with any spill store or load. Exit status 1 when a file fails to assemble or spills,
or when a conv GEMM's main loop is under half FFMA.
"""
import math
import os
import re
import subprocess
import sys
import tempfile

# Per-SM limits (CUDA occupancy calculator): registers, shared memory usable by blocks, resident warps and blocks.
SM_LIMITS = {"sm_80": (65536, 164 * 1024, 64, 32), "sm_90": (65536, 228 * 1024, 64, 32)}
RESERVED_SMEM_PER_BLOCK = 1024  # the runtime's own shared memory per block (sm_80 and later)
GROUP_THREADS = 256  # KernelContext.GroupSize on GPUs: grid-stride and reduction kernels
# Kernels with `.extern .shared` take it at launch: GroupReduction's one float per thread of a 256-thread group.
DYNAMIC_SMEM = GROUP_THREADS * 4
CONV_STREAMS = ("Im2colStream", "Col2imStream", "Im2colTransposeStream")
GPU_TILING = re.compile(r"Tile(\d+)x(\d+)_RegisterTile(\d+)x(\d+)")
FFMA_FLOOR = 0.5


def threads_per_group(name):
    """Threads a launch of this kernel uses: a tiled GEMM's from its tiling and register tile, else the group size."""
    m = GPU_TILING.search(name)
    if m:
        block_m, block_n, rows, cols = map(int, m.groups())
        return block_m // rows * (block_n // cols)
    return GROUP_THREADS


def occupancy(arch, regs, smem, threads):
    """Resident warps over the SM's maximum, from registers (256-register warp granules), shared memory and warps."""
    reg_file, smem_sm, max_warps, max_blocks = SM_LIMITS[arch]
    warps = math.ceil(threads / 32)
    regs_per_warp = math.ceil(max(regs, 1) * 32 / 256) * 256
    by_regs = reg_file // (regs_per_warp * warps)
    by_smem = smem_sm // (smem + RESERVED_SMEM_PER_BLOCK)
    blocks = min(by_regs, by_smem, max_warps // warps, max_blocks)
    return blocks * warps / max_warps


def main_loop_ffma(sass):
    """(FFMA, instructions) of the loop (backward-branch range) holding the most FFMAs; the shortest such loop on ties."""
    line = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)([^;]*);")
    instructions, loops = [], []
    for text in sass.splitlines():
        m = line.search(text)
        if not m:
            continue
        address, opcode = int(m.group(1), 16), m.group(3)
        instructions.append((address, opcode))
        target = re.search(r"0x([0-9a-f]+)", m.group(4))
        if opcode.startswith("BRA") and target and int(target.group(1), 16) < address:
            loops.append((int(target.group(1), 16), address))
    best = (0, 0)
    for start, end in loops:
        body = [op for a, op in instructions if start <= a <= end]
        ffma = sum(op.startswith("FFMA") for op in body)
        if ffma > best[0] or (ffma == best[0] and ffma > 0 and len(body) < best[1]):
            best = (ffma, len(body))
    return best


def main():
    ptx_dir, archs = sys.argv[1], sys.argv[2:]
    assembled = failed = spilling = 0
    shares = []
    with tempfile.TemporaryDirectory() as tmp:
        cubin = os.path.join(tmp, "kernel.cubin")
        for arch in archs:
            print()
            print(f"{arch:<7} {'kernel':<110} {'regs':>4} {'smem_B':>6} {'dyn_B':>5} {'spill_B':>7} {'occ':>5} {'ffma_loop':>12}")
            for file in sorted(os.listdir(os.path.join(ptx_dir, arch))):
                name, path = file[:-4], os.path.join(ptx_dir, arch, file)
                ptx = open(path).read()
                if not re.search(rf"^\.target\s+{arch}\b", ptx, re.M):
                    print(f"{arch:<7} {name:<110} FAIL: PTX .target is not {arch}")
                    failed += 1
                    continue
                run = subprocess.run(["ptxas", f"-arch={arch}", "-v", "-o", cubin, path], capture_output=True, text=True)
                if run.returncode != 0:
                    print(f"{arch:<7} {name:<110} FAIL\n{run.stderr}")
                    failed += 1
                    continue
                assembled += 1
                log = run.stderr
                regs = max([int(r) for r in re.findall(r"Used (\d+) registers", log)] or [0])
                smem = max([int(s) for s in re.findall(r"(\d+) bytes smem", log)] or [0])
                spill = sum(int(s) for s in re.findall(r"(\d+) bytes spill (?:stores|loads)", log))
                dynamic = DYNAMIC_SMEM if ".extern .shared" in ptx else 0
                threads = threads_per_group(name)
                occ = occupancy(arch, regs, smem + dynamic, threads)
                ffma_text = ""
                if name.startswith("GemmKernels.TiledKernel") and any(s in name for s in CONV_STREAMS) and GPU_TILING.search(name):
                    sass = subprocess.run(["cuobjdump", "-sass", cubin], capture_output=True, text=True, check=True).stdout
                    ffma, total = main_loop_ffma(sass)
                    share = ffma / total if total else 0.0
                    shares.append(share)
                    ffma_text = f"{ffma}/{total}={share:.2f}"
                if spill:
                    spilling += 1
                print(f"{arch:<7} {name:<110} {regs:>4} {smem:>6} {dynamic:>5} {spill:>7} {occ:>5.2f} {ffma_text:>12}")
    lowest = min(shares) if shares else 0.0
    print()
    print(f"occupancy: theoretical, at {GROUP_THREADS}-thread groups (GEMMs: their tiling's threads); dyn_B: launch-time shared memory")
    print(f"ptx-check: {assembled} files assembled, {spilling} spills, gemm_ffma_share={lowest:.3f}")
    ok = failed == 0 and assembled > 0 and spilling == 0 and shares and lowest >= FFMA_FLOOR
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
