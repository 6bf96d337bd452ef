#!/usr/bin/env python3
"""Regenerates docs/performance.md: every figure in it comes from this one command.

    cargo build --release --bin gradscope
    python3 scripts/perf_report.py --python ~/torchenv/bin/python   # about 15 minutes on 2 cores

What it measures, all on this machine, runs alternating so that all see the same machine state:

1. the step against the PyTorch peer (`../shared/peers/torch_mlp_bench.py`): depth 32, batch 128,
   widths 64, 256 and 1024, modes `plain` and `full` (`scripts/bench_vs_torch.py` does the same
   cell by cell for any grid);
2. what recording costs, ours alone, at widths 64 and 256: `gradnorms`, `full` with the backward
   hook, `full` with the zero-leaf reference tap, and `full` without each optional part;
3. where the time of a `plain` step goes at widths 256 and 1024 (`perf record -e cpu-clock`, when
   `perf` is installed), grouped by who owns the code;
4. the machine: CPU model, the vector extensions its flags list, thread count, versions.

`--no-torch` leaves the peer out (its columns then say "-"). `--out` writes elsewhere. The page is
written to a temporary file and renamed over the old one when everything has been measured.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_vs_torch import cell_args, flops, run_json, steps_for  # noqa: E402

DEPTH = 32
BATCH = 128
WIDTHS = [64, 256, 1024]
TARGETS = {64: 0.5, 256: 1.0, 1024: 1.3}  # ours / torch, full mode
OVERHEAD_TARGET = 1.10  # ours full / ours plain, widths 64 and 256


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine(python):
    info = {"model": "unknown", "flags": [], "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        if m:
            info["model"] = m.group(1).strip()
        m = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
        if m:
            flags = m.group(1).split()
            keep = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2")
            info["flags"] = sorted({f for f in flags if f in keep or f.startswith("avx512")})
    except OSError:
        pass
    info["rustc"] = sh(["rustc", "--version"])
    lock = open("Cargo.lock").read() if os.path.exists("Cargo.lock") else ""
    m = re.search(r'name = "burn"\nversion = "([^"]+)"', lock)
    info["burn"] = m.group(1) if m else "?"
    info["torch"] = sh([python, "-c", "import torch; print(torch.__version__)"]) if python else ""
    info["kernel"] = platform.release()
    return info


def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def ours(binary, depth, width, mode, steps, warm, env, extra=()):
    cell = cell_args(depth, width, BATCH, mode, steps, warm)
    return run_json([binary, "--device", "flex", "bench", *cell, *extra, "--json"], env)


def torch(python, peer, depth, width, mode, steps, warm, env, threads):
    cell = cell_args(depth, width, BATCH, mode, steps, warm)
    return run_json([python, peer, *cell, "--threads", str(threads)], env)


def side_by_side(a, env):
    """Median ms/step per (impl, width, mode), alternating ours and torch."""
    out = {}
    for width in WIDTHS:
        steps = steps_for(DEPTH, width, BATCH, a.budget_gflop, a.min_steps)
        warm = max(3, steps // 10)
        for mode in ("plain", "full"):
            for rep in range(a.reps):
                r = ours(a.binary, DEPTH, width, mode, steps, warm, env)
                out.setdefault(("ours", width, mode), []).append(r["ms_per_step_median"])
                out.setdefault(("ours rss", width, mode), []).append(r["peak_rss_mib"])
                if a.python:
                    t = torch(a.python, a.peer, DEPTH, width, mode, steps, warm, env, a.threads)
                    out.setdefault(("torch", width, mode), []).append(t["ms_per_step_median"])
                    out.setdefault(("torch rss", width, mode), []).append(t["peak_rss_mib"])
            print(f"side by side: width {width} {mode}", file=sys.stderr)
    return {k: median(v) for k, v in out.items()}


RECORDING = [
    ("plain", "plain", []),
    ("gradnorms", "gradnorms", []),
    ("full (hook)", "full", []),
    ("full (zero-leaf tap)", "full", ["--tap", "zero-leaf"]),
    ("full without activation statistics", "full", ["--skip", "activation-stats"]),
    ("full without weight and spectral norms", "full", ["--skip", "weight-norms"]),
    ("full without update ratios", "full", ["--skip", "update-ratios"]),
    ("full, taps only", "full", ["--skip", "activation-stats,weight-norms,update-ratios"]),
]


def recording(a, env):
    out = {}
    for width in (64, 256):
        steps = max(a.min_steps, 400 if width == 64 else 60)
        for rep in range(a.reps + 1):
            for name, mode, extra in RECORDING:
                r = ours(a.binary, DEPTH, width, mode, steps, 5, env, extra)
                out.setdefault((name, width), []).append(r["ms_per_step_median"])
        print(f"recording: width {width}", file=sys.stderr)
    return {k: median(v) for k, v in out.items()}


GROUPS = [
    ("matrix-product kernels and packing (gemm)", re.compile(r"gemm|microkernel|matmul")),
    ("memory copies and fills (memmove, memset)", re.compile(r"memmove|memcpy|memset")),
    ("allocation (malloc, free)", re.compile(r"malloc|_int_free|cfree|free$|unlink_chunk|consolidate|\bmi_|_mi_")),
    ("page faults (fresh memory from the kernel)", re.compile(r"page_fault|clear_page|do_anonymous_page|handle_mm_fault|unmap_page")),
    ("element-wise and reductions (burn-flex)", re.compile(r"burn_flex")),
    ("autodiff bookkeeping (burn-autodiff)", re.compile(r"burn_autodiff")),
    ("gradscope", re.compile(r"gradscope")),
    ("thread pool and scheduler", re.compile(r"rayon|sched|futex|finish_task_switch|yield|spin")),
]


def profile(a, env, width):
    if not shutil.which("perf"):
        return None
    steps = 60 if width == 256 else 20
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "perf.data")
        rec = subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "2000", "-o", data, a.binary,
                              "--device", "flex", "bench", "--depth", str(DEPTH), "--width", str(width),
                              "--batch", str(BATCH), "--mode", "plain", "--steps", str(steps),
                              "--warmup", "2", "--json"], env=env, capture_output=True, text=True)
        if rec.returncode != 0:
            return None
        rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "symbol",
                              "--stdio"], capture_output=True, text=True)
    shares = {}
    top = []
    for line in rep.stdout.splitlines():
        m = re.match(r"\s+([0-9.]+)%\s+\[[.k]\]\s+(.+?)\s*$", line)
        if not m:
            continue
        pct, sym = float(m.group(1)), m.group(2).strip()
        sym = re.sub(r"\s+-\s+-\s*$", "", sym).strip()
        if len(top) < 8:
            top.append((pct, sym[:90]))
        group = next((g for g, rx in GROUPS if rx.search(sym)), "other")
        shares[group] = shares.get(group, 0.0) + pct
    return {"groups": shares, "top": top}


def fmt(x, digits=2):
    return "-" if x != x else f"{x:.{digits}f}"


def write(a, info, sbs, rec, profiles, started):
    L = []
    w = L.append
    w("# Performance")
    w("")
    w("<!-- Generated by `python3 scripts/perf_report.py`: edit the script, not this page. -->")
    w("")
    w("What one training step costs, with and without the diagnostics, measured side by side with")
    w("the PyTorch peer (`../shared/peers/torch_mlp_bench.py`) on the same machine, with the same")
    w("thread count, runs alternating. Every figure on this page comes from one command:")
    w("")
    w("```sh")
    w("cargo build --release --bin gradscope")
    w("python3 -m venv ~/torchenv && ~/torchenv/bin/pip install torch numpy      # about 3 GB")
    w("python3 scripts/perf_report.py --python ~/torchenv/bin/python")
    w("```")
    w("")
    w(f"Measured {started} ({a.reps} alternating repetitions per cell, medians; about "
      f"{a.budget_gflop:g} GFLOP of work per timed run, at least {a.min_steps} steps).")
    w("")
    w("## The machine")
    w("")
    w(f"- CPU: {info['model']}, {info['cores']} logical cores, {a.threads} compute threads "
      f"(`RAYON_NUM_THREADS`, `OMP_NUM_THREADS`, `torch.set_num_threads`).")
    w(f"- CPU flags (vector extensions): {' '.join(info['flags']) or 'unknown'}.")
    w(f"- {info['rustc']}, burn {info['burn']}, release profile, default build (mimalloc as the "
      f"global allocator, no `x86-v4`); Linux {info['kernel']}.")
    if a.python:
        w(f"- PyTorch {info['torch']} (the PyPI wheel), in a virtual environment outside the "
          "repository: the project does not depend on it.")
    w("")
    w("The model is the peer's: `depth` Linear layers `width → width`, ReLU between them,")
    w("He-normal weights, zero biases, batch 128, MSE against a fixed tanh teacher, plain SGD; a")
    w("step costs about 6·batch·depth·width² FLOPs. `plain` is forward, backward, SGD step and the")
    w("loss read back; `full` is ours recording everything the recorder writes at cadence 1")
    w("(activation-gradient norms through the backward hook, activation mean, spread and dead")
    w("fraction, weight- and bias-gradient norms, weight norms, spectral norms by one warm power")
    w("iteration, update-to-weight ratios, the global gradient norm), and the peer's `full` a")
    w("subset of it (gradient norms, activation-gradient norms through hooks, activation mean and")
    w("std).")
    w("")
    w(f"## Ours against PyTorch (depth {DEPTH}, batch {BATCH})")
    w("")
    w("| width | plain, ours / torch | full, ours / torch | ours full / ours plain | "
      "torch full / torch plain | ours plain, full (ms) | torch plain, full (ms) | "
      "full GFLOP/s, ours / torch | full peak RSS (MiB), ours / torch |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for width in WIDTHS:
        op, of = sbs.get(("ours", width, "plain"), float("nan")), sbs.get(("ours", width, "full"), float("nan"))
        tp, tf = sbs.get(("torch", width, "plain"), float("nan")), sbs.get(("torch", width, "full"), float("nan"))
        f = flops(DEPTH, width, BATCH)
        w(f"| {width} | {fmt(op / tp)} | {fmt(of / tf)} | {fmt(of / op)} | {fmt(tf / tp)} | "
          f"{fmt(op)}, {fmt(of)} | {fmt(tp)}, {fmt(tf)} | "
          f"{fmt(f / (of * 1e-3) / 1e9, 0)} / {fmt(f / (tf * 1e-3) / 1e9, 0)} | "
          f"{fmt(sbs.get(('ours rss', width, 'full'), float('nan')), 0)} / "
          f"{fmt(sbs.get(('torch rss', width, 'full'), float('nan')), 0)} |")
    w("")
    w("## Targets")
    w("")
    w("| target | measured | |")
    w("| --- | ---: | --- |")
    for width in WIDTHS:
        of, tf = sbs.get(("ours", width, "full"), float("nan")), sbs.get(("torch", width, "full"), float("nan"))
        r = of / tf
        verdict = "-" if r != r else ("met" if r <= TARGETS[width] else "missed")
        w(f"| width {width}: full, ours / torch ≤ {TARGETS[width]} | {fmt(r)} | {verdict} |")
    for width in (64, 256):
        r = sbs.get(("ours", width, "full"), float("nan")) / sbs.get(("ours", width, "plain"), float("nan"))
        verdict = "-" if r != r else ("met" if r <= OVERHEAD_TARGET else "missed")
        w(f"| width {width}: recording overhead, ours full / ours plain ≤ {OVERHEAD_TARGET} | {fmt(r)} | {verdict} |")
    w("| the same records, bit for bit, on 1 and 2 threads | tests "
      "`reruns_are_byte_identical_across_thread_counts`, "
      "`flex_matrix_products_are_the_same_bits_on_any_thread_count` | checked by `cargo test` |")
    w("")
    w(f"## What recording costs (ours alone, depth {DEPTH}, time over `plain`)")
    w("")
    w("Each row a median of alternating runs (400 steps at width 64, 60 at 256). The zero-leaf tap")
    w("is the reference implementation the backward hook replaced (`gradscope bench --tap")
    w("zero-leaf`); `--skip` leaves parts of `full` out.")
    w("")
    w("| variant | width 64 | width 256 |")
    w("| --- | ---: | ---: |")
    for name, _, _ in RECORDING:
        cells = []
        for width in (64, 256):
            base = rec.get(("plain", width), float("nan"))
            v = rec.get((name, width), float("nan"))
            cells.append(f"{fmt(v / base)} ({fmt(v)} ms)")
        w(f"| {name} | {' | '.join(cells)} |")
    w("")
    w("## Where the time of a `plain` step goes")
    w("")
    if not any(profiles.values()):
        w("(`perf` is not installed on the machine that made this page: no profile.)")
    for width, p in profiles.items():
        if not p:
            continue
        w(f"`perf record -e cpu-clock` of `gradscope bench --mode plain --depth {DEPTH} --width "
          f"{width}`, share of all samples (both threads):")
        w("")
        w("| owner | share |")
        w("| --- | ---: |")
        for group, share in sorted(p["groups"].items(), key=lambda kv: -kv[1]):
            w(f"| {group} | {share:.1f} % |")
        w("")
        w("Top symbols: " + "; ".join(f"`{s}` {pct:.1f} %" for pct, s in p["top"]) + ".")
        w("")
    w("How to read it. The matrix products are burn-flex's, through the `gemm` crate, on both")
    w("threads (burn-flex's `rayon` feature, with the training loop itself running on a thread of")
    w("the pool). The thread-pool row is the second thread waiting for the next product and")
    w("being woken for it (rayon's workers yield, then sleep, between jobs): at width 256 the")
    w("element-wise work between products runs on one thread, so much of that row is a core with")
    w("nothing to do, and the rest is the hand-over's latency, which a step does pay. Copies,")
    w("fills and allocation around them are burn-flex's allocation of every output")
    w("(`FlexTensor::empty` zeroes a byte vector that `Bytes::from_bytes_vec` then copies into an")
    w("aligned buffer), which no caller of burn's tensor API can avoid; the element-wise and")
    w("autodiff rows are burn's own passes (bias, activation, their backward) and its tape; the")
    w("page-fault row is memory the allocator returned to the kernel and asked for again (glibc's")
    w("malloc does that for every buffer over 128 KiB, which is why the binary uses mimalloc). What")
    w("is ours in a `plain` step is the `gradscope` row; the bench's set-up (drawing the weights)")
    w("falls under `other`.")
    w("")
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(L))
    os.replace(tmp, a.out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--python", help="interpreter with torch installed (omit with --no-torch)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--peer", default="../shared/peers/torch_mlp_bench.py")
    p.add_argument("--binary", default="target/release/gradscope")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--budget-gflop", type=float, default=4.0)
    # Runs of 30 steps at width 256 (half a second) were each caught whole by this VM's slow
    # intervals, often enough to move a median of three; 80 steps were not.
    p.add_argument("--min-steps", type=int, default=80)
    p.add_argument("--out", default="docs/performance.md")
    p.add_argument("--json", help="also keep the raw medians here")
    a = p.parse_args()
    if a.no_torch:
        a.python = None
    elif not a.python:
        sys.exit("--python is required unless --no-torch")
    if not os.path.exists(a.binary):
        sys.exit(f"{a.binary} not found: run `cargo build --release --bin gradscope` first")
    env = dict(os.environ)
    t = str(a.threads)
    env.update(OMP_NUM_THREADS=t, MKL_NUM_THREADS=t, RAYON_NUM_THREADS=t)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine(a.python)
    sbs = side_by_side(a, env)
    rec = recording(a, env)
    profiles = {w: profile(a, env, w) for w in (256, 1024)}
    write(a, info, sbs, rec, profiles, started)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": info,
                       "side_by_side": {f"{k[0]} {k[1]} {k[2]}": v for k, v in sbs.items()},
                       "recording": {f"{k[0]} @ {k[1]}": v for k, v in rec.items()},
                       "profiles": profiles}, f, indent=1)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
