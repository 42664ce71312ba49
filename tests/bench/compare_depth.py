#!/usr/bin/python3
"""Strong mode stopped at 0.8 x random guess vs driven on until the encryption set is (almost) always wrong.

Usage: compare_depth.py CLI MODEL DATA [--seeds 0,1,2] [--eval-samples 2000]
Prints a Markdown table; every number comes from paramlock-cli --json (the attacker holds 10% of the test set).
"""
import argparse
import sys
import tempfile
from pathlib import Path

from compare_modes import run  # the same paramlock-cli --json runner

LOCKS = [("default (stop at 0.8 x random guess, budget 32)", ["--max-weights", "32"]),
         ("deep (stop at 0.1% on D_e, budget 128)", ["--max-weights", "128", "--target-accuracy", "0.001"])]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cli")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--eval-samples", default="2000")
    a = p.parse_args()
    print("| lock | seed | n_e | locked % | adaptive global % (secret weights hit) | adaptive swap % (hit) "
          "| fine-tune 1 epoch % | 10 epochs % |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        model, key = str(Path(tmp) / "locked.pt"), str(Path(tmp) / "key.json")
        for name, flags in LOCKS:
            for seed in a.seeds.split(","):
                common = ["--data", a.data, "--seed", seed]
                lock = run(a.cli, "lock", "--model", a.model, "--out-model", model, "--out-key", key,
                           "--eval-samples", a.eval_samples, "--allow-weak", *common, *flags)
                attack = ["attack", "--model", model, "--key", key, *common]
                glob = run(a.cli, *attack, "--kind", "adaptive", "--variant", "global")
                swap = run(a.cli, *attack, "--kind", "adaptive", "--variant", "swap",
                           "--budget", str(max(64, lock["n_encrypted"])))
                ft = run(a.cli, "attack", "--model", model, *common, "--kind", "finetune", "--epochs", "10",
                         "--report-every", "1")
                at = {int(pt["x"]): pt["accuracy"] for pt in ft["points"]}
                hits = lambda r: f"{100 * r['accuracy_after']:.2f} ({r['secret_hits']})"
                cells = [f"{100 * lock['accuracy_after']:.2f}", hits(glob), hits(swap)] + \
                    [f"{100 * at[e]:.2f}" for e in (1, 10)]
                print(f"| {name} | {seed} | {lock['n_encrypted']} | " + " | ".join(cells) + " |", flush=True)
                print(f"done {name} {seed}", file=sys.stderr)


if __name__ == "__main__":
    main()
