#!/usr/bin/python3
"""Evaluation speed against the fastest batch size: sweeps the batch size of a TorchScript model's forward pass in
Debian's PyTorch on the first N Fashion-MNIST test images, then runs `paramlock-cli evaluate` on the same file and
images, and prints ParamLock's time as a ratio of the sweep's best, all in one run.

Usage: /usr/bin/python3 eval_batch.py CLI MODEL.pt [--samples 3000] [--sizes 8,16,32,50,64,128,250]
       [--threads 2] [--input-mean 0.286 --input-std 0.353] [--repeats 2]
"""
import argparse
import gzip
import json
import subprocess
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("cli")
p.add_argument("model")
p.add_argument("--samples", type=int, default=3000)
p.add_argument("--sizes", default="8,16,32,50,64,128,250")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--input-mean", type=float, default=0.286)
p.add_argument("--input-std", type=float, default=0.353)
p.add_argument("--repeats", type=int, default=2, help="ParamLock evaluations (the best counts, as for each size)")
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
a = p.parse_args()

torch.set_num_threads(a.threads)
with gzip.open(f"{a.data}/t10k-images-idx3-ubyte.gz") as f:
    pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[: a.samples]
x = (torch.from_numpy(pixels.copy()).float().div_(255.0) - a.input_mean) / a.input_std
model = torch.jit.load(a.model).eval()

results = {}
for size in [int(s) for s in a.sizes.split(",")]:
    best = float("inf")
    for _ in range(2):  # the first pass at a size warms TorchScript's executor up for it
        with torch.inference_mode():
            start = time.perf_counter()
            for b in range(0, len(x), size):
                model(x[b:b + size]).argmax(1)
            best = min(best, time.perf_counter() - start)
    results[size] = best
    print(f"PyTorch, batch {size:4d}: {best:7.2f} s", flush=True)
fastest = min(results, key=results.get)

runs = []
for _ in range(a.repeats):
    out = subprocess.run([a.cli, "evaluate", "--model", a.model, "--data", "fashion-mnist", "--eval-samples",
                          str(a.samples), "--input-mean", str(a.input_mean), "--input-std", str(a.input_std),
                          "--threads", str(a.threads), "--quiet", "--json"], check=True, capture_output=True,
                         text=True).stdout
    runs.append(json.loads(out))
    print(f"ParamLock evaluate: {runs[-1]['seconds']:7.2f} s at batch {runs[-1].get('batch_size')}"
          f" (accuracy {runs[-1]['accuracy']:.4f})", flush=True)
mine = min(r["seconds"] for r in runs)
print(f"ratio ParamLock / PyTorch's fastest batch ({fastest}): {mine / results[fastest]:.2f}"
      f"  (ParamLock / PyTorch at batch 250: {mine / results.get(250, float('nan')):.2f})")
