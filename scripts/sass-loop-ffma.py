#!/usr/bin/env python3
"""FFMA share of a kernel's main loop, from `cuobjdump -sass` text on stdin.

A loop is the address range from a backward branch's target to the branch. The main loop of a GEMM is the loop that
holds the most FFMAs (the K loop, or its inner step loop when ptxas keeps that rolled); among loops holding equally
many, the shortest. Prints "<ffma> <instructions> <share>" for it, or "0 0 0" when no loop holds an FFMA.
"""
import re
import sys

line = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)([^;]*);")
instructions, branches = [], []
for text in sys.stdin:
    m = line.search(text)
    if not m:
        continue
    address, opcode, operands = int(m.group(1), 16), m.group(3), m.group(4)
    instructions.append((address, opcode))
    target = re.search(r"0x([0-9a-f]+)", operands)
    if opcode.startswith("BRA") and target and int(target.group(1), 16) < address:
        branches.append((int(target.group(1), 16), address))

best = (0, 0)
for start, end in branches:
    body = [op for a, op in instructions if start <= a <= end]
    ffma = sum(op.startswith("FFMA") for op in body)
    if ffma > best[0] or (ffma == best[0] and ffma > 0 and len(body) < best[1]):
        best = (ffma, len(body))
ffma, total = best
print(ffma, total, f"{ffma / total:.3f}" if total else "0")
