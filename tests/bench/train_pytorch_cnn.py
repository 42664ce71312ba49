#!/usr/bin/python3
"""Trains a model on Fashion-MNIST with Debian's PyTorch and exports it as TorchScript, the way a PyTorch user
hands a model to ParamLock (with the optional paramlock.json metadata): the small CNN of
tests/integration/pytorch_user.py (--width W multiplies its channels and hidden units by W), or torchvision's ResNet-18 (11.2M parameters; its first convolution takes one
channel, needs python3-torchvision).

Usage: /usr/bin/python3 train_pytorch_cnn.py OUT.pt [--arch cnn|resnet18] [--width 1] [--epochs 2] [--seed 0] [--limit N]
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from pytorch_user import SmallCnn  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def tensors(prefix):
    images = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    labels = idx(f"{prefix}-labels-idx1-ubyte.gz", 8)
    x = (torch.from_numpy(images.copy()).float() / 255.0 - MEAN) / STD
    return x, torch.from_numpy(labels.astype(np.int64))


class WideCnn(torch.nn.Module):
    """SmallCnn with W times its channels and hidden units: how a licence's cost depends on capacity."""

    def __init__(self, w):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 8 * w, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(8 * w)
        self.conv2 = torch.nn.Conv2d(8 * w, 16 * w, 3, padding=1)
        self.classifier = torch.nn.Sequential(torch.nn.Linear(16 * w * 7 * 7, 64 * w), torch.nn.ReLU(),
                                              torch.nn.Dropout(0.2), torch.nn.Linear(64 * w, 10))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.classifier(torch.flatten(x, 1))


def make(arch, width=1):
    if arch == "cnn":
        return SmallCnn() if width == 1 else WideCnn(width)
    import torchvision
    model = torchvision.models.resnet18(num_classes=10)
    model.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--arch", choices=["cnn", "resnet18"], default="cnn")
    p.add_argument("--width", type=int, default=1, help="the CNN's channels and hidden units x W (cnn only)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only (0: all 60,000)")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(os.cpu_count() or 1)
    xtr, ytr = tensors("train")
    if a.limit > 0:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    xte, yte = tensors("t10k")
    model = make(a.arch, a.width)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(xtr))
        for b in range(0, len(xtr), 128):
            i = order[b:b + 128]
            opt.zero_grad()
            F.cross_entropy(model(xtr[i]), ytr[i]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = sum(int((model(xte[b:b + 500]).argmax(1) == yte[b:b + 500]).sum()) for b in range(0, len(xte), 500))
        print(f"epoch {epoch + 1}: test accuracy {acc / len(xte):.4f} ({time.time() - start:.0f} s)", flush=True)
    meta = {"input_shape": [1, 28, 28], "num_classes": 10, "mean": [MEAN], "std": [STD], "dataset": "fashion-mnist",
            "training": {"script": "tests/bench/train_pytorch_cnn.py", "arch": a.arch, "width": a.width, "epochs": a.epochs,
                         "seed": a.seed, "limit": a.limit,
                         "test_accuracy": acc / len(xte), "torch": torch.__version__}}
    torch.jit.script(model.eval()).save(a.out, _extra_files={"paramlock.json": json.dumps(meta)})


if __name__ == "__main__":
    main()
