"""AdvParams Algorithm 1 (the paper's mode) written the straightforward way a researcher would in PyTorch.

The peer that `paramlock-bench --peer` measures ParamLock against: the same model, the same encryption
set, the same layer order and settings, one full forward and backward of the encryption set per iteration,
gradients for every parameter (PyTorch's default; with the bench's --peer-target-only, of the changed layer
only, as a tuned loop would), argmax, update. Run with Debian's PyTorch:

    /usr/bin/python3 peer_advparams.py JOB_DIR

JOB_DIR holds job.json (written by the bench), de_pixels.bin (uint8, N x C x H x W) and de_labels.bin
(int32). The result goes to JOB_DIR/peer_result.json: seconds of the loop and the picked positions. With the
bench's --end-to-end, job.json names the dataset's IDX folder and the peer also does what a user's script does
around the lock: reads the test split, evaluates before and after (in chunks of the lock's size) and saves the
locked model; the bench times the whole process.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---- the zoo architectures, layer for layer as core/models/zoo.cpp builds them ----------------------------------

class LeNet5(nn.Module):
    def __init__(self, channels, side, classes):
        super().__init__()
        pad = (32 - side) // 2 if side < 32 else 0
        flat = ((side + 2 * pad - 4) // 2 - 4) // 2
        self.conv1 = nn.Conv2d(channels, 6, 5, padding=pad)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * flat * flat, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class DenseLayer(nn.Module):
    def __init__(self, channels, growth):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, 4 * growth, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv1(torch.relu(self.bn1(x)))
        y = self.conv2(torch.relu(self.bn2(y)))
        return torch.cat([x, y], 1)


class Transition(nn.Module):
    def __init__(self, channels, out):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.conv = nn.Conv2d(channels, out, 1, bias=False)

    def forward(self, x):
        return F.avg_pool2d(self.conv(torch.relu(self.bn(x))), 2)


class DenseNetBC(nn.Module):
    def __init__(self, channels_in, classes, layers_per_block=7, growth=15):
        super().__init__()
        channels = 2 * growth
        self.conv0 = nn.Conv2d(channels_in, channels, 3, padding=1, bias=False)
        self.order = []
        for b in range(3):
            for i in range(layers_per_block):
                name = f"block{b + 1}_{i}"
                setattr(self, name, DenseLayer(channels, growth))
                self.order.append(name)
                channels += growth
            if b < 2:
                name = f"trans{b + 1}"
                setattr(self, name, Transition(channels, channels // 2))
                self.order.append(name)
                channels //= 2
        self.bn_final = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.conv0(x)
        for name in self.order:
            x = getattr(self, name)(x)
        x = torch.relu(self.bn_final(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def load_model(path, meta):
    """A zoo checkpoint (parameters only) is rebuilt in Python; a TorchScript model runs as it is."""
    extra = {"paramlock.json": ""}
    archive = torch.jit.load(path, _extra_files=extra)
    arch = meta.get("architecture", "torchscript")
    if arch == "torchscript":
        return archive.eval()
    channels, height, _ = meta["input_shape"]
    classes = meta["num_classes"]
    if arch == "lenet5":
        model = LeNet5(channels, height, classes)
    elif arch == "densenet-fmnist":
        model = DenseNetBC(channels, classes)
    else:
        sys.exit(f"the peer has no Python definition of the zoo model {arch}")
    state = {n: t for n, t in archive.named_parameters()}
    state.update({n: t for n, t in archive.named_buffers()})
    missing = set(model.state_dict()) - set(state)
    if missing:
        sys.exit(f"checkpoint lacks {sorted(missing)[:3]}")
    model.load_state_dict(state)
    return model.eval()


def read_idx(folder, stem, offset):
    """An IDX file of the dataset folder, raw or gzipped, as numpy bytes after its header."""
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
    sys.exit(f"{stem} is not in {folder}")


def test_split(folder, limit, c, h, w, normalise):
    """The first `limit` test images (all when 0) and labels, normalised as the encryption set."""
    images = read_idx(folder, "t10k-images-idx3-ubyte", 16).reshape(-1, c, h, w)
    labels = read_idx(folder, "t10k-labels-idx1-ubyte", 8).astype(np.int64)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return normalise(torch.from_numpy(images.copy()).to(torch.float32).div_(255.0)), torch.from_numpy(labels)


def accuracy(model, x, y, batch):
    with torch.no_grad():
        correct = sum(int((model(x[b:b + batch]).argmax(1) == y[b:b + batch]).sum()) for b in range(0, len(y), batch))
    return correct / max(1, len(y))


def main(job_dir):
    job = json.load(open(os.path.join(job_dir, "job.json")))
    torch.set_num_threads(job["threads"])
    c, h, w = job["input_shape"]
    pixels = np.fromfile(os.path.join(job_dir, "de_pixels.bin"), dtype=np.uint8).reshape(-1, c, h, w)
    labels = torch.from_numpy(np.fromfile(os.path.join(job_dir, "de_labels.bin"), dtype=np.int32).astype(np.int64))
    mean, std = job["mean"], job["std"]

    def normalise(x):
        if mean or std:
            m = torch.tensor([(mean[0] if len(mean) == 1 else mean[i]) if mean else 0.0 for i in range(c)],
                             dtype=torch.float32).view(1, c, 1, 1)
            s = torch.tensor([(std[0] if len(std) == 1 else std[i]) if std else 1.0 for i in range(c)],
                             dtype=torch.float32).view(1, c, 1, 1)
            x.sub_(m).div_(s)
        return x

    x = normalise(torch.from_numpy(pixels.copy()).to(torch.float32).div_(255.0))
    model = load_model(job["model"], job["metadata"])
    # End to end (the bench's --end-to-end): what a user's script does around the lock, timed by the bench as this
    # whole process: read the test split, evaluate, lock, evaluate, save.
    e2e = job.get("end_to_end")
    result = {}
    if e2e:
        test_x, test_y = test_split(e2e["data"], e2e["eval_samples"], c, h, w, normalise)
        result["accuracy_before"] = accuracy(model, test_x, test_y, job["batch_size"])
    params = dict(model.named_parameters())
    total = len(labels)
    batch = job["batch_size"]
    theta, alpha, t_loss, iters = job["theta"], job["alpha"], job["t_loss"], job["max_iter"]

    picks = []
    start = time.perf_counter()
    done = False
    target_only = job.get("target_only", False)
    for name in job["layers"]:
        weight = params[name]
        if target_only:  # the tuned loop: autograd computes the gradient of the layer being changed only
            for p in params.values():
                p.requires_grad_(False)
            weight.requires_grad_(True)
        with torch.no_grad():
            wmin, wmax = float(weight.min()), float(weight.max())
            span = wmax - wmin
            lower, upper = wmin + alpha * span, wmax - alpha * span
            mask = (~((weight == 0) & torch.signbit(weight))).to(torch.float32)
        for _ in range(iters):
            model.zero_grad(set_to_none=True)
            loss = 0.0
            for b in range(0, total, batch):
                out = model(x[b:b + batch])
                l = F.cross_entropy(out, labels[b:b + batch], reduction="sum") / total
                l.backward()
                loss += l.item()
            if loss > t_loss:
                done = True
                break
            g = (weight.grad * mask).flatten()
            t = int(g.abs().argmax())
            gt = float(g[t])
            if gt == 0.0:
                break
            eta = theta * (1.0 if gt > 0 else -1.0) * span
            with torch.no_grad():
                flat = weight.view(-1)
                candidate = float(flat[t]) + eta
                if candidate < lower or candidate > upper:
                    mask.view(-1)[t] = 0.0
                flat[t] = min(max(candidate, lower), upper)
            picks.append([name, t])
        if done:
            break
    seconds = time.perf_counter() - start
    if e2e:
        result["accuracy_after"] = accuracy(model, test_x, test_y, job["batch_size"])
        if isinstance(model, torch.jit.ScriptModule):
            model.save(e2e["out_model"])
        else:
            torch.save(model.state_dict(), e2e["out_model"])
    json.dump({**result, "seconds": seconds, "iterations": len(picks), "picks": picks, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "target_only": target_only}, open(os.path.join(job_dir, "peer_result.json"), "w"))


if __name__ == "__main__":
    main(sys.argv[1])
