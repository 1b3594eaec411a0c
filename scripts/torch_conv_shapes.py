#!/usr/bin/env python3
"""Times, with PyTorch/cuDNN (fp32; TF32 off unless --tf32, PyTorch's default for convolutions), the convolution shapes
and passes in the JSON of `revnet bench convs --json` on the same GPU, and prints both side by side. Forward is F.conv2d; grad-input and grad-weight are
torch.nn.grad.conv2d_input / conv2d_weight (cuDNN's backward-data and backward-filter). Each pass: median of --repeat
synchronised calls after warm-up. Last line: RESULT conv revnet_over_torch_geomean=<geometric mean of time ratios>"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F
from torch.nn import grad


def median_ms(fn, repeat, sync):
    for _ in range(3):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("revnet_json", help="output of `revnet bench convs --json`")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--device", default="cuda", help="cuda (the comparison); cpu only to check this script")
    parser.add_argument("--tf32", action="store_true", help="let cuDNN use TF32 tensor cores (PyTorch's default for convolutions)")
    args = parser.parse_args()
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    rows = json.load(open(args.revnet_json))
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    ratios = []
    print(f"{'shape (N C H W -> K KHxKW /S pP)':<34} {'pass':<12} {'revnet ms':>10} {'torch ms':>10} {'ratio':>7}")
    for r in rows:
        x = torch.randn(r["n"], r["c"], r["h"], r["w"], device=dev)
        w = torch.randn(r["k"], r["c"], r["kh"], r["kw"], device=dev)
        stride, pad = r["stride"], r["pad"]
        y = F.conv2d(x, w, stride=stride, padding=pad)
        gy = torch.randn_like(y)
        passes = {
            "forward": lambda: F.conv2d(x, w, stride=stride, padding=pad),
            "grad-input": lambda: grad.conv2d_input(x.shape, w, gy, stride=stride, padding=pad),
            "grad-weight": lambda: grad.conv2d_weight(x, w.shape, gy, stride=stride, padding=pad),
        }
        ms = median_ms(passes[r["pass"]], args.repeat, sync)
        ratio = r["median_ms"] / ms
        ratios.append(ratio)
        shape = f"{r['n']} {r['c']} {r['h']} {r['w']} -> {r['k']} {r['kh']}x{r['kw']} /{stride} p{pad}"
        print(f"{shape:<34} {r['pass']:<12} {r['median_ms']:>10.3f} {ms:>10.3f} {ratio:>6.2f}x")
    total_revnet = sum(r["median_ms"] for r in rows)
    print(f"sum of medians: revnet {total_revnet:.2f} ms (each shape once; a step runs most of them several times)")
    print(f"RESULT conv tf32={'on' if args.tf32 else 'off'} revnet_over_torch_geomean={math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")


if __name__ == "__main__":
    main()
