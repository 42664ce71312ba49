#!/usr/bin/python3
"""Measures user fingerprints over several seeds, as the fingerprint issue asks, beside the TrustCom 2020 abstract's
figures: clean accuracy before and after; each registered user's detection rate (10 fingerprint images each); 1,000
forged fingerprints (mean detection, best, how many accepted); owner verification (100 carriers) after global pruning
10-90% and after fine-tuning with k labelled images (1-100 epochs); and tracing: one copy per user, each copy given
to `fingerprint identify`, whether it names the right user and the margin to the runner-up.

Everything goes through `paramlock-cli` as a user would run it (`fingerprint embed|verify|owner|identify`,
`attack --fingerprints`, `evaluate`, all with --json). Each row is appended to a JSON-lines file, so an interrupted
run resumes where it stopped.

Usage: fingerprint_table.py CLI MODEL[,--flag=value...] [MODEL...] [--seeds 0,1,2] [--users 10] [--no-copies]
                            [--settings "--epochs=15"] [--forgeries 1000] [--results F.jsonl]
                            [--finetune-lrs 0.003,0.001]

Example (docs/fingerprints.md):
    tests/bench/fingerprint_table.py build/app/cli/paramlock-cli resources/models/lenet5-fmnist.pt \\
        --seeds 0,1,2 --results /tmp/fingerprints.jsonl
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
        raise RuntimeError(f"{' '.join(cmd[:3])}... exit {r.returncode}: {r.stderr.strip()[-400:]}")
    return json.loads(r.stdout), time.time() - start


def measure(cli, model, extra, seed, users, settings, forgeries, copies, lrs):
    data = ["--data", "fashion-mnist"] + extra
    names = [f"user{i}" for i in range(users)]
    row = {"model": os.path.basename(model), "seed": seed, "settings": " ".join(settings)}
    with tempfile.TemporaryDirectory() as out:
        marked, registry = os.path.join(out, "marked.pt"), os.path.join(out, "registry.json")
        cmd = [cli, "fingerprint", "embed", "--model", model, "--seed", str(seed), "--out-model", marked,
               "--out-registry", registry, "--json", "--quiet"] + data + settings
        for n in names:
            cmd += ["--user", n]
        row["embed"], row["embed_wall"] = run(cmd)
        row["original"] = run([cli, "evaluate", "--model", model, "--json"] + data)[0]["accuracy"]
        row["marked"] = run([cli, "evaluate", "--model", marked, "--json"] + data)[0]["accuracy"]
        row["verify"] = run([cli, "fingerprint", "verify", "--model", marked, "--registry", registry,
                             "--forgeries", str(forgeries), "--json"] + extra)[0]
        row["owner"] = run([cli, "fingerprint", "owner", "--model", marked, "--registry", registry, "--json"]
                           + extra)[0]
        row["prune"] = run([cli, "attack", "--model", marked, "--kind", "prune", "--fingerprints", registry,
                            "--rates", "0.1,0.3,0.5,0.7,0.9", "--json", "--quiet"] + data)[0]
        row["finetune"] = run([cli, "attack", "--model", marked, "--kind", "finetune", "--fingerprints", registry,
                               "--fraction", "0.1", "--epochs", "100", "--report-every", "10", "--seed", str(seed),
                               "--json", "--quiet"] + data)[0]
        # The same attack at gentler steps: an attacker who wants to keep the accuracy picks the step (the paper's
        # "fine-tuning that keeps the accuracy").
        row["finetune_lr"] = {}
        for lr in lrs:
            row["finetune_lr"][lr] = run([cli, "attack", "--model", marked, "--kind", "finetune", "--fingerprints",
                                          registry, "--fraction", "0.1", "--epochs", "100", "--report-every", "10",
                                          "--lr", lr, "--seed", str(seed), "--json", "--quiet"] + data)[0]
        if copies:
            folder = os.path.join(out, "copies")
            os.mkdir(folder)
            traced_registry = os.path.join(out, "copies.json")
            cmd = [cli, "fingerprint", "embed", "--model", model, "--seed", str(seed), "--copies", folder,
                   "--out-registry", traced_registry, "--json", "--quiet"] + data + settings
            for n in names:
                cmd += ["--user", n]
            row["copies"], row["copies_wall"] = run(cmd)
            row["traced"] = []
            for n in names:
                copy = os.path.join(folder, n + ".pt")
                found = run([cli, "fingerprint", "identify", "--model", copy, "--registry", traced_registry,
                             "--json"] + extra)[0]
                accuracy = run([cli, "evaluate", "--model", copy, "--json"] + data)[0]["accuracy"]
                rates = sorted((t["detection_rate"] for t in found["traced"]), reverse=True)
                row["traced"].append({"user": n, "identified": found["identified"], "margin": found["margin"],
                                      "top": rates[0], "runner_up": rates[1] if len(rates) > 1 else 0.0,
                                      "accuracy": accuracy})
    return row


def pct(x):
    return f"{100 * x:.1f}"


def table(rows):
    print("| model | seed | original | fingerprinted | users: min / mean detection | forged: mean / best / accepted | "
          "owner | owner after pruning 50 / 70 / 90% | owner, users after fine-tuning 100 epochs (accuracy) | "
          "embed s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        v, users = r["verify"], [u["detection_rate"] for u in r["verify"]["users"]]
        prune = {round(p["x"], 2): p for p in r["prune"]["points"]}
        last = r["finetune"]["points"][-1]
        print(f"| {r['model']} | {r['seed']} | {pct(r['original'])} | {pct(r['marked'])} | "
              f"{pct(min(users))} / {pct(sum(users) / len(users))} | {pct(v['mean_forged_rate'])} / "
              f"{pct(v['best_forged_rate'])} / {v['forged_accepted']} of {len(v['forged'])} | "
              f"{pct(r['owner']['owner']['detection_rate'])} | "
              + " / ".join(pct(prune[x]["owner"]) for x in (0.5, 0.7, 0.9))
              + f" | {pct(last['owner'])}, {pct(last['users'])} ({pct(last['accuracy'])}) | "
              f"{r['embed']['seconds']:.1f} |")
    swept = [r for r in rows if r.get("finetune_lr")]
    if swept:
        lrs = list(swept[0]["finetune_lr"])
        print()
        print("| model | seed | fingerprinted | " + " | ".join(f"SGD {lr}, 10 / 100 epochs: owner, users (accuracy)"
                                                            for lr in ["0.01"] + lrs) + " |")
        print("|---|---|---|" + "---|" * (len(lrs) + 1))
        for r in swept:
            cells = []
            for run_ in [r["finetune"]] + [r["finetune_lr"][lr] for lr in lrs]:
                at = {p["x"]: p for p in run_["points"]}
                ten, last = at.get(10, run_["points"][0]), run_["points"][-1]
                cells.append(f"{pct(ten['owner'])}, {pct(ten['users'])} ({pct(ten['accuracy'])}) / "
                             f"{pct(last['owner'])}, {pct(last['users'])} ({pct(last['accuracy'])})")
            print(f"| {r['model']} | {r['seed']} | {pct(r['marked'])} | " + " | ".join(cells) + " |")
        # What an attacker who keeps the accuracy leaves: every checkpoint of every run within a point of its start.
        print()
        for model in sorted({r["model"] for r in swept}):
            kept, lost = [], []
            for r in swept:
                if r["model"] != model:
                    continue
                for run_ in [r["finetune"]] + list(r["finetune_lr"].values()):
                    start = run_["points"][0]["accuracy"]
                    for p in run_["points"][1:]:
                        (kept if p["accuracy"] >= start - 0.01 else lost).append(p)
            line = f"{model}: checkpoints within 1 point of their start: {len(kept)}"
            if kept:
                line += (f", owner {pct(min(p['owner'] for p in kept))}-{pct(max(p['owner'] for p in kept))}%, users "
                         f"{pct(min(p['users'] for p in kept))}-{pct(max(p['users'] for p in kept))}%")
            if lost:
                line += (f"; beyond it: {len(lost)}, owner {pct(min(p['owner'] for p in lost))}-"
                         f"{pct(max(p['owner'] for p in lost))}%")
            print(line)
    traced = [r for r in rows if r.get("traced")]
    if traced:
        print()
        print("| model | seed | copies identified | margin: min / mean | copies' accuracy: min / max | embed s |")
        print("|---|---|---|---|---|---|")
        for r in traced:
            t = r["traced"]
            right = sum(1 for x in t if x["identified"] == x["user"])
            margins = [x["top"] - x["runner_up"] for x in t]
            acc = [x["accuracy"] for x in t]
            print(f"| {r['model']} | {r['seed']} | {right} of {len(t)} | {pct(min(margins))} / "
                  f"{pct(sum(margins) / len(margins))} | {pct(min(acc))} / {pct(max(acc))} | "
                  f"{r['copies']['seconds']:.1f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cli")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--settings", default="", help='extra fingerprint flags, e.g. "--epochs=20"')
    ap.add_argument("--forgeries", type=int, default=1000)
    ap.add_argument("--results", default="fingerprints.jsonl")
    ap.add_argument("--no-copies", action="store_true")
    ap.add_argument("--finetune-lrs", default="",
                    help="the fine-tuning attack again at these SGD steps, e.g. 0.003,0.001 (the default's is 0.01)")
    a = ap.parse_args()
    done = []
    if os.path.exists(a.results):
        with open(a.results) as f:
            done = [json.loads(line) for line in f if line.strip()]
    settings = a.settings.split()
    for spec in a.models:
        model, *extra = spec.split(",")
        extra = [x for e in extra for x in e.split("=", 1)]
        for seed in (int(s) for s in a.seeds.split(",")):
            key = (os.path.basename(model), seed, " ".join(settings))
            if any((r["model"], r["seed"], r["settings"]) == key for r in done):
                continue
            row = measure(a.cli, model, extra, seed, a.users, settings, a.forgeries, not a.no_copies,
                          [x for x in a.finetune_lrs.split(",") if x])
            done.append(row)
            with open(a.results, "a") as f:
                f.write(json.dumps(row) + "\n")
    table(done)


if __name__ == "__main__":
    main()
