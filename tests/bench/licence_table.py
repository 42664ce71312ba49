#!/usr/bin/python3
"""Licenses models with SecureNet licences over several seeds and measures what the licence issue asks: the
original's accuracy; with the right licence (per licensee and scheme); without a licence; the best of N forged
licences; and a re-key (the old licence, the new one, and its time against the first lock's).

Everything goes through `paramlock-cli licence` as a user would run it (lock, rekey with --json). Each row is
appended to a JSON-lines file, so an interrupted run resumes where it stopped.

Usage: licence_table.py CLI MODEL[,--flag=value...] [MODEL...] [--seeds 0,1,2] [--licensees "a;b:classes=0-4"]
                        [--settings "--pattern=patch"] [--forgeries 1000] [--eval-samples N] [--results F.jsonl]
                        [--no-rekey] [--rekey-epochs N] [--rekey-original] [--keep DIR]

Example (docs/licences.md):
    tests/bench/licence_table.py build/app/cli/paramlock-cli resources/models/lenet5-fmnist.pt \\
        --seeds 0,1,2 --licensees "alice;bob:classes=0-4;carol:coarse" --results /tmp/licences.jsonl
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


def measure(cli, model, extra, seed, licensees, settings, forgeries, eval_samples, rekey, rekey_epochs=0, keep="",
            rekey_original=False):
    common = ["--data", "fashion-mnist", "--json", "--quiet", "--forgeries", str(forgeries)] + extra
    if eval_samples:
        common += ["--eval-samples", str(eval_samples)]
    row = {"model": os.path.basename(model), "seed": seed, "settings": " ".join(settings)}
    with tempfile.TemporaryDirectory() as scratch:
        out = scratch
        if keep:  # the licensed models and registries stay for further re-keys
            out = os.path.join(keep, f"{os.path.splitext(os.path.basename(model))[0]}-seed{seed}")
            os.makedirs(out, exist_ok=True)
        licensed, registry = os.path.join(out, "licensed.pt"), os.path.join(out, "registry.json")
        cmd = [cli, "licence", "lock", "--model", model, "--seed", str(seed), "--out-model", licensed,
               "--out-registry", registry] + common + settings
        for l in licensees:
            cmd += ["--licensee", l]
        lock, wall = run(cmd)
        row.update(lock=lock, lock_wall=wall)
        if rekey:
            first = licensees[0].split(":")[0]
            rekeyed, wall = run([cli, "licence", "rekey", "--model", licensed, "--registry", registry, "--rekey",
                                 first, "--out-model", os.path.join(out, "rekeyed.pt"), "--out-registry",
                                 os.path.join(out, "rekeyed.json")] + common
                                + (["--rekey-epochs", str(rekey_epochs)] if rekey_epochs else [])
                                + (["--original", model] if rekey_original else []))
            row.update(rekey=rekeyed, rekey_wall=wall, rekey_original=rekey_original)
    return row


def pct(x):
    return f"{100 * x:.1f}"


def table(rows):
    print("| model | seed | settings | original | with licence (per licensee; against the original on its classes) | without | best forged (mean); again on other images | "
          "re-key: old / new | lock s | re-key s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lock = r["lock"]
        # Each licensee beside the original scored the same way (its classes, its groups), where the run has it.
        per = ", ".join(f"{l['licensee']} {pct(l['accuracy'])}"
                        + (f" ({100 * (l['accuracy'] - l['original_accuracy']):+.1f})" if "original_accuracy" in l
                           else "") for l in lock["licensees"])
        rk = r.get("rekey")
        rekey = "-"
        if rk:
            old = rk["old_licences"][0]["old_licence_accuracy"]
            rekey = f"{pct(old)} / {pct(rk['licensees'][0]['accuracy'])}"
            if r.get("rekey_original"):
                rekey += " (from the original)"
        forged = pct(lock["worst_forgery"]) + (f" ({pct(lock['forgery_mean'])})" if "forgery_mean" in lock else "")
        if "worst_forgery_fresh" in lock:  # the five best measured again on the test images they were not picked on
            forged += f"; again {pct(lock['worst_forgery_fresh'])}"
        print(f"| {r['model']} | {r['seed']} | {r['settings'] or 'defaults'} | {pct(lock['original_accuracy'])} | "
              f"{per} | {pct(lock['without_licence'])} | {forged} | {rekey} | "
              f"{lock['seconds']:.1f} | {rk['seconds'] if rk else 0:.1f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cli")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--licensees", default="alice;bob:classes=0-4;carol:coarse")
    ap.add_argument("--settings", default="", help='extra licence flags, e.g. "--pattern=noise --amplitude=32"')
    ap.add_argument("--forgeries", type=int, default=1000)
    ap.add_argument("--eval-samples", type=int, default=0)
    ap.add_argument("--results", default="licences.jsonl")
    ap.add_argument("--no-rekey", action="store_true")
    ap.add_argument("--rekey-epochs", type=int, default=0, help="the re-key's epochs (0: the registry's)")
    ap.add_argument("--rekey-original", action="store_true",
                    help="re-key from the original model (licence rekey --original) instead of in place")
    ap.add_argument("--keep", default="", help="a folder to keep the licensed models and registries in")
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
            key = (os.path.basename(model), seed, " ".join(settings), a.rekey_original)
            if any((r["model"], r["seed"], r["settings"], r.get("rekey_original", False)) == key for r in done):
                continue
            row = measure(a.cli, model, extra, seed, a.licensees.split(";"), settings, a.forgeries,
                          a.eval_samples, not a.no_rekey, a.rekey_epochs, a.keep, a.rekey_original)
            done.append(row)
            with open(a.results, "a") as f:
                f.write(json.dumps(row) + "\n")
    table(done)


if __name__ == "__main__":
    main()
