#!/usr/bin/env python3
"""The engine's RevNet/ResNet (RevNet/Models) in PyTorch, layer for layer, for side-by-side timing and recipe trials.

A model is built from the same description as a ModelConfig (units per stage, stem and stage widths, bottleneck,
strides, input channels, classes), so its parameter count equals `revnet models`. A RevNet trains in two modes:
"stored" (plain autograd keeps every activation) and "reconstruct" (each stage's run of reversible blocks is one
autograd Function that keeps only its output and rebuilds the blocks' inputs in backward, as the engine does).

Uses:
  python3 scripts/torch_revnet.py step --model revnet38 --batch 128 --steps 30   (times a step; last line RESULT ...)
  python3 scripts/torch_revnet.py serve   (what `revnet bench step` drives: one JSON request per stdin line, one
                                           JSON reply per stdout line, so import time is paid once)
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# The named models of RevNet/Models/ModelConfig.cs (kept equal; the C# side checks parameter counts).
MODELS = {
    "revnet38": dict(reversible=True, units=[3, 3, 3], stem=32, widths=[32, 64, 112]),
    "revnet110": dict(reversible=True, units=[9, 9, 9], stem=32, widths=[32, 64, 128]),
    "revnet164": dict(reversible=True, units=[9, 9, 9], stem=32, widths=[128, 256, 512], bottleneck=[32, 64, 128]),
    "resnet32": dict(reversible=False, units=[5, 5, 5], stem=16, widths=[16, 32, 64]),
}


def branch(cin, cout, stride, leading, inner=None):
    """Pre-activation residual function: basic [BN-ReLU]-conv3x3-BN-ReLU-conv3x3, or the 1x1-3x3-1x1 bottleneck."""
    layers = [nn.BatchNorm2d(cin), nn.ReLU()] if leading else []
    if inner is None:
        layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                   nn.Conv2d(cout, cout, 3, 1, 1, bias=False)]
    else:
        layers += [nn.Conv2d(cin, inner, 1, bias=False), nn.BatchNorm2d(inner), nn.ReLU(),
                   nn.Conv2d(inner, inner, 3, stride, 1, bias=False), nn.BatchNorm2d(inner), nn.ReLU(),
                   nn.Conv2d(inner, cout, 1, bias=False)]
    return nn.Sequential(*layers)


class Shortcut(nn.Module):
    """Identity, or a 2x2 ceil average pool plus zero channel padding (basic), or a strided 1x1 projection (bottleneck)."""

    def __init__(self, cin, cout, stride, bottleneck):
        super().__init__()
        self.stride, self.cout = stride, cout
        self.proj = nn.Conv2d(cin, cout, 1, stride, bias=False) if bottleneck and (stride != 1 or cin != cout) else None

    def forward(self, x):
        if self.proj is not None:
            return self.proj(x)
        if self.stride == 2:
            x = F.avg_pool2d(x, 2, ceil_mode=True)
        return F.pad(x, (0, 0, 0, 0, 0, self.cout - x.shape[1])) if x.shape[1] != self.cout else x


class ResidualUnit(nn.Module):
    def __init__(self, f, shortcut):
        super().__init__()
        self.f, self.shortcut = f, shortcut

    def forward(self, x):
        return self.shortcut(x) + self.f(x)


class TransitionUnit(nn.Module):
    """A RevNet stage's first unit: y1 = s1(x1) + F(x2), y2 = s2(x2) + G(y1) on channel halves; not invertible."""

    def __init__(self, f, g, s1, s2):
        super().__init__()
        self.f, self.g, self.s1, self.s2 = f, g, s1, s2

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        y1 = self.s1(x1) + self.f(x2)
        return torch.cat([y1, self.s2(x2) + self.g(y1)], dim=1)


class ReversibleBlock(nn.Module):
    """y1 = x1 + F(x2); y2 = x2 + G(y1)."""

    def __init__(self, f, g):
        super().__init__()
        self.f, self.g = f, g

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        y1 = x1 + self.f(x2)
        return torch.cat([y1, x2 + self.g(y1)], dim=1)


class ReconstructingRun(torch.autograd.Function):
    """A run of reversible blocks that keeps only its output; backward rebuilds each block's input, last block first,
    running G and F once each under autograd (their results serve both the inversion and the gradients). Parameter
    gradients accumulate into .grad directly. Batch norm momentum is 0 during the rebuild so running statistics are
    updated once per step, as in the engine."""

    @staticmethod
    def forward(ctx, x, run):
        ctx.run = run
        with torch.no_grad():
            for block in run.blocks:
                x = block(x)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        run = ctx.run
        norms = [m for m in run.modules() if isinstance(m, nn.BatchNorm2d)]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.momentum = 0.0
        try:
            for block in reversed(run.blocks):
                y1, y2 = y.chunk(2, dim=1)
                gy1, gy2 = gy.chunk(2, dim=1)
                with torch.enable_grad():
                    y1 = y1.detach().requires_grad_()
                    gout = block.g(y1)
                torch.autograd.backward(gout, gy2)
                x2 = y2 - gout.detach()
                gy1 = gy1 + y1.grad
                with torch.enable_grad():
                    x2 = x2.requires_grad_()
                    fout = block.f(x2)
                torch.autograd.backward(fout, gy1)
                x1 = y1.detach() - fout.detach()
                y = torch.cat([x1, x2.detach()], dim=1)
                gy = torch.cat([gy1, gy2 + x2.grad], dim=1)
        finally:
            for m, momentum in zip(norms, momenta):
                m.momentum = momentum
        return gy, None


class ReversibleRun(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.reconstruct = True

    def forward(self, x):
        if self.reconstruct and torch.is_grad_enabled() and x.requires_grad and len(self.blocks) > 0:
            return ReconstructingRun.apply(x, self)
        for block in self.blocks:
            x = block(x)
        return x


class ResidualNetwork(nn.Module):
    """RevNet/Models/ResidualNetwork.cs: conv-BN-ReLU stem, three stages (strides first, 2, 2), BN-ReLU-pool-linear."""

    def __init__(self, reversible, units, stem, widths, bottleneck=None, input_channels=3, classes=10,
                 stem_stride=1, first_stage_stride=1):
        super().__init__()
        layers = [nn.Conv2d(input_channels, stem, 3, stem_stride, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU()]
        cin = stem
        for s, cout in enumerate(widths):
            stride = first_stage_stride if s == 0 else 2
            inner = bottleneck[s] if bottleneck else None
            if reversible:
                half = None if inner is None else inner // 2
                layers.append(TransitionUnit(branch(cin // 2, cout // 2, stride, s > 0, half),
                                             branch(cout // 2, cout // 2, 1, True, half),
                                             Shortcut(cin // 2, cout // 2, stride, bool(bottleneck)),
                                             Shortcut(cin // 2, cout // 2, stride, bool(bottleneck))))
                layers.append(ReversibleRun([ReversibleBlock(branch(cout // 2, cout // 2, 1, True, half),
                                                             branch(cout // 2, cout // 2, 1, True, half))
                                             for _ in range(units[s] - 1)]))
            else:
                for u in range(units[s]):
                    unit_in, unit_stride = (cin, stride) if u == 0 else (cout, 1)
                    layers.append(ResidualUnit(branch(unit_in, cout, unit_stride, s > 0 or u > 0, inner),
                                               Shortcut(unit_in, cout, unit_stride, bool(bottleneck))))
            cin = cout
        layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def set_reconstruct(self, on):
        for m in self.modules():
            if isinstance(m, ReversibleRun):
                m.reconstruct = on

    def forward(self, x):
        return self.net(x)


def sgd(model, lr, momentum=0.9, weight_decay=2e-4):
    """The engine's SGD: momentum, weight decay on conv and linear weights only."""
    decayed = [p for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in [m.weight]]
    ids = {id(p) for p in decayed}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return torch.optim.SGD([{"params": decayed, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
                           lr=lr, momentum=momentum)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


class StepTimer:
    """One model, its optimizer and a fixed random batch; times whole training steps (forward, backward, SGD)."""

    def __init__(self, config, batch, image, device="cpu", seed=0):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.model = ResidualNetwork(**config).to(self.device)
        self.opt = sgd(self.model, 0.01)
        channels = config.get("input_channels", 3)
        self.x = torch.randn(batch, channels, image, image, device=self.device)
        self.y = torch.arange(batch, device=self.device) % config.get("classes", 10)

    def synchronize(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def step_ms(self, mode):
        self.model.set_reconstruct(mode == "reconstruct")
        self.synchronize()
        start = time.perf_counter()
        self.opt.zero_grad(set_to_none=True)
        F.cross_entropy(self.model(self.x), self.y).backward()
        self.opt.step()
        self.synchronize()
        return 1000 * (time.perf_counter() - start)


def serve():
    """Requests: {"op":"build","config":{...},"batch":B,"image":S,"threads":T,"device":"cpu"|"cuda"} -> {"params":N,"threads":T,"torch":V};
    {"op":"step","mode":"stored"|"reconstruct"} -> {"ms":M}; {"op":"quit"}. Errors -> {"error":"..."}."""
    timer = None
    for line in sys.stdin:
        try:
            request = json.loads(line)
            if request["op"] == "build":
                torch.set_num_threads(int(request["threads"]))
                device = request.get("device", "cpu")
                if device == "cuda":
                    if not torch.cuda.is_available():
                        raise ValueError("this torch has no CUDA device")
                    torch.backends.cuda.matmul.allow_tf32 = False
                    torch.backends.cudnn.allow_tf32 = False
                    torch.backends.cudnn.benchmark = True
                timer = StepTimer(request["config"], int(request["batch"]), int(request["image"]), device)
                reply = {"params": parameter_count(timer.model), "threads": torch.get_num_threads(), "torch": torch.__version__}
            elif request["op"] == "step":
                if timer is None:
                    raise ValueError("step before build")
                if request["mode"] not in ("stored", "reconstruct"):
                    raise ValueError(f"unknown mode {request['mode']!r}")
                reply = {"ms": timer.step_ms(request["mode"])}
            elif request["op"] == "quit":
                return
            else:
                raise ValueError(f"unknown op {request['op']!r}")
        except Exception as e:  # the driver reports it; the process stays usable
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve")
    step = sub.add_parser("step")
    step.add_argument("--model", default="revnet38", choices=sorted(MODELS))
    step.add_argument("--mode", default="reconstruct", choices=["reconstruct", "stored"])
    step.add_argument("--batch", type=int, default=128)
    step.add_argument("--image", type=int, default=32)
    step.add_argument("--steps", type=int, default=30)
    step.add_argument("--warmup", type=int, default=5)
    step.add_argument("--tf32", action="store_true", help="let cuDNN and cuBLAS use TF32 tensor cores (PyTorch's default for convolutions)")
    args = parser.parse_args()
    if args.command == "serve":
        serve()
        return
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = ResidualNetwork(**MODELS[args.model]).to(device)
    model.set_reconstruct(args.mode == "reconstruct")
    opt = sgd(model, 0.1)
    x = torch.randn(args.batch, 3, args.image, args.image, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)

    def one_step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(args.warmup):
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"device={device} model={args.model} mode={args.mode} tf32={'on' if args.tf32 else 'off'} params={parameter_count(model)} batch={args.batch} "
          f"ms_per_step={1000 * seconds / args.steps:.2f}")
    print(f"RESULT torch images_per_s={args.batch * args.steps / seconds:.1f}")


if __name__ == "__main__":
    main()
