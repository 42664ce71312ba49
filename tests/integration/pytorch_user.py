"""What a PyTorch user does: export a model to TorchScript, and load ParamLock's output back.

Run with Debian's PyTorch: /usr/bin/python3 pytorch_user.py export OUT.pt
                           /usr/bin/python3 pytorch_user.py export-broken nan|no-layers|state-dict|fixed-batch|untrained|rgb OUT
                           /usr/bin/python3 pytorch_user.py compare A.pt B.pt
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.classifier = nn.Sequential(nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.classifier(torch.flatten(x, 1))


def export(path):
    torch.manual_seed(0)
    model = SmallCnn().eval()
    # The user's own extra file must survive locking and unlocking.
    torch.jit.script(model).save(path, _extra_files={"owner.txt": "ACME Corp"})


class NoLayers(nn.Module):
    """A model without any convolution or fully-connected layer: nothing for AdvParams to lock."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(10))

    def forward(self, x):
        return torch.flatten(x, 1)[:, :10] * self.scale


class FixedBatchCnn(SmallCnn):
    """Traced with one image, int() freezes the batch size into the graph: a common tracing mistake."""

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.classifier(x.reshape(int(x.shape[0]), -1))


def export_broken(kind, path):
    """Files a user might hand over by mistake: NaN weights, no lockable layer, a pickled state_dict, a trace that
    froze its batch size, an untrained model, a model for colour images."""
    torch.manual_seed(0)
    if kind == "nan":
        model = SmallCnn().eval()
        with torch.no_grad():
            model.conv2.weight[0, 0, 0, 0] = float("nan")
            model.classifier[3].weight[1, 2] = float("inf")
        torch.jit.script(model).save(path)
    elif kind == "no-layers":
        torch.jit.script(NoLayers().eval()).save(path)
    elif kind == "state-dict":
        torch.save(SmallCnn().state_dict(), path)
    elif kind == "fixed-batch":
        torch.jit.trace(FixedBatchCnn().eval(), torch.zeros(1, 1, 28, 28)).save(path)
    elif kind == "untrained":
        model = SmallCnn().eval()
        with torch.no_grad():  # a head that was never trained: every class equally likely
            model.classifier[3].weight.zero_()
            model.classifier[3].bias.zero_()
        torch.jit.script(model).save(path)
    elif kind == "rgb":
        model = SmallCnn()
        model.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        torch.jit.script(model.eval()).save(path)
    else:
        sys.exit("unknown kind " + kind)


def outputs(path):
    extra = {"owner.txt": ""}
    model = torch.jit.load(path, _extra_files=extra)
    assert not model.training, "exported in eval mode, must come back in eval mode"
    torch.manual_seed(1)
    x = torch.randn(16, 1, 28, 28)
    with torch.no_grad():
        return model(x), {k: v.clone() for k, v in model.state_dict().items()}, extra["owner.txt"].decode() if isinstance(extra["owner.txt"], bytes) else extra["owner.txt"]


def compare(a, b):
    out_a, state_a, _ = outputs(a)
    out_b, state_b, owner_b = outputs(b)
    same_out = torch.equal(out_a, out_b)
    same_state = state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    changed = sum(int((state_a[k] != state_b[k]).sum()) for k in state_a)
    print(f"outputs_equal={same_out} weights_equal={same_state} changed_weights={changed} owner={owner_b}")


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2])
    elif sys.argv[1] == "export-broken":
        export_broken(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: pytorch_user.py export OUT | export-broken KIND OUT | compare A B")
