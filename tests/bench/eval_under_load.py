#!/usr/bin/python3
"""`paramlock-cli evaluate` alone and beside one busy process, in interleaved rounds, and the ratio of each round's
shared time to its own alone time (the command's wall time, and the evaluation's own time that `--json` reports), all in one run (the machine's own drift between rounds cancels within a round).

The busy process is one CPU-bound loop (`yes > /dev/null`), as the performance issue asks: "with one busy process
beside it, evaluate takes at most 1.5 x its time alone". Each round runs alone first, then beside the loop; the
order alternates between rounds so that a slow trend does not favour either.

Usage: eval_under_load.py CLI MODEL [--samples 3000] [--rounds 3] [--extra=--threads=2,...]
Example: tests/bench/eval_under_load.py build/app/cli/paramlock-cli resources/models/densenet-fmnist.pt
"""
import argparse
import json
import statistics
import subprocess
import time


def evaluate(cli, model, samples, extra):
    cmd = [cli, "evaluate", "-m", model, "-d", "fashion-mnist", "--eval-samples", str(samples), "--json"] + extra
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.monotonic() - start
    report = json.loads(out)
    return seconds, report.get("threads"), report.get("seconds")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cli")
    p.add_argument("model")
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--extra", default="", help="comma-separated extra flags for evaluate, e.g. --extra=--threads=2")
    a = p.parse_args()
    extra = [f for f in a.extra.split(",") if f]
    print("| round | alone: wall s / evaluation s (threads) | beside one busy process: wall s / evaluation s (threads) "
          "| ratio of wall / evaluation |")
    print("|---|---|---|---|")
    ratios = []
    for r in range(a.rounds):
        times = {}
        for shared in ([False, True] if r % 2 == 0 else [True, False]):
            busy = subprocess.Popen("exec yes > /dev/null", shell=True) if shared else None
            try:
                if busy:
                    time.sleep(0.5)  # let the loop take its core before the program counts the free ones
                times[shared] = evaluate(a.cli, a.model, a.samples, extra)
            finally:
                if busy:
                    busy.kill()
                    busy.wait()
        alone, shared = times[False], times[True]
        ratio = shared[0] / alone[0]
        inner = shared[2] / alone[2]
        ratios.append((ratio, inner))
        print(f"| {r + 1} | {alone[0]:.2f} / {alone[2]:.2f} ({alone[1]}) | {shared[0]:.2f} / {shared[2]:.2f} "
              f"({shared[1]}) | {ratio:.2f} / {inner:.2f} |", flush=True)
    for i, name in enumerate(["wall time", "evaluation time"]):
        values = [x[i] for x in ratios]
        print(f"{name}: median ratio {statistics.median(values):.2f}, range {min(values):.2f}-{max(values):.2f} "
              f"over {len(values)} rounds (target: at most 1.5)")


if __name__ == "__main__":
    main()
