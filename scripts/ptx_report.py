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
launched_ffma_share and ldg128_share are those loop shares averaged over the step's conv GEMMs weighted by their
FLOPs; min_groups_per_sm is the smallest groups / SMs over every launch of at least 1 MFLOP. A pair launch (a
convolution's input and weight gradients in one kernel) holds two disjoint K loops, one per GEMM, each counted with its
own GEMM's FLOPs.
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


def loops(sass):
    """Every loop (backward-branch range) as (opcodes of its body, start, end), outermost first."""
    line = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)([^;]*);")
    instructions, ranges = [], []
    for text in sass.splitlines():
        m = line.search(text)
        if not m:
            continue
        address, opcode = int(m.group(1), 16), m.group(3)
        instructions.append((address, opcode))
        target = re.search(r"0x([0-9a-f]+)", m.group(4))
        if opcode.startswith("BRA") and target and int(target.group(1), 16) < address:
            ranges.append((int(target.group(1), 16), address))
    return [([op for a, op in instructions if start <= a <= end], start, end) for start, end in ranges]


def k_loops(sass, gemms):
    """
    Each GEMM's K loop: the smallest loop (backward-branch address range) holding at least the FFMAs one K step of its
    tiling issues (the step is unrolled, straight-line code), disjoint from the loops already taken; GEMMs issuing more
    FFMAs per step choose first. None when a GEMM has no such loop.
    """
    found = [(sum(op.startswith("FFMA") for op in body), len(body), body, start, end) for body, start, end in loops(sass)]
    chosen = {}
    for i in sorted(range(len(gemms)), key=lambda i: -expected_ffma(gemms[i])):
        fitting = [f for f in found if f[0] >= expected_ffma(gemms[i])
                   and all(f[4] < c[3] or f[3] > c[4] for c in chosen.values())]
        if not fitting:
            return None
        chosen[i] = min(fitting, key=lambda f: f[1])
    return [loop_counts(chosen[i][2]) for i in range(len(gemms))]


def is_global_load(op):
    return op.startswith("LDG") or op == "LD.E" or op.startswith("LD.E.")


def loop_counts(body):
    ffma = sum(op.startswith("FFMA") for op in body)
    loads = [op for op in body if is_global_load(op)]
    wide = sum(".128" in op for op in loads)
    return ffma, len(body), wide, len(loads)


def expected_ffma(gemm):
    """FFMAs one K step of a GEMM's tiling issues per thread: register tile rows x columns x K depth."""
    rows, cols = map(int, re.search(r"(\d+)x(\d+)", gemm["registers"]).groups())
    return rows * cols * int(re.search(r"(\d+)", gemm["depth"]).group(1))


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
            first = by_file[name][0]
            gemms = first.get("gemms") or []
            conv = bool(gemms) and any(x in first["specialisation"] for x in CONV_LOADERS)
            parts = None
            if conv:
                sass = subprocess.run(["cuobjdump", "-sass", cubin], capture_output=True, text=True, check=True).stdout
                parts = k_loops(sass, gemms)
            if spill:
                spilling += 1
            info[name] = dict(regs=regs, smem=smem + dynamic, resident=resident, occ=occ, parts=parts)
            loop_text = " ".join(f"{p[0]}/{p[1]}={p[0] / p[1]:.2f}" for p in parts) if parts else ""
            wide_text = " ".join(f"{p[2]}/{p[3]}" for p in parts) if parts else ""
            print(f"{arch:<7} {name[:100]:<100} {len(by_file[name]):>8} {regs:>4} {smem:>6} {dynamic:>6} {spill:>7} {occ:>5.2f} {loop_text:>12} {wide_text:>7}")

    # Each conv GEMM of the step (a pair launch holds two), weighted by its FLOPs.
    conv = [(l, i, g) for l in launches if info.get(l["file"], {}).get("parts") for i, g in enumerate(l["gemms"])]
    missing = [l["file"] for l in launches if l.get("gemms") and any(x in l["specialisation"] for x in CONV_LOADERS)
               and l["file"] in info and not info[l["file"]]["parts"]]
    conv_flops = sum(g["flops"] for _, _, g in conv)
    def part(l, i):
        return info[l["file"]]["parts"][i]
    def share(l, i):
        p = part(l, i)
        return p[0] / p[1]
    def wide(l, i):
        p = part(l, i)
        return p[2] / max(p[3], 1)
    gemm_ffma = min((share(l, i) for l, i, _ in conv), default=0.0)
    launched_ffma = sum(g["flops"] * share(l, i) for l, i, g in conv) / conv_flops if conv_flops else 0.0
    ldg128 = sum(g["flops"] * wide(l, i) for l, i, g in conv) / conv_flops if conv_flops else 0.0
    heavy = [l for l in launches if l["flops"] >= MIN_FLOPS]
    min_groups = min(l["groups"] / sms for l in heavy) if heavy else 0.0
    lightest = min(heavy, key=lambda l: l["groups"]) if heavy else None

    # Per conv GEMM shape: identical GEMMs are one row.
    print()
    print("Conv GEMMs of the step (one row per shape; a paired launch's two GEMMs are marked +; launches: how many times the step runs it):")
    print()
    print("| GEMM | tile | groups | launches | registers | occupancy | FFMA share | roofline on H200 | est. time each (limit) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    rows = collections.OrderedDict()
    for l, i, g in conv:
        rows.setdefault((g["shape"], l["file"], i, tuple(l["grid"])), []).append((l, g))
    timed = {id(l): estimate(l, info.get(l["file"]), sms) for l in launches}
    total_time = sum(t[0] for t in timed.values())
    for (shape, name, i, _), group in rows.items():
        l, g = group[0]
        inf = info[name]
        seconds, limit = gemm_estimate(g, share(l, i), l, inf, sms)
        intensity = g["flops"] / (l["bytes"] * g["flops"] / l["flops"])
        bound = f"{'FLOP' if intensity >= RIDGE else 'bytes'} ({intensity:.0f} FLOP/B)"
        paired = "+ " if len(l["gemms"]) > 1 else ""
        tile = g["tiling"]
        print(f"| {paired}{shape} | {tile} | {g['groups']} | {len(group)} | {inf['regs']} | {inf['occ']:.2f} | {share(l, i):.2f} | {bound} | {fmt_time(seconds)} ({limit}) |")
    conv_launches = {id(l) for l, _, _ in conv}
    other = [l for l in launches if id(l) not in conv_launches]
    other_time = sum(timed[id(l)][0] for l in other)
    conv_time = total_time - other_time
    print()
    print(f"estimated GPU time of the step: {total_time * 1e3:.2f} ms ({conv_time * 1e3:.2f} ms in {len(conv_launches)} conv GEMM launches, "
          f"{conv_flops / 1e9:.1f} GFLOP; {other_time * 1e3:.2f} ms in {len(other)} other launches)")
    print(f"assumptions: FP32 peak {PEAK_FP32_FLOPS / 1e12:.1f} TFLOP/s (132 SMs x 128 lanes x 2 x 1.98 GHz), HBM {PEAK_BYTES / 1e12:.1f} TB/s at "
          f"{BANDWIDTH_EFFICIENCY:.0%}; a GEMM reaches peak x its K loop's FFMA share x the share of its last wave's SM slots it fills; "
          f"every launch costs at least {fmt_time(LAUNCH_FLOOR_S)}; bytes are the compulsory ones (each view once); caches, latency and "
          f"clock throttling are not modelled")
    if lightest is not None:
        print(f"fewest groups per SM among launches of >= 1 MFLOP: {lightest['kernel']} ({lightest.get('shape') or ''}) "
              f"{lightest['groups']} groups = {min_groups:.2f} per SM")
    if missing:
        print(f"conv GEMM kernels whose K loops were not found in the SASS: {', '.join(sorted(set(missing)))}", file=sys.stderr)
    print(f"ptx-check: {assembled} files assembled, {spilling} spills, gemm_ffma_share={gemm_ffma:.3f}, launched_ffma_share={launched_ffma:.3f}, "
          f"ldg128_share={ldg128:.3f}, min_groups_per_sm={min_groups:.2f}")
    values = {"launched_ffma_share": launched_ffma, "ldg128_share": ldg128, "min_groups_per_sm": min_groups}
    low = [f"{k}={values[k]:.3f} < {floor}" for k, floor in FLOORS.items() if values[k] < floor]
    if failed or spilling or low or missing or not assembled:
        print(f"ptx-check FAILED: {failed} assembly failures, {spilling} spilling files, {len(missing)} kernels without K loops"
              f"{'; ' + ', '.join(low) if low else ''}", file=sys.stderr)
        sys.exit(1)


def gemm_estimate(gemm, share, launch, kernel, sms):
    """(seconds, limit) of one GEMM as if it ran alone at its own groups, under the stated assumptions."""
    slots = sms * max(kernel["resident"], 1)
    waves = math.ceil(gemm["groups"] / slots)
    fill = gemm["groups"] / (waves * slots)
    compute = gemm["flops"] / (PEAK_FP32_FLOPS * share * fill)
    memory = launch["bytes"] * gemm["flops"] / launch["flops"] / (PEAK_BYTES * BANDWIDTH_EFFICIENCY)
    seconds = max(LAUNCH_FLOOR_S, compute, memory)
    return seconds, "launch" if seconds == LAUNCH_FLOOR_S else ("FLOP" if compute >= memory else "bytes")


def estimate(launch, kernel, sms):
    """(seconds, which bound) of one launch under the stated assumptions."""
    memory = launch["bytes"] / (PEAK_BYTES * BANDWIDTH_EFFICIENCY)
    compute = 0.0
    if launch["flops"]:
        if kernel and kernel.get("parts"):
            # A paired launch's GEMMs share the SMs: their work adds up, filling the last wave of the launch's groups.
            slots = sms * max(kernel["resident"], 1)
            waves = math.ceil(launch["groups"] / slots)
            fill = launch["groups"] / (waves * slots)
            compute = sum(g["flops"] / (PEAK_FP32_FLOPS * p[0] / p[1]) for g, p in zip(launch["gemms"], kernel["parts"])) / fill
        else:
            # Element-wise and reduction kernels: a few operations per element, bandwidth-bound; count their FLOPs at peak.
            compute = launch["flops"] / PEAK_FP32_FLOPS
    seconds = max(LAUNCH_FLOOR_S, compute, memory)
    bound = "launch" if seconds == LAUNCH_FLOOR_S else ("FLOP" if compute >= memory else "bytes")
    return seconds, bound


if __name__ == "__main__":
    main()
