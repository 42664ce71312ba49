#!/usr/bin/python3
"""Locks models with `paramlock-cli lock` at its defaults (no budget flag), as a new user would, and prints one
table row per model and seed: the weights changed, the accuracies, the stop reason and the wall time.

Usage: lock_defaults.py CLI MODEL[,FLAG=VALUE...] [MODEL ...] [--data fashion-mnist] [--seeds 0,1,2]
                        [--eval-samples N] [--allow-weak]

Example: tests/bench/lock_defaults.py build/app/cli/paramlock-cli resources/models/lenet5-fmnist.pt \\
             /tmp/cnn.pt,--input-mean=0.2860,--input-std=0.3530 --seeds 0,1,2

NNSplitter's three filter selectors, side by side in one run (the extras name each row):
         tests/bench/lock_defaults.py build/app/cli/paramlock-cli \\
             resources/models/lenet5-fmnist.pt,--method=nnsplitter,--selector=saliency \\
             resources/models/lenet5-fmnist.pt,--method=nnsplitter,--selector=random \\
             resources/models/lenet5-fmnist.pt,--method=nnsplitter,--selector=reinforce --seeds 0,1,2,3,4 --allow-weak
"""
import argparse
import json
import os
import subprocess
import tempfile
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cli")
    p.add_argument("models", nargs="+", help="model file, optionally followed by ,--flag=value extras")
    p.add_argument("--data", default="fashion-mnist")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--eval-samples", type=int, default=0)
    p.add_argument("--allow-weak", action="store_true", help="keep weak locks (to see how weak they are)")
    a = p.parse_args()
    print("| model | seed | params | weights changed | before % | locked % | x random guess | stop | lock s | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for spec in a.models:
        path, *extra = spec.split(",")
        for seed in a.seeds.split(","):
            with tempfile.TemporaryDirectory() as out:
                cmd = [a.cli, "lock", "--model", path, "--data", a.data, "--seed", seed, "--json", "--quiet",
                       "--out-model", os.path.join(out, "locked.pt"), "--out-key", os.path.join(out, "key.json")]
                cmd += extra
                if a.eval_samples:
                    cmd += ["--eval-samples", str(a.eval_samples)]
                if a.allow_weak:
                    cmd += ["--allow-weak"]
                start = time.time()
                r = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.time() - start
                name = " ".join([os.path.basename(path)] + [e.lstrip("-") for e in extra])
                if r.returncode != 0:
                    print(f"| {name} | {seed} | | | | | | exit {r.returncode}: {r.stderr.strip()[-200:]} | | {wall:.0f} |",
                          flush=True)
                    continue
                j = json.loads(r.stdout)
                ratio = j["accuracy_after"] / j["random_guess"]
                print(f"| {name} | {seed} | {j['n_params']:,} | {j['n_encrypted']} | {100 * j['accuracy_before']:.2f} | "
                      f"{100 * j['accuracy_after']:.2f} | {ratio:.2f} | {j['stop_reason']} | {j['seconds']:.1f} | "
                      f"{wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
