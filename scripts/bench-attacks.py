#!/usr/bin/env python3
"""The hardening figures of docs/benchmarks.md, from release runs of `talos-sim`.

1. Honest propagation with and without the attackers: `simulator/scenarios/attacks.toml` run
   with the same seed twice, once with `--without-adversaries`; p50/p99 of the time until a
   block reached every live honest node, per arrival too, and the ratio.
2. CPU per attacker message: the CPU time (user + system) of the whole run under attack minus
   the baseline run's, divided by the hostile messages the attackers sent. Honest nodes and
   attackers share one process, so this charges the attackers' own work (mining the warp
   branch, mutating copies) to the defence: an upper bound on what a message costs a node.
3. Disk growth under the time warper: `attacks.toml` with only its time-warp adversary, at
   two rates ten times apart; the most side-branch blocks one honest node stores
   (`talos_side_blocks`) against the warp blocks sent.

Usage: scripts/bench-attacks.py [--seed N] [--skip-warp] [--out DIR] (builds talos-sim in
release first; run outputs, reports and plots, stay in DIR, default target/bench-attacks).
"""

import argparse
import json
import os
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "simulator", "scenarios", "attacks.toml")
SIM = os.path.join(ROOT, "target", "release", "talos-sim")


def run(scenario, out, seed, *extra):
    """Runs one scenario; returns (record, report, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [SIM, "run", scenario, "--out", out, "--seed", str(seed), *extra],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(os.path.join(out, "report.json")) as f:
        data = json.load(f)
    return data["record"], data["report"], cpu


def warp_only(rate, tmp):
    """attacks.toml with only its time-warp adversary, at `rate` blocks per second."""
    text = open(SCENARIO).read()
    head, *blocks = text.split("[[adversaries]]")
    tail = blocks[-1].split("[expect]")[1]
    warp = [b for b in blocks if 'kind = "time-warp"' in b][0].split("[expect]")[0]
    warp = "\n".join(
        f"rate_per_s = {rate}" if line.startswith("rate_per_s") else line
        for line in warp.splitlines()
    )
    path = os.path.join(tmp, f"warp-{rate}.toml")
    with open(path, "w") as f:
        f.write(head + "[[adversaries]]" + warp + "\n[expect]" + tail)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--skip-warp", action="store_true", help="only the propagation runs")
    parser.add_argument(
        "--out", default=os.path.join(ROOT, "target", "bench-attacks"), help="run outputs"
    )
    args = parser.parse_args()
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "talos-simulator"], cwd=ROOT, check=True
    )
    tmp = os.path.join(args.out, f"seed-{args.seed}")
    os.makedirs(tmp, exist_ok=True)
    if True:
        rec_a, rep_a, cpu_a = run(SCENARIO, os.path.join(tmp, "a"), args.seed)
        rec_b, rep_b, cpu_b = run(
            SCENARIO, os.path.join(tmp, "b"), args.seed, "--without-adversaries"
        )
        sent = sum(a["sent"] for a in rec_a["attackers"])
        print(f"seed {args.seed}, {rec_a['nodes']} honest nodes")
        print("propagation (ms)         p50      p99   arrival p50  arrival p99")
        for name, rep in (("without attackers", rep_b), ("with attackers", rep_a)):
            p, a = rep["propagation"], rep["arrival"]
            print(
                f"  {name:<20} {p['p50']:7.1f}  {p['p99']:7.1f}  {a['p50']:11.1f}  {a['p99']:11.1f}"
            )
        for q in ("p50", "p99"):
            ratio = rep_a["propagation"][q] / rep_b["propagation"][q]
            print(f"  {q} with / without     {ratio:.3f} ({(ratio - 1) * 100:+.1f} %)")
        slow = max(
            (b for b in rec_a["blocks"] if b.get("complete_ms") is not None),
            key=lambda b: b["complete_ms"],
        )
        attack_start = min(
            (m["t_ms"] for m in rec_a["marks"] if "×" in m["label"]), default=0.0
        )
        print(
            f"  slowest block under attack: {slow['complete_ms']:.1f} ms, produced at "
            f"{slow['produced_ms'] / 1000:.1f} s (attackers start at {attack_start / 1000:.1f} s)"
        )
        print("attackers")
        for a in rec_a["attackers"]:
            print(f"  {a['kind']:<16} sent {a['sent']:>6}  banned by {a['banned_by']:>2} of {a['contacted']} met")
        extra = cpu_a - cpu_b
        print(
            f"CPU: {cpu_a:.1f} s under attack, {cpu_b:.1f} s without; {extra:.1f} s for "
            f"{sent} hostile messages = {extra / max(sent, 1) * 1e6:.0f} µs per message"
        )
        if args.skip_warp:
            return 0
        print("time warper alone: side-branch blocks stored by one node")
        for rate in (5, 50):
            rec, _, _ = run(warp_only(rate, tmp), os.path.join(tmp, f"w{rate}"), args.seed)
            warp = sum(a["sent"] for a in rec["attackers"])
            print(
                f"  {rate:>3} blocks/s: {warp:>5} warp blocks sent, at most "
                f"{rec['outcome']['max_side_blocks']} side blocks stored, "
                f"{rec['outcome']['tip_height']} honest blocks"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
