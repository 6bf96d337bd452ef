#!/usr/bin/env python3
"""Side-by-side benchmark: `gradscope bench` against the PyTorch peer, cell by cell.

Runs every variant of ours and PyTorch alternately (ours, torch, ours, torch, ...) on the same
machine with the same thread count, so that all see the same machine state, and prints a Markdown
table of medians and ours/torch ratios. Only the Python standard library is needed here; PyTorch
is needed only by the peer script, in whatever interpreter `--python` names (a virtual environment
outside the repository: the project does not depend on it).

    python3 scripts/bench_vs_torch.py --python ~/torchenv/bin/python \\
        --peer ../shared/peers/torch_mlp_bench.py --reps 2 --out bench-vs-torch.jsonl

A variant is NAME=BINARY:DEVICE[:VAR=VALUE,...], for example
`--variant flex=target/release/gradscope:flex`
`--variant ndarray-openblas=target-openblas/release/gradscope:ndarray`
`--variant flex-glibc-malloc=target/release/gradscope:flex:GRADSCOPE_MALLOC=default`
(default: one variant, `flex`, the release binary on the default backend). `--no-torch` leaves
the peer out (then the ratios are to the first variant).

Each line of `--out` is one measurement: {"impl": NAME|"torch", "rep": r, ...the tool's JSON}.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys


def flops(depth, width, batch):
    return 6.0 * batch * depth * width * width


def steps_for(depth, width, batch, budget_gflop, min_steps):
    gflop = flops(depth, width, batch) / 1e9
    return int(max(min_steps, min(200, budget_gflop / max(gflop, 1e-3))))


def cell_args(depth, width, batch, mode, steps, warmup):
    """The arguments naming one cell, the same for `gradscope bench` and the peer."""
    return ["--depth", str(depth), "--width", str(width), "--batch", str(batch), "--mode", mode,
            "--steps", str(steps), "--warmup", str(warmup)]


def run_json(cmd, env):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"no JSON line from: {' '.join(cmd)}\n{out.stdout[-2000:]}")
    return json.loads(lines[-1])


def parse_variant(text):
    name, _, rest = text.partition("=")
    parts = rest.split(":")
    if not name or len(parts) < 2:
        sys.exit(f"--variant {text}: expected NAME=BINARY:DEVICE[:VAR=VALUE,...]")
    extra = {}
    if len(parts) > 2 and parts[2]:
        for kv in parts[2].split(","):
            k, _, v = kv.partition("=")
            extra[k] = v
    return name, parts[0], parts[1], extra


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--python", help="interpreter with torch installed")
    p.add_argument("--peer", default="../shared/peers/torch_mlp_bench.py")
    p.add_argument("--variant", action="append", default=[], help="NAME=BINARY:DEVICE[:VAR=VALUE,...]")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--depths", default="8,32,64")
    p.add_argument("--widths", default="64,256,1024")
    p.add_argument("--modes", default="plain,gradnorms,full")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=2, help="alternating repetitions per cell")
    p.add_argument("--budget-gflop", type=float, default=4.0, help="work per timed run")
    p.add_argument("--min-steps", type=int, default=10)
    p.add_argument("--mmpeak", action="store_true", help="also time torch.mm at each width")
    p.add_argument("--out", default="bench-vs-torch.jsonl")
    a = p.parse_args()
    variants = [parse_variant(v) for v in (a.variant or ["flex=target/release/gradscope:flex"])]
    use_torch = not a.no_torch
    if use_torch and not a.python:
        sys.exit("--python is required unless --no-torch")

    base_env = dict(os.environ)
    t = str(a.threads)
    base_env.update(OMP_NUM_THREADS=t, MKL_NUM_THREADS=t, RAYON_NUM_THREADS=t)
    depths = list(map(int, a.depths.split(",")))
    widths = list(map(int, a.widths.split(",")))
    modes = a.modes.split(",")
    rows = []
    with open(a.out, "w") as out:
        def keep(impl, rep, res):
            res = dict(res, impl=impl, rep=rep)
            out.write(json.dumps(res) + "\n")
            out.flush()
            rows.append(res)

        for depth in depths:
            for width in widths:
                for mode in modes:
                    steps = steps_for(depth, width, a.batch, a.budget_gflop, a.min_steps)
                    warm = max(3, steps // 10)
                    cell = cell_args(depth, width, a.batch, mode, steps, warm)
                    for rep in range(a.reps):
                        for name, binary, device, extra in variants:
                            env = dict(base_env, **extra)
                            keep(name, rep, run_json([binary, "--device", device, "bench", *cell, "--json"], env))
                        if use_torch:
                            keep("torch", rep, run_json([a.python, a.peer, *cell, "--threads", t], base_env))
                    print(f"done d{depth} w{width} {mode}", file=sys.stderr)
        if a.mmpeak and use_torch:
            for width in widths:
                keep("torch", 0, run_json([a.python, a.peer, "--mode", "mmpeak", "--width", str(width),
                                           "--threads", t], base_env))

    def pick(impl, d, w, m):
        return [r for r in rows if r["impl"] == impl and r.get("depth") == d and r.get("width") == w
                and r.get("mode") == m]

    def med(impl, d, w, m):
        v = [r["ms_per_step_median"] for r in pick(impl, d, w, m)]
        return statistics.median(v) if v else float("nan")

    ref = "torch" if use_torch else variants[0][0]
    names = [v[0] for v in variants]
    head = ["depth", "width", "mode"]
    for n in names:
        head += [f"{n} (ms)"] + ([f"{n}/{ref}"] if n != ref else []) + [f"{n} GFLOP/s"]
    if use_torch:
        head += ["torch (ms)", "torch GFLOP/s"]
    head += [f"{n} RSS (MiB)" for n in names] + (["torch RSS (MiB)"] if use_torch else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join([" ---: "] * len(head)) + "|")
    for depth in depths:
        for width in widths:
            for mode in modes:
                f = flops(depth, width, a.batch)
                r = med(ref, depth, width, mode)
                cells = [str(depth), str(width), mode]
                for n in names:
                    o = med(n, depth, width, mode)
                    cells += [f"{o:.2f}"] + ([f"{o / r:.2f}"] if n != ref else []) + [f"{f / (o * 1e-3) / 1e9:.1f}"]
                if use_torch:
                    cells += [f"{r:.2f}", f"{f / (r * 1e-3) / 1e9:.1f}"]
                for n in names + (["torch"] if use_torch else []):
                    rss = [x["peak_rss_mib"] for x in pick(n, depth, width, mode)]
                    cells.append(f"{max(rss):.0f}" if rss else "-")
                print("| " + " | ".join(cells) + " |")
    if a.mmpeak and use_torch:
        for r in rows:
            if r.get("mode") == "mmpeak":
                print(f"\ntorch.mm {r.get('n')}x{r.get('n')}, {t} threads: "
                      f"{r.get('gflops_median', float('nan')):.1f} GFLOP/s median, "
                      f"{r.get('gflops_best', float('nan')):.1f} best")


if __name__ == "__main__":
    main()
