#!/usr/bin/python3
"""Locks a model with two or more methods over several seeds and measures, for each lock, what a reviewer asks:
accuracy before / locked / unlocked (and whether the unlocked model is bit for bit the original), the weights
changed and their share of the parameters, the wall time, the largest change of any layer's mean and std (% of that
layer's std), the largest single change relative to its layer's range, and the generic attacks (fine-tuning with the
attacker's 1,000 test images for 1 and 10 epochs, magnitude pruning 10-90%, per-layer norm clipping 0.5-5%).

Everything goes through `paramlock-cli` as a user would run it: lock, unlock --data, attack --kind detect|finetune|
prune|clip. Each finished lock is appended to a JSON-lines file, so an interrupted run resumes where it stopped.

Usage: method_table.py CLI MODEL[,--flag=value...] --methods "nnsplitter;advparams,--mode=strong" [--seeds 0,1,2,3,4]
                       [--eval-samples N] [--results FILE.jsonl] [--no-attacks]

Example (the table of docs/findings.md, LeNet-5):
    tests/bench/method_table.py build/app/cli/paramlock-cli resources/models/lenet5-fmnist.pt \\
        --methods "nnsplitter;advparams,--mode=strong" --seeds 0,1,2,3,4 --results /tmp/lenet.jsonl
"""
import argparse
import json
import os
import subprocess
import tempfile
import time


def run(cmd):
    start = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... exit {r.returncode}: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout), time.time() - start


def measure(cli, model, extra, method, seed, eval_samples, attacks):
    common = ["--data", "fashion-mnist", "--json", "--quiet"] + extra
    limit = ["--eval-samples", str(eval_samples)] if eval_samples else []
    row = {"model": os.path.basename(model), "method": " ".join(method), "seed": seed}
    with tempfile.TemporaryDirectory() as out:
        locked, key, unlocked = (os.path.join(out, n) for n in ("locked.pt", "key.json", "unlocked.pt"))
        lock, wall = run([cli, "lock", "--model", model, "--seed", str(seed), "--out-model", locked, "--out-key", key,
                          "--allow-weak"] + common + limit + method)
        row.update(params=lock["n_params"], changed=lock["n_encrypted"], before=lock["accuracy_before"],
                   locked=lock["accuracy_after"], random_guess=lock["random_guess"], lock_s=lock["seconds"],
                   wall_s=wall, stop=lock["stop_reason"])
        back, _ = run([cli, "unlock", "--model", locked, "--key", key, "--out", unlocked] + common + limit)
        row.update(unlocked=back["accuracy"], bit_exact=back["fingerprint_match"])
        detect, _ = run([cli, "attack", "--kind", "detect", "--model", locked, "--key", key, "--json", "--quiet"])
        layers = detect["layers"]
        row["mean_shift"] = max(abs(d["mean_change"]) / d["std"] for d in layers)
        row["std_shift"] = max(abs(d["std_change"]) / d["std"] for d in layers)
        row["max_change_of_range"] = max(d["max_abs_change"] / d["range"] for d in layers)
        if attacks:
            tune, _ = run([cli, "attack", "--kind", "finetune", "--model", locked, "--epochs", "10",
                           "--report-every", "1", "--seed", str(seed)] + common + limit)
            by_epoch = {int(p["x"]): p["accuracy"] for p in tune["points"]}
            row.update(finetune_1=by_epoch[1], finetune_10=by_epoch[10])
            prune, _ = run([cli, "attack", "--kind", "prune", "--model", locked, "--rates",
                            "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"] + common + limit)
            row["prune_best"] = max(p["accuracy"] for p in prune["points"])
            clip, _ = run([cli, "attack", "--kind", "clip", "--model", locked, "--percentiles", "0.5,1,2,5"]
                          + common + limit)
            row["clip_best"] = max(p["accuracy"] for p in clip["points"])
    return row


def pct(x):
    return "" if x is None else f"{100 * x:.2f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cli")
    p.add_argument("model", help="model file, optionally followed by ,--flag=value extras for every command")
    p.add_argument("--methods", default="nnsplitter;advparams,--mode=strong",
                   help="';'-separated methods, each followed by ,--flag=value lock flags")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--eval-samples", type=int, default=0)
    p.add_argument("--results", default="", help="JSON-lines file: finished locks are kept and skipped on a rerun")
    p.add_argument("--no-attacks", action="store_true")
    a = p.parse_args()
    model, *extra = a.model.split(",")
    done = []
    if a.results and os.path.exists(a.results):
        with open(a.results) as f:
            done = [json.loads(line) for line in f if line.strip()]
    rows = []
    for spec in a.methods.split(";"):
        method_id, *flags = spec.split(",")
        method = ["--method", method_id] + flags
        for seed in (int(s) for s in a.seeds.split(",")):
            row = next((r for r in done if r["model"] == os.path.basename(model) and r["method"] == " ".join(method)
                        and r["seed"] == seed and ("finetune_1" in r or a.no_attacks)), None)
            if row is None:
                try:
                    row = measure(a.cli, model, extra, method, seed, a.eval_samples, not a.no_attacks)
                except RuntimeError as e:
                    print(f"{model} {spec} seed {seed}: {e}", flush=True)
                    continue
                if a.results:
                    with open(a.results, "a") as f:
                        f.write(json.dumps(row) + "\n")
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| method | seed | changed (share) | before % | locked % | x RG | unlocked % (bit-exact) | lock s | "
          "max mean shift (% std) | max std shift (% std) | max change (% range) | fine-tune 1 / 10 ep % | "
          "prune best % | clip best % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        exact = "yes" if r["bit_exact"] else "NO"
        attacks = (f"{pct(r.get('finetune_1'))} / {pct(r.get('finetune_10'))} | {pct(r.get('prune_best'))} | "
                   f"{pct(r.get('clip_best'))}")
        print(f"| {r['method'].replace('--method ', '')} | {r['seed']} | {r['changed']} "
              f"({100 * r['changed'] / r['params']:.4f}%) | {pct(r['before'])} | {pct(r['locked'])} | "
              f"{r['locked'] / r['random_guess']:.2f} | {pct(r['unlocked'])} ({exact}) | {r['lock_s']:.0f} | "
              f"{100 * r['mean_shift']:.2f} | {100 * r['std_shift']:.2f} | {100 * r['max_change_of_range']:.1f} | "
              f"{attacks} |")


if __name__ == "__main__":
    main()
