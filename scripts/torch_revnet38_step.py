#!/usr/bin/env python3
"""Times a RevNet-38-like training step in PyTorch (fp32, TF32 off) on CIFAR-sized random data, for an images/s
comparison with `revnet bench step` / `revnet train` on the same GPU. Reversible blocks use plain autograd (stored
activations): this measures arithmetic speed, not the memory savings. Last line: RESULT torch images_per_s=..."""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def branch(cin, cout, stride, leading):
    """Pre-activation basic branch: [BN-ReLU]-conv3x3-BN-ReLU-conv3x3."""
    layers = [nn.BatchNorm2d(cin), nn.ReLU()] if leading else []
    layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
               nn.Conv2d(cout, cout, 3, 1, 1, bias=False)]
    return nn.Sequential(*layers)


class Transition(nn.Module):
    """A stage's first unit: residual branch plus a pooled, zero-padded shortcut."""

    def __init__(self, cin, cout, stride, leading):
        super().__init__()
        self.f, self.stride, self.pad = branch(cin, cout, stride, leading), stride, cout - cin

    def forward(self, x):
        s = F.avg_pool2d(x, 2, ceil_mode=True) if self.stride == 2 else x
        return self.f(x) + F.pad(s, (0, 0, 0, 0, 0, self.pad))


class ReversibleBlock(nn.Module):
    """y1 = x1 + F(x2); y2 = x2 + G(y1)."""

    def __init__(self, channels):
        super().__init__()
        half = channels // 2
        self.f, self.g = branch(half, half, 1, True), branch(half, half, 1, True)

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        y1 = x1 + self.f(x2)
        return torch.cat([y1, x2 + self.g(y1)], dim=1)


def revnet38(classes=10):
    layers = [nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    cin = 32
    for s, cout in enumerate([32, 64, 112]):
        layers.append(Transition(cin, cout, 1 if s == 0 else 2, leading=s > 0))
        layers += [ReversibleBlock(cout) for _ in range(2)]
        cin = cout
    layers += [nn.BatchNorm2d(cin), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = revnet38().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    x = torch.randn(args.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"device={device} params={sum(p.numel() for p in model.parameters())} batch={args.batch} "
          f"ms_per_step={1000 * seconds / args.steps:.2f}")
    print(f"RESULT torch images_per_s={args.batch * args.steps / seconds:.1f}")


if __name__ == "__main__":
    main()
