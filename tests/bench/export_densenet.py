#!/usr/bin/python3
"""Exports the shipped DenseNet (resources/models/densenet-fmnist.pt, a ParamLock zoo checkpoint) as the TorchScript
file a PyTorch user would bring: the same layers and trained weights in a plain nn.Module, torch.jit.script, and no
ParamLock metadata unless asked (the CLI then takes the input shape from the data; pass --input-mean 0.286
--input-std 0.353 for the shipped normalisation).

Usage: /usr/bin/python3 export_densenet.py OUT.pt [--checkpoint resources/models/densenet-fmnist.pt] [--metadata]
"""
import argparse
import json
import os
import sys

import collections

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_advparams import load_model  # noqa: E402  (the zoo's layers, written in PyTorch)



class ScriptableDenseNet(nn.Module):
    """The same modules, chained by an nn.Sequential (what torch.jit.script can follow), as users write it."""

    def __init__(self, net):
        super().__init__()
        self.conv0 = net.conv0
        self.blocks = nn.Sequential(collections.OrderedDict((n, getattr(net, n)) for n in net.order))
        self.bn_final = net.bn_final
        self.fc = net.fc

    def forward(self, x):
        x = self.blocks(self.conv0(x))
        x = torch.relu(self.bn_final(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--checkpoint", default=os.path.join(os.path.dirname(__file__), "../../resources/models/densenet-fmnist.pt"))
p.add_argument("--metadata", action="store_true", help="keep the checkpoint's paramlock.json in the export")
a = p.parse_args()
extra = {"paramlock.json": ""}
torch.jit.load(a.checkpoint, _extra_files=extra)
meta = json.loads(extra["paramlock.json"])
model = ScriptableDenseNet(load_model(a.checkpoint, meta)).eval()
scripted = torch.jit.script(model)
files = {"paramlock.json": json.dumps({k: meta[k] for k in ("input_shape", "num_classes", "mean", "std", "dataset")
                                       if k in meta})} if a.metadata else {}
scripted.save(a.out, _extra_files=files)
print(sum(t.numel() for t in model.parameters()), "parameters, mean", meta.get("mean"), "std", meta.get("std"))
