#!/usr/bin/env python3
"""Recipe trials for the main job in PyTorch: the engine's full-resolution RevNet (scripts/torch_revnet.py) on all of
Fashion-MNIST with the engine's SGD, schedule (linear warm-up, the base rate held for a tenth of the remaining steps,
then cosine to 0 at the last step: RevNet/Training/LearningRateSchedule.cs), normalisation and
no augmentation, for a given number of steps; then the full test set. Run on the cores the engine gets, so steps
per second compare. Last line: RESULT steps=... epochs=... test_acc=... seconds=... ms_per_step=...

  /usr/bin/python3 scripts/torch_fmnist_recipe.py --epochs 1.5 --batch 128 --lr 0.1 --threads 2
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_revnet  # noqa: E402


def idx(path):
    """An IDX file (gzipped or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, prefix):
    def find(name):
        for candidate in (name + ".gz", name):
            if os.path.exists(os.path.join(directory, candidate)):
                return os.path.join(directory, candidate)
        raise FileNotFoundError(os.path.join(directory, name))
    images = idx(find(f"{prefix}-images-idx3-ubyte")).astype(np.float32)[:, None] / 255.0
    labels = idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=float, default=1.0, help="training length in epochs (fractions allowed)")
    parser.add_argument("--steps", type=int, help="training length in steps (overrides --epochs)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--warmup-steps", type=int, default=0)
    parser.add_argument("--weight-decay", type=float, default=2e-4)
    parser.add_argument("--units", default="2,2,2")
    parser.add_argument("--widths", default="16,32,64")
    parser.add_argument("--stem", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "t10k")
    mean, std = train_x.mean().item(), train_x.std().item()
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    model = torch_revnet.ResidualNetwork(True, [int(u) for u in args.units.split(",")], args.stem,
                                         [int(w) for w in args.widths.split(",")], input_channels=1)
    opt = torch_revnet.sgd(model, args.lr, weight_decay=args.weight_decay)
    per_epoch = len(train_x) // args.batch
    steps = args.steps or round(args.epochs * per_epoch)
    print(f"params={torch_revnet.parameter_count(model)} steps={steps} ({steps / per_epoch:.2f} epochs) batch={args.batch} "
          f"lr={args.lr} warmup={args.warmup_steps} threads={args.threads}", flush=True)

    decay_start = args.warmup_steps + math.floor(0.1 * max(steps - args.warmup_steps, 0))

    def lr_at(step):
        if step < args.warmup_steps:
            return args.lr * (step + 1) / args.warmup_steps
        if step < decay_start:
            return args.lr
        span = max(steps - decay_start, 1)
        return args.lr * 0.5 * (1 + math.cos(math.pi * min(step - decay_start, span) / span))

    start = time.perf_counter()
    step, epoch = 0, 0
    model.train()
    while step < steps:
        order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(args.seed + epoch))
        for b in range(per_epoch):
            if step == steps:
                break
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            index = order[b * args.batch:(b + 1) * args.batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(train_x[index]), train_y[index])
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                print(f"step {step} loss {loss.item():.3f} {time.perf_counter() - start:.0f}s", flush=True)
        epoch += 1
    train_seconds = time.perf_counter() - start
    model.eval()
    correct = 0
    with torch.no_grad():
        for b in range(0, len(test_x), 500):
            correct += (model(test_x[b:b + 500]).argmax(1) == test_y[b:b + 500]).sum().item()
    seconds = time.perf_counter() - start
    print(f"RESULT steps={steps} epochs={steps / per_epoch:.2f} batch={args.batch} lr={args.lr} test_acc={correct / len(test_x):.4f} "
          f"seconds={seconds:.1f} ms_per_step={1000 * train_seconds / steps:.1f}", flush=True)


if __name__ == "__main__":
    main()
