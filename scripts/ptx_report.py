#!/usr/bin/env python3
"""Assembles the kernels of a planned GPU step with ptxas and reports what that step would run.

Usage: ptx_report.py PLAN_DIR ARCH   (PLAN_DIR/launches.json and PLAN_DIR/ptx/ARCH/*.ptx, as
       `revnet compile-kernels --plan MODEL --target ptx --arch ARCH --out PLAN_DIR` writes them)

Per kernel file: registers, static and dynamic shared memory, spills, theoretical occupancy at the group size and dynamic
shared memory it is launched with, and for each conv GEMM (the tiled kernel over a convolution's operand loaders) its
K-loop body in the SASS (`cuobjdump -sass`): the loop, found as the backward-branch range holding the most FFMAs, whole
(global loads, address arithmetic, shared stores and loads, barriers included), with its FFMA share and the share of its
global loads that are 128-bit. ILGPU 1.5.3 emits generic-address loads (SASS LD.E); every view a kernel receives is
global memory, so LD.E and LDG both count as global loads and LD.E.128 / LDG.E.128 as 128-bit ones.

Then one row per conv GEMM shape of the step (tile, groups, registers, occupancy, FFMA share, the roofline bound on the
GPU and an estimated time) and the step's estimated GPU time, with the assumptions printed beside them.

Last line (a contract):
  ptx-check: <n> files assembled, <s> spills, gemm_ffma_share=<x>, launched_ffma_share=<y>, ldg128_share=<z>, min_groups_per_sm=<w>
where <s> counts files with any spill; gemm_ffma_share is the lowest FFMA share of a launched conv GEMM's K loop;
launched_ffma_share and ldg128_share are those loop shares averaged over the step's conv GEMM launches weighted by
their FLOPs; min_groups_per_sm is the smallest groups / SMs over every launch of at least 1 MFLOP.
Exit status 1 when a file fails to assemble, any file spills, launched_ffma_share < 0.5, ldg128_share < 0.8 or
min_groups_per_sm < 2.
"""
import collections
import json
import math
import os
import re
import subprocess
import sys
import tempfile

# Per-SM limits (CUDA occupancy calculator): registers, shared memory usable by blocks, resident warps and blocks.
SM_LIMITS = {"sm_80": (65536, 164 * 1024, 64, 32), "sm_90": (65536, 228 * 1024, 64, 32)}
RESERVED_SMEM_PER_BLOCK = 1024  # the runtime's own shared memory per block (sm_80 and later)
CONV_LOADERS = ("Im2col", "Col2im", "WeightTaps", "ChannelRows", "ChannelColumns")
FLOORS = {"launched_ffma_share": 0.5, "ldg128_share": 0.8, "min_groups_per_sm": 2.0}
MIN_FLOPS = 1e6

# The estimate's assumptions (printed with it): NVIDIA H200 SXM, FP32 on CUDA cores (no tensor cores: the GEMM is FFMA).
PEAK_FP32_FLOPS = 132 * 128 * 2 * 1.98e9  # SMs x FP32 lanes x 2 (multiply-add) x boost clock = 66.9 TFLOP/s
PEAK_BYTES = 4.8e12  # HBM3e
BANDWIDTH_EFFICIENCY = 0.8  # of peak, what streaming kernels reach
LAUNCH_FLOOR_S = 3e-6  # back-to-back launches on one stream without CUDA graphs (ILGPU launches one by one)
RIDGE = PEAK_FP32_FLOPS / PEAK_BYTES  # FLOP per byte where the roofline turns: 13.9


def occupancy(arch, regs, smem, threads):
    """(resident groups per SM, resident warps over the SM's maximum) from registers, shared memory and warps."""
    reg_file, smem_sm, max_warps, max_blocks = SM_LIMITS[arch]
    warps = math.ceil(threads / 32)
    regs_per_warp = math.ceil(max(regs, 1) * 32 / 256) * 256
    by_regs = reg_file // (regs_per_warp * warps)
    by_smem = smem_sm // (smem + RESERVED_SMEM_PER_BLOCK)
    blocks = min(by_regs, by_smem, max_warps // warps, max_blocks)
    return blocks, blocks * warps / max_warps


def k_loop(sass):
    """Opcodes of the loop (backward-branch range) holding the most FFMAs; the shortest such loop on ties."""
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
    best = []
    for start, end in loops:
        body = [op for a, op in instructions if start <= a <= end]
        ffma = sum(op.startswith("FFMA") for op in body)
        best_ffma = sum(op.startswith("FFMA") for op in best)
        if ffma > best_ffma or (ffma == best_ffma and ffma > 0 and len(body) < len(best)):
            best = body
    return best


def is_global_load(op):
    return op.startswith("LDG") or op == "LD.E" or op.startswith("LD.E.")


def loop_counts(body):
    ffma = sum(op.startswith("FFMA") for op in body)
    loads = [op for op in body if is_global_load(op)]
    wide = sum(".128" in op for op in loads)
    return ffma, len(body), wide, len(loads)


def shape_of(spec):
    """The tiling struct a tiled GEMM is closed over (its fourth type argument)."""
    tiles = re.findall(r"\b(Tile\d+x\d+)\b", spec)
    return tiles[-1] if tiles else "?"


def fmt_time(seconds):
    return f"{seconds * 1e6:.1f} µs"


def main():
    plan_dir, arch = sys.argv[1], sys.argv[2]
    plan = json.load(open(os.path.join(plan_dir, "launches.json")))
    sms = plan["multiprocessors"]
    launches = plan["launches"]
    by_file = collections.defaultdict(list)
    for launch in launches:
        by_file[launch["file"]].append(launch)
    ptx_dir = os.path.join(plan_dir, "ptx", arch)
    assembled = failed = spilling = 0
    info = {}
    print(f"{plan['model']} batch {plan['batch']} ({plan['memory']}) on {plan['gpu']} ({sms} SMs): {len(launches)} launches, {len(by_file)} kernels")
    print()
    print(f"{arch:<7} {'kernel':<100} {'launches':>8} {'regs':>4} {'smem_B':>6} {'dyn_B':>6} {'spill_B':>7} {'occ':>5} {'k_loop ffma':>12} {'ldg128':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        cubin = os.path.join(tmp, "kernel.cubin")
        for name in sorted(by_file):
            path = os.path.join(ptx_dir, name + ".ptx")
            ptx = open(path).read()
            if not re.search(rf"^\.target\s+{arch}\b", ptx, re.M):
                print(f"{arch:<7} {name:<100} FAIL: PTX .target is not {arch}")
                failed += 1
                continue
            run = subprocess.run(["ptxas", f"-arch={arch}", "-v", "-o", cubin, path], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{arch:<7} {name:<100} FAIL\n{run.stderr}")
                failed += 1
                continue
            assembled += 1
            log = run.stderr
            regs = max([int(r) for r in re.findall(r"Used (\d+) registers", log)] or [0])
            smem = max([int(s) for s in re.findall(r"(\d+) bytes smem", log)] or [0])
            spill = sum(int(s) for s in re.findall(r"(\d+) bytes spill (?:stores|loads)", log))
            group = by_file[name][0]["group"]
            threads = group[0] * group[1] * group[2]
            dynamic = max(l["dynamic_shared_bytes"] for l in by_file[name])
            resident, occ = occupancy(arch, regs, smem + dynamic, threads)
            loop = None
            first = by_file[name][0]
            if first["kernel"] == "GemmKernels.TiledKernel" and any(x in first["specialisation"] for x in CONV_LOADERS):
                sass = subprocess.run(["cuobjdump", "-sass", cubin], capture_output=True, text=True, check=True).stdout
                loop = loop_counts(k_loop(sass))
            if spill:
                spilling += 1
            info[name] = dict(regs=regs, smem=smem + dynamic, resident=resident, occ=occ, loop=loop)
            loop_text = f"{loop[0]}/{loop[1]}={loop[0] / loop[1]:.2f}" if loop else ""
            wide_text = f"{loop[2]}/{loop[3]}" if loop else ""
            print(f"{arch:<7} {name[:100]:<100} {len(by_file[name]):>8} {regs:>4} {smem:>6} {dynamic:>6} {spill:>7} {occ:>5.2f} {loop_text:>12} {wide_text:>7}")

    # The step's conv GEMM launches, weighted by FLOPs.
    conv = [l for l in launches if info.get(l["file"], {}).get("loop")]
    conv_flops = sum(l["flops"] for l in conv)
    shares = {l["file"]: info[l["file"]]["loop"][0] / info[l["file"]]["loop"][1] for l in conv}
    wide = {l["file"]: info[l["file"]]["loop"][2] / max(info[l["file"]]["loop"][3], 1) for l in conv}
    gemm_ffma = min(shares.values()) if shares else 0.0
    launched_ffma = sum(l["flops"] * shares[l["file"]] for l in conv) / conv_flops if conv_flops else 0.0
    ldg128 = sum(l["flops"] * wide[l["file"]] for l in conv) / conv_flops if conv_flops else 0.0
    heavy = [l for l in launches if l["flops"] >= MIN_FLOPS]
    min_groups = min(l["groups"] / sms for l in heavy) if heavy else 0.0
    lightest = min(heavy, key=lambda l: l["groups"]) if heavy else None

    # Per conv GEMM shape: identical (kernel, grid, FLOPs) launches are one row.
    print()
    print("Conv GEMMs of the step (one row per shape; launches: how many times the step runs it):")
    print()
    print("| GEMM | tile | groups | launches | registers | occupancy | FFMA share | roofline on H200 | est. time each (limit) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    rows = collections.OrderedDict()
    for l in conv:
        key = (l.get("shape") or l["file"], l["file"], tuple(l["grid"]))
        rows.setdefault(key, []).append(l)
    total_time = 0.0
    timed = {}
    for l in launches:
        timed[id(l)] = estimate(l, info.get(l["file"]), sms)
        total_time += timed[id(l)][0]
    for (shape, name, grid), group in rows.items():
        l, i = group[0], info[name]
        seconds, limit = timed[id(l)]
        share = shares[name]
        intensity = l["flops"] / l["bytes"]
        bound = f"{'FLOP' if intensity >= RIDGE else 'bytes'} ({intensity:.0f} FLOP/B)"
        print(f"| {shape} | {shape_of(l['specialisation'])} | {l['groups']} | {len(group)} | {i['regs']} | {i['occ']:.2f} | {share:.2f} | {bound} | {fmt_time(seconds)} ({limit}) |")
    other = [l for l in launches if l not in conv]
    other_time = sum(timed[id(l)][0] for l in other)
    conv_time = total_time - other_time
    print()
    print(f"estimated GPU time of the step: {total_time * 1e3:.2f} ms ({conv_time * 1e3:.2f} ms in {len(conv)} conv GEMM launches, "
          f"{conv_flops / 1e9:.1f} GFLOP; {other_time * 1e3:.2f} ms in {len(other)} other launches)")
    print(f"assumptions: FP32 peak {PEAK_FP32_FLOPS / 1e12:.1f} TFLOP/s (132 SMs x 128 lanes x 2 x 1.98 GHz), HBM {PEAK_BYTES / 1e12:.1f} TB/s at "
          f"{BANDWIDTH_EFFICIENCY:.0%}; a GEMM reaches peak x its K loop's FFMA share x the share of its last wave's SM slots it fills; "
          f"every launch costs at least {fmt_time(LAUNCH_FLOOR_S)}; bytes are the compulsory ones (each view once); caches, latency and "
          f"clock throttling are not modelled")
    if lightest is not None:
        print(f"fewest groups per SM among launches of >= 1 MFLOP: {lightest['kernel']} {shape_of(lightest['specialisation']) if 'Tile' in lightest['specialisation'] else ''} "
              f"{lightest['groups']} groups = {min_groups:.2f} per SM")
    print(f"ptx-check: {assembled} files assembled, {spilling} spills, gemm_ffma_share={gemm_ffma:.3f}, launched_ffma_share={launched_ffma:.3f}, "
          f"ldg128_share={ldg128:.3f}, min_groups_per_sm={min_groups:.2f}")
    values = {"launched_ffma_share": launched_ffma, "ldg128_share": ldg128, "min_groups_per_sm": min_groups}
    low = [f"{k}={values[k]:.3f} < {floor}" for k, floor in FLOORS.items() if values[k] < floor]
    if failed or spilling or low or not assembled:
        print(f"ptx-check FAILED: {failed} assembly failures, {spilling} spilling files{'; ' + ', '.join(low) if low else ''}", file=sys.stderr)
        sys.exit(1)


def estimate(launch, kernel, sms):
    """(seconds, which bound) of one launch under the stated assumptions."""
    memory = launch["bytes"] / (PEAK_BYTES * BANDWIDTH_EFFICIENCY)
    compute = 0.0
    if launch["flops"]:
        share = 1.0
        fill = 1.0
        if kernel and kernel.get("loop"):
            ffma, total, _, _ = kernel["loop"]
            share = ffma / total
            slots = sms * max(kernel["resident"], 1)
            waves = math.ceil(launch["groups"] / slots)
            fill = launch["groups"] / (waves * slots)
            compute = launch["flops"] / (PEAK_FP32_FLOPS * share * fill)
        else:
            # Element-wise and reduction kernels: a few operations per element, bandwidth-bound; count their FLOPs at peak.
            compute = launch["flops"] / PEAK_FP32_FLOPS
    seconds = max(LAUNCH_FLOOR_S, compute, memory)
    bound = "launch" if seconds == LAUNCH_FLOOR_S else ("FLOP" if compute >= memory else "bytes")
    return seconds, bound


if __name__ == "__main__":
    main()
