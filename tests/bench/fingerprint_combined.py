#!/usr/bin/python3
"""Tracing combined with a lock: each licensee gets a copy carrying only their fingerprint, and that copy is then
locked (AdvParams or the dense lock) so that the file is useless without the licensee's key. Three things can leak,
and each is checked with `fingerprint identify` against the tracing registry:

  locked    the locked file alone (no key): does identification still name the licensee, or say nothing?
  unlocked  the copy the key restores (what the licensee runs): named, and bit for bit the registered copy?
  repaired  the locked file after a thief with labelled images fine-tuned it (`attack --kind finetune
            --out-model`): the thief's accuracy, and whether the licensee is still named.

Everything goes through `paramlock-cli` with --json. Rows are appended to a JSON-lines file (resumable).

Usage: fingerprint_combined.py CLI MODEL [--seed 0] [--users 3] [--methods advparams,dense]
                               [--epochs 100] [--lr 0.01] [--results F.jsonl]

Example (docs/fingerprints.md):
    tests/bench/fingerprint_combined.py build/app/cli/paramlock-cli resources/models/lenet5-fmnist.pt \\
        --users 3 --results /tmp/combined.jsonl
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
    return json.loads(r.stdout) if r.stdout.strip() else {}, time.time() - start


def identified(cli, model, registry):
    found = run([cli, "fingerprint", "identify", "--model", model, "--registry", registry, "--json"])[0]
    rates = sorted(((t["detection_rate"], t["who"]) for t in found["traced"]), reverse=True)
    return {"identified": found["identified"], "margin": found["margin"], "matches": found["matches"],
            "top": rates[0][0], "runner_up": rates[1][0] if len(rates) > 1 else 0.0}


def measure(cli, model, seed, users, methods, epochs, lr, done, results):
    data = ["--data", "fashion-mnist"]
    names = [f"user{i}" for i in range(users)]
    rows = []
    with tempfile.TemporaryDirectory() as out:
        folder, registry = os.path.join(out, "copies"), os.path.join(out, "copies.json")
        os.mkdir(folder)
        cmd = [cli, "fingerprint", "embed", "--model", model, "--seed", str(seed), "--copies", folder,
               "--out-registry", registry, "--json", "--quiet"] + data
        for n in names:
            cmd += ["--user", n]
        _, embed_wall = run(cmd)
        for n in names:
            copy = os.path.join(folder, n + ".pt")
            for method in methods:
                if (n, method) in done:
                    continue
                row = {"model": os.path.basename(model), "seed": seed, "user": n, "method": method,
                       "embed_wall": embed_wall}
                row["copy_accuracy"] = run([cli, "evaluate", "--model", copy, "--json"] + data)[0]["accuracy"]
                locked, key = os.path.join(out, "locked.pt"), os.path.join(out, "key.json")
                restored, repaired = os.path.join(out, "restored.pt"), os.path.join(out, "repaired.pt")
                for f in (locked, key, restored, repaired):
                    if os.path.exists(f):
                        os.remove(f)
                lock, row["lock_wall"] = run([cli, "lock", "--model", copy, "--method", method, "--seed", str(seed),
                                              "--out-model", locked, "--out-key", key, "--json", "--quiet"] + data)
                row["locked_accuracy"] = run([cli, "evaluate", "--model", locked, "--json"] + data)[0]["accuracy"]
                row["locked"] = identified(cli, locked, registry)
                run([cli, "unlock", "--model", locked, "--key", key, "--out", restored, "--json"] + data)
                row["unlocked"] = identified(cli, restored, registry)
                attack = run([cli, "attack", "--kind", "finetune", "--model", locked, "--fraction", "0.1", "--epochs",
                              str(epochs), "--lr", str(lr), "--report-every", str(epochs), "--seed", str(seed),
                              "--out-model", repaired, "--json", "--quiet"] + data)[0]
                row["repaired_accuracy"] = attack["points"][-1]["accuracy"]
                row["repaired"] = identified(cli, repaired, registry)
                row["attack"] = {"epochs": epochs, "lr": lr, "samples": attack["attacker_samples"]}
                rows.append(row)
                with open(results, "a") as f:
                    f.write(json.dumps(row) + "\n")
    return rows


def pct(x):
    return f"{100 * x:.1f}"


def cell(i, who):
    name = i["identified"] or "nobody"
    mark = "" if i["identified"] in ("", who) else " (WRONG)"
    return f"{name}{mark}, {pct(i['top'])} vs {pct(i['runner_up'])}"


def table(rows):
    print("| seed | licensee | lock | copy | locked: accuracy, identify | unlocked: identify, bit for bit | "
          "repaired by a thief: accuracy, identify |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['seed']} | {r['user']} | {r['method']} | {pct(r['copy_accuracy'])} | "
              f"{pct(r['locked_accuracy'])}, {cell(r['locked'], r['user'])} | {cell(r['unlocked'], r['user'])}, "
              f"{'yes' if r['unlocked']['matches'] else 'no'} | {pct(r['repaired_accuracy'])}, "
              f"{cell(r['repaired'], r['user'])} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cli")
    ap.add_argument("model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--users", type=int, default=3)
    ap.add_argument("--methods", default="advparams,dense")
    ap.add_argument("--epochs", type=int, default=100, help="the thief's fine-tuning epochs (1,000 test images)")
    ap.add_argument("--lr", type=float, default=0.01, help="the thief's SGD step size")
    ap.add_argument("--results", default="fingerprint_combined.jsonl")
    a = ap.parse_args()
    rows = []
    if os.path.exists(a.results):
        with open(a.results) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    done = {(r["user"], r["method"]) for r in rows if r["seed"] == a.seed}
    if len(done) < a.users * len(a.methods.split(",")):
        rows += measure(a.cli, a.model, a.seed, a.users, a.methods.split(","), a.epochs, a.lr, done, a.results)
    table(rows)


if __name__ == "__main__":
    main()
