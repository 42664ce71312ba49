#!/usr/bin/python3
"""Exports torchvision's ResNet-50 (random weights, 25.6M parameters) as TorchScript for the scale benchmark.

Usage: /usr/bin/python3 export_resnet50.py OUT.pt [--side 64] [--classes 10]
"""
import argparse
import json

import torch
import torchvision

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--side", type=int, default=64)
p.add_argument("--classes", type=int, default=10)
a = p.parse_args()
torch.manual_seed(0)
model = torchvision.models.resnet50(num_classes=a.classes).eval()
meta = {"input_shape": [3, a.side, a.side], "num_classes": a.classes, "dataset": "random"}
torch.jit.script(model).save(a.out, _extra_files={"paramlock.json": json.dumps(meta)})
print(sum(p.numel() for p in model.parameters()), "parameters")
