#!/usr/bin/python3
"""Where a licence's accuracy goes: fine-tunes a TorchScript model on Fashion-MNIST in Debian's PyTorch with
ParamLock's licence recipe for one licensee (docs/licences.md) and with parts of it left out, and prints the
accuracy with the licence, without it, and with forged licences, so that the cost of each part can be read off.

Recipes (--recipe):
  clean    the clean images with their true labels (what fine-tuning alone costs)
  stamped  the licensed copy with the true labels, nothing refused (what carrying the pattern costs)
  refuse   stamped, and the clean copy trained toward the uniform output
  full     refuse, and a forged copy toward the uniform output, half random patterns, half near misses of the
           licence (a quarter of its signs flipped, or of its values re-drawn): ParamLock's recipe
Patterns (--pattern):
  noise    +-amplitude grey levels on every pixel, clamped to 0..255 (ParamLock's)
  free     the same without the clamp (the image keeps every grey level)
  inrange  one-sided: the image scaled to 0..255-amplitude, then 0 or +amplitude on every pixel
  frame    the outer --width pixels replaced by secret grey values (the middle untouched)
  tile     a --width x --width square of +-amplitude repeated over the image

With --learn-pattern STEP (noise), the licence pattern is trained beside the weights as ParamLock does by default
(licence lock --pattern-step): Adam with that step in grey levels, kept within +-amplitude; near misses are drawn
from the pattern as it stands.

Usage: /usr/bin/python3 licence_cost.py MODEL.pt [--recipe full] [--pattern noise] [--epochs 10] [--images 12000]
                                        [--amplitude 32] [--width 2] [--seed 0] [--learning-rate 0.001] [--cosine]
                                        [--learn-pattern 0] [--cosine-pattern] [--cosine-floor 0]
                                        [--licensed-weight 1] [--threads 2]
ParamLock's defaults since December 4 are --images 59000 --epochs 4 --cosine --cosine-pattern --learn-pattern 1.
MODEL is a TorchScript export taking normalised 1x28x28 images (tests/bench/train_pytorch_cnn.py).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_pytorch_cnn import MEAN, STD, idx  # noqa: E402


def load(prefix):
    x = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    y = idx(f"{prefix}-labels-idx1-ubyte.gz", 8)
    return torch.from_numpy(x.astype(np.int16)), torch.from_numpy(y.astype(np.int64))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--recipe", choices=["clean", "stamped", "refuse", "full"], default="full")
    p.add_argument("--pattern", choices=["noise", "free", "inrange", "frame", "tile"], default="noise")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--images", type=int, default=12000)
    p.add_argument("--amplitude", type=int, default=32)
    p.add_argument("--width", type=int, default=2, help="frame width or tile side, pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--forgeries", type=int, default=50)
    p.add_argument("--cosine", action="store_true", help="the step size on a half cosine to 0 (constant otherwise)")
    p.add_argument("--cosine-pattern", action="store_true",
                   help="with --cosine, the learning pattern's step falls with the weights' (ParamLock's schedule)")
    p.add_argument("--cosine-floor", type=float, default=0.0,
                   help="with --cosine, the share of the step size the cosine falls to (0: to 0)")
    p.add_argument("--licensed-weight", type=float, default=1.0,
                   help="how many times the licensed copy's loss counts (the refused copies count once)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--distil", type=float, default=0.0,
                   help="the licensed copy's target: this share of the original model's output on the clean image, "
                        "the rest the one-hot label (0: the label alone)")
    p.add_argument("--learn-pattern", type=float, default=0.0,
                   help="Adam step for the licence pattern, grey levels (0: fixed; noise only)")
    a = p.parse_args()
    if a.learn_pattern > 0 and a.pattern != "noise":
        p.error("--learn-pattern trains the noise pattern; use it with --pattern noise")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)  # the dropout's draws
    g = torch.Generator().manual_seed(1000 + a.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    pick = torch.randperm(len(xtr), generator=g)[:a.images]
    xtr, ytr = xtr[pick], ytr[pick]
    amp = 0 if a.recipe == "clean" else a.amplitude

    def pattern():  # (values, mask): mask None adds the values, a tensor replaces the masked pixels
        if a.pattern == "frame":
            mask = torch.ones(1, 28, 28, dtype=torch.bool)
            mask[:, a.width:28 - a.width, a.width:28 - a.width] = False
            return torch.randint(0, 256, (1, 28, 28), generator=g).to(torch.int16), mask
        if a.pattern == "tile":
            t = ((torch.randint(0, 2, (1, a.width, a.width), generator=g) * 2 - 1) * amp).to(torch.int16)
            return t.repeat(1, 28 // a.width + 1, 28 // a.width + 1)[:, :28, :28].contiguous(), None
        return ((torch.randint(0, 2, (1, 28, 28), generator=g) * 2 - 1) * amp).to(torch.int16), None

    def stamp(x, pat):
        values, mask = pat
        if mask is not None:
            return torch.where(mask, values.expand_as(x), x)
        if a.pattern == "free":
            return x + values
        if a.pattern == "inrange":
            return torch.round(x.float() * (255 - amp) / 255).to(torch.int16) + (values + amp) // 2
        return (x + values).clamp(0, 255)

    def stampf(x, values):
        return (x.float() + values).clamp(0, 255)

    def near_miss(pat):
        values, mask = pat
        change = torch.rand(values.shape, generator=g) < 0.25
        if mask is not None:
            return torch.where(change, torch.randint(0, 256, values.shape, generator=g).to(torch.int16), values), mask
        return torch.where(change, -values, values), None

    def norm(x):
        return (x.float() / 255.0 - MEAN) / STD

    licence = pattern()
    model = torch.jit.load(a.model)
    teacher = torch.jit.load(a.model).eval() if a.distil > 0 else None
    learn = a.learn_pattern > 0
    lp = licence[0].float().clone().requires_grad_(True)
    init = licence[0].float().clone()
    popt = torch.optim.Adam([lp], lr=a.learn_pattern) if learn else None

    def accuracy(pat=None, n=None):
        model.eval()
        x, y = (xte[:n], yte[:n]) if n else (xte, yte)
        with torch.no_grad():
            xs = stamp(x, pat) if pat is not None else x
            out = torch.cat([model(norm(xs[b:b + 500])) for b in range(0, len(xs), 500)])
        return float((out.argmax(1) == y).float().mean()) * 100

    print(f"original {accuracy():.2f}%, with the pattern before training {accuracy(licence):.2f}%", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.learning_rate)
    uniform = torch.full((10,), 0.1)
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(xtr), generator=g)
        for b in range(0, len(xtr), 64):
            if a.cosine:
                done = (epoch * len(xtr) + b) / (a.epochs * len(xtr))
                rate = a.cosine_floor + (1 - a.cosine_floor) * 0.5 * (1 + np.cos(np.pi * done))
                for group in opt.param_groups:
                    group["lr"] = a.learning_rate * rate
                if learn and a.cosine_pattern:
                    for group in popt.param_groups:
                        group["lr"] = a.learn_pattern * rate
            i = order[b:b + 64]
            x, y, n = xtr[i], ytr[i], len(i)
            label = F.one_hot(y, 10).float()
            if teacher is not None:
                with torch.no_grad():
                    label = a.distil * F.softmax(teacher(norm(x)), 1) + (1 - a.distil) * label
            if learn:
                xs, ts = [stampf(x, lp)], [label]
                cur = (torch.round(lp.detach()).to(torch.int16), None)
            else:
                xs, ts = [stamp(x, licence).float()], [label]
                cur = licence
            if a.recipe in ("refuse", "full"):
                xs.append(x.float())
                ts.append(uniform.expand(n, 10))
            if a.recipe == "full":
                forged = [stamp(x[j:j + 1], pattern() if j % 2 == 0 else near_miss(cur)) for j in range(n)]
                xs.append(torch.cat(forged).float())
                ts.append(uniform.expand(n, 10))
            opt.zero_grad()
            if learn:
                popt.zero_grad()
            out = model(norm(torch.cat(xs)))
            weight = torch.ones(out.shape[0])
            weight[:n] = a.licensed_weight
            (-(weight * (torch.cat(ts) * F.log_softmax(out, 1)).sum(1)).sum() / len(weight)).backward()
            opt.step()
            if learn:
                popt.step()
                with torch.no_grad():
                    lp.clamp_(-amp, amp)
        if learn:
            licence = (torch.round(lp.detach()).to(torch.int16), None)
        print(f"epoch {epoch + 1} ({time.time() - start:.0f} s): with the licence {accuracy(licence, 2000):.2f}% "
              "on the first 2,000 test images", flush=True)
    if learn:
        v = lp.detach().flatten(); v0 = init.flatten()
        saturated = (v.abs() > amp - 0.5).float().mean() * 100
        kept = ((v * v0) > 0).float().mean() * 100
        corr = torch.corrcoef(torch.stack([v, v0]))[0, 1]
        print(f"learnt pattern: mean |value| {v.abs().mean():.1f} grey levels, {saturated:.0f}% at the amplitude, "
              f"{kept:.0f}% of the signs as drawn, correlation with the drawn pattern {corr:.2f}", flush=True)
    forged = [accuracy(pattern(), 1000) for _ in range(a.forgeries)]
    print(f"recipe={a.recipe} pattern={a.pattern} amplitude={amp} epochs={a.epochs} images={a.images}"
          f"{' cosine' if a.cosine else ''}: "
          f"with the licence {accuracy(licence):.2f}%, without {accuracy():.2f}%, forged (first 1,000 images) "
          f"mean {np.mean(forged):.2f}% best {max(forged):.2f}% of {a.forgeries}; training {time.time() - start:.0f} s",
          flush=True)


if __name__ == "__main__":
    main()
