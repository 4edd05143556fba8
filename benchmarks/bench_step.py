"""Time one training step of vae_np against PyTorch eager and HIPS autograd (issue #6).

    .venv/bin/python benchmarks/bench_step.py            # what `make bench` runs (~5-10 min)
    .venv/bin/python benchmarks/bench_step.py --quick    # smoke run, < 1 min

A step is what ``vn.fit`` does per minibatch: zero the gradients, forward, backward, one
Adam update (lr 1e-3), batch 128, on ``FullCovVAE(D, [H], m, "bernoulli", "tanh")``
(see ``benchmarks/models.py``). For each configuration (digits D=64 H=256 m=8 and
MNIST-size D=784 H=512 m=16, each in float64 and float32) the script

1. builds the model in vae_np, PyTorch and autograd from the same initial parameters and
   checks that the first two losses (before and after one Adam step) and the first
   gradients agree (float64 to 1e-12, float32 to 1e-5, relative);
2. times the three steps and "the step's matrix products alone" in interleaved blocks
   (the order rotates every block; each block starts after a short pause and untimed
   warm-up steps, so one library's idle threads do not spin into another's timing) and
   reports the median of the per-step times;
3. measures each framework's peak memory in a fresh subprocess;
4. sweeps the latent size m ∈ {2, 8, 16, 32, 64} at MNIST size (float64): step time
   against the step's matrix-product FLOPs, and peak memory;
5. prints the tables and the targets of the issue with PASS/FAIL, and writes
   ``results.json`` and ``results.md`` beside this file (``--quick``: ``results_quick.*``).

Torch and autograd are optional: a framework that does not import is skipped with a
message. Both NumPy's BLAS and PyTorch run ``--threads`` threads (default 2).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

import models  # noqa: E402
from models import Config, digits, mnist  # noqa: E402

NAMES = {"vae_np": "vae_np", "torch": "PyTorch 2.13 eager, CPU", "autograd": "HIPS autograd",
         "matmul": "the step's matrix products alone (NumPy)"}
SWEEP_M = (2, 8, 16, 32, 64)
TOL = {"float64": 1e-12, "float32": 1e-5}
GROWTH_SLACK = 1.10   # time/FLOP may exceed m=2's by 10 % before "grows faster than FLOPs" fails


# ---------------------------------------------------------------------------------------
# The machine
# ---------------------------------------------------------------------------------------
def set_threads(n: int) -> None:
    """n threads for NumPy's BLAS (threadpoolctl, a scikit-learn dependency) and for torch."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(n)
    except ImportError:
        pass


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(threads: int) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg):
        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    try:
        root = Path(__file__).resolve().parent.parent
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "vae_np"], capture_output=True,
                               text=True).stdout.strip()
        commit = (commit + (" with uncommitted changes in vae_np/" if dirty else "")) or None
    except OSError:
        commit = None
    info = {
        "commit": commit,
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "vae_np": ver("vae_np"), "torch": ver("torch"),
        "autograd": ver("autograd"), "threads": threads,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))},
    }
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                               for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------------------
# Agreement and timing
# ---------------------------------------------------------------------------------------
def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def check_agreement(cfg: Config, runners: dict, inputs: list) -> dict:
    """First and second losses and first gradients of every framework against vae_np's."""
    out = {}
    for name, r in runners.items():
        x, e = inputs[0]
        l1 = r.loss_value(r.step(r.convert(x), r.convert(e)))
        g = r.grads()
        x, e = inputs[1]
        l2 = r.loss_value(r.step(r.convert(x), r.convert(e)))
        out[name] = {"loss1": l1, "loss2": l2, "grads": g}
    ref = out["vae_np"]
    report = {"loss1": ref["loss1"], "tolerance": TOL[cfg.dtype], "frameworks": {}}
    for name, o in out.items():
        if name == "vae_np":
            continue
        gerr = max(float(np.max(np.abs(o["grads"][k] - ref["grads"][k]))) / max(float(np.max(np.abs(ref["grads"][k]))), 1e-300)
                   for k in ref["grads"])
        d = {"loss1_rel": rel(o["loss1"], ref["loss1"]), "loss2_rel": rel(o["loss2"], ref["loss2"]), "grad_rel": gerr}
        d["ok"] = max(d.values()) <= TOL[cfg.dtype]
        report["frameworks"][name] = d
    return report


def time_interleaved(runners: dict, inputs: list, blocks: int, steps: int, warmup: int, pause: float) -> dict:
    """Per-step wall and CPU times of every runner, in ``blocks`` rotating blocks of ``steps``.

    The wall time is what the tables report. The CPU time (``time.process_time``, all
    threads of this process) is the work done: with one thread it barely changes when
    other processes compete for the cores, so ``--threads 1`` gives a comparison that
    survives a loaded machine; with two it also counts BLAS threads spinning while they
    wait for work.
    """
    feeds = {name: [(r.convert(x), r.convert(e)) for x, e in inputs] for name, r in runners.items()}
    counters = {name: 0 for name in runners}
    times: dict[str, list[float]] = {name: [] for name in runners}
    block_medians: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}   # CPU time of all the process's threads
    names = list(runners)
    for b in range(blocks):
        order = names[b % len(names):] + names[:b % len(names)]
        for name in order:
            step, feed = runners[name].step, feeds[name]
            time.sleep(pause)          # let the other libraries' worker threads go idle
            for _ in range(warmup):
                step(*feed[counters[name] % len(feed)])
                counters[name] += 1
            block = []
            for _ in range(steps):
                x, e = feed[counters[name] % len(feed)]
                counters[name] += 1
                c0, t0 = time.process_time(), time.perf_counter()
                step(x, e)
                t1, c1 = time.perf_counter(), time.process_time()
                block.append(t1 - t0)
                cpu[name].append(c1 - c0)
            times[name] += block
            block_medians[name].append(statistics.median(block))
    out = {}
    for name, ts in times.items():
        q = np.percentile(ts, [25, 50, 75])
        out[name] = {"median_ms": 1e3 * float(q[1]), "q25_ms": 1e3 * float(q[0]), "q75_ms": 1e3 * float(q[2]),
                     "cpu_median_ms": 1e3 * float(np.median(cpu[name])),
                     "block_median_ms": [round(1e3 * t, 4) for t in block_medians[name]], "n": len(ts)}
    return out


def build_runners(cfg: Config, skip: dict) -> tuple[dict, dict]:
    state = models.reference_model(cfg).state_dict()
    runners = {name: make(cfg, state) for name, make in models.FRAMEWORKS.items() if skip.get(name) is None}
    return runners, state


def bench_config(cfg: Config, skip: dict, opts) -> dict:
    print(f"\n== {cfg.label}  ({load()})", flush=True)
    inputs = models.make_inputs(cfg, 16)
    runners, state = build_runners(cfg, skip)
    agreement = check_agreement(cfg, runners, inputs)
    for name, d in agreement["frameworks"].items():
        print(f"   agreement {name:8s}: loss1 rel {d['loss1_rel']:.1e}, loss2 rel {d['loss2_rel']:.1e}, "
              f"grads rel {d['grad_rel']:.1e}  (tol {agreement['tolerance']:.0e}) {'ok' if d['ok'] else 'MISMATCH'}")
    runners["matmul"] = models.make_matmul_floor(cfg)
    load_start = os.getloadavg()
    timing = time_interleaved(runners, inputs, opts.blocks, opts.steps, opts.warmup, opts.pause)
    load_end = os.getloadavg()
    flops = models.matmul_flops(cfg)
    for name, t in timing.items():
        t["gflops"] = flops / (t["median_ms"] * 1e-3) / 1e9
        print(f"   {name:8s} {t['median_ms']:8.3f} ms/step  (IQR {t['q25_ms']:.3f}-{t['q75_ms']:.3f}; "
              f"CPU {t['cpu_median_ms']:.3f} ms; {t['gflops']:.1f} GFLOP/s of matmul work)", flush=True)
    return {"config": cfg.__dict__ | {"label": cfg.label}, "matmul_gflop": flops / 1e9,
            "n_params": int(sum(v.size for v in state.values())), "agreement": agreement, "timing": timing,
            "loadavg_start": [round(x, 2) for x in load_start], "loadavg_end": [round(x, 2) for x in load_end]}


# ---------------------------------------------------------------------------------------
# Peak memory, one fresh process per measurement
# ---------------------------------------------------------------------------------------
def _proc_status() -> dict[str, int]:
    """VmRSS and VmHWM (the peak resident set size) of this process, in KiB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    return out


def memory_child(spec: dict) -> dict:
    """Runs in its own process: how far training raises the peak resident set size.

    Setup (not counted): the imports (numpy, vae_np and the framework), four input
    batches and the reference parameters. Then freed memory is handed back to the system
    (``gc.collect()``, glibc's ``malloc_trim(0)``), the current RSS is the baseline, and
    the kernel's peak-RSS counter is reset (``/proc/self/clear_refs`` ← 5). The framework
    then builds its model (its own copy of the parameters) and optimizer and runs
    ``steps`` steps; the result is the peak RSS (VmHWM) minus the baseline. Where the
    counter cannot be reset it falls back to ``ru_maxrss`` growth (which can read 0 when
    setup peaked higher) and says so. For the NumPy frameworks tracemalloc, which sees
    every NumPy array, also gives the peak bytes allocated during three more steps on
    top of those alive between steps.
    """
    import ctypes

    set_threads(spec["threads"])
    cfg = Config(spec["data"], spec["D"], spec["H"], spec["m"], spec["dtype"])
    fw = spec["framework"]
    if fw == "torch":
        import torch  # noqa: F401
    elif fw == "autograd":
        import autograd.numpy  # noqa: F401
    inputs = models.make_inputs(cfg, 4)
    ref = models.reference_model(cfg)
    state = ref.state_dict()
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        base = _proc_status()["VmRSS"]
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        method = "VmHWM after clear_refs"
    except OSError:
        base, method = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"
    r = models.FRAMEWORKS[fw](cfg, state)
    feed = [(r.convert(x), r.convert(e)) for x, e in inputs]
    for i in range(spec["steps"]):
        r.step(*feed[i % len(feed)])
    peak = _proc_status()["VmHWM"] if method != "ru_maxrss" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"method": method, "baseline_mib": base / 1024, "peak_mib": peak / 1024, "peak_delta_mib": (peak - base) / 1024}
    if fw != "torch":
        import tracemalloc
        tracemalloc.start()
        r.step(*feed[0])
        tracemalloc.reset_peak()
        now = tracemalloc.get_traced_memory()[0]
        for i in range(3):
            r.step(*feed[i % len(feed)])
        # bytes allocated at the peak of a step, beyond those alive between steps
        out["traced_step_peak_mib"] = (tracemalloc.get_traced_memory()[1] - now) / 2**20
        tracemalloc.stop()
    return out


def measure_memory(cfg: Config, fw: str, steps: int, threads: int) -> dict | None:
    spec = {"framework": fw, "threads": threads, "steps": steps} | {k: getattr(cfg, k) for k in ("data", "D", "H", "m", "dtype")}
    proc = subprocess.run([sys.executable, str(Path(__file__)), "--memory-child", json.dumps(spec)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        print(f"   memory {fw} {cfg.key}: child failed:\n{proc.stderr[-2000:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def state_mib(cfg: Config) -> float:
    """Parameters, gradients and Adam's two moments: 4 arrays the size of the model."""
    n = sum(n_in * n_out + n_out for _, n_in, n_out in models.layers(cfg))
    return 4 * n * np.dtype(cfg.dtype).itemsize / 2**20


# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------
def fmt_ms(t: dict | None) -> str:
    return "–" if t is None else f"{t['median_ms']:.2f} ms"


def report(results: dict) -> str:
    info, cols = results["machine"], results["configs"]
    lines = [f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, shared), "
             f"{info['threads']} BLAS/torch threads; numpy {info['numpy']}, torch {info['torch']}, "
             f"autograd {info['autograd']}, Python {info['python']}; vae_np at commit {info.get('commit')}.",
             f"Load average at start {info['loadavg_start']}, at end {info.get('loadavg_end')}.",
             f"Command: `{results['command']}`", ""]
    if cols:
        head = "| median ms per step | " + " | ".join(
            f"{c['config']['data']} D={c['config']['D']} H={c['config']['H']} m={c['config']['m']}, {c['config']['dtype']}"
            for c in cols) + " |"
        lines += [head, "|---" * (len(cols) + 1) + "|"]
        for fw in ("vae_np", "torch", "autograd", "matmul"):
            lines.append(f"| {NAMES[fw]} | " + " | ".join(fmt_ms(c["timing"].get(fw)) for c in cols) + " |")

        def row(label, f):
            vals = []
            for c in cols:
                try:
                    vals.append(f(c))
                except (KeyError, TypeError, ZeroDivisionError):
                    vals.append("–")
            lines.append(f"| {label} | " + " | ".join(vals) + " |")

        t = lambda c, fw: c["timing"][fw]["median_ms"]  # noqa: E731
        row("CPU time per step, all threads: vae_np, PyTorch, autograd",
            lambda c: ", ".join(f"{c['timing'][fw]['cpu_median_ms']:.2f}" if fw in c["timing"] else "–"
                                for fw in ("vae_np", "torch", "autograd")))
        row("vae_np / PyTorch (target ≤ 1.0)", lambda c: f"{t(c, 'vae_np') / t(c, 'torch'):.2f}×")
        row("vae_np / PyTorch by CPU time", lambda c: f"{c['timing']['vae_np']['cpu_median_ms'] / c['timing']['torch']['cpu_median_ms']:.2f}×")
        row("autograd / vae_np (target ≥ 2)", lambda c: f"{t(c, 'autograd') / t(c, 'vae_np'):.2f}×")
        row("matrix products / vae_np step", lambda c: f"{t(c, 'matmul') / t(c, 'vae_np'):.0%}")
        row("matmul GFLOP/s: alone, in vae_np, in PyTorch",
            lambda c: f"{c['timing']['matmul']['gflops']:.1f}, {c['timing']['vae_np']['gflops']:.1f}, "
                      f"{c['timing']['torch']['gflops']:.1f}")
        row("peak memory over baseline, MiB: vae_np, PyTorch, autograd",
            lambda c: ", ".join(f"{c['memory'][fw]['peak_delta_mib']:.1f}" if c["memory"].get(fw) else "–"
                                for fw in ("vae_np", "torch", "autograd")))
        row("first-step loss, rel. diff. torch, autograd",
            lambda c: ", ".join(f"{c['agreement']['frameworks'][fw]['loss1_rel']:.0e}"
                                for fw in ("torch", "autograd") if fw in c["agreement"]["frameworks"]))
        lines.append("")
        lines.append("Load average (1 min) during each column: " + "; ".join(
            f"{c['loadavg_start'][0]:.2f} → {c['loadavg_end'][0]:.2f}" for c in cols) + ".")
        lines.append("")
    sw = results.get("sweep")
    if sw:
        lines += ["Latent size sweep, MNIST-size (D=784, H=512, B=128), float64. `time/FLOP vs m=2` is "
                  "(t(m)/F(m)) / (t(2)/F(2)) for vae_np: ≤ 1 means the step grows no faster than its "
                  "matrix-product FLOPs F. Memory: peak RSS growth in a fresh process, MiB "
                  "(params + grads + Adam moments alone take the `4P` column).", "",
                  "| m | matmul GFLOP | vae_np | PyTorch | autograd | matrix products | vae_np time/FLOP vs m=2 "
                  "| vae_np / PyTorch | memory vae_np | memory PyTorch | memory autograd | 4P |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        t2 = sw[0]["timing"]["vae_np"]["median_ms"] / sw[0]["matmul_gflop"]
        for s in sw:
            tm = s["timing"]
            mem = lambda fw: (f"{s['memory'][fw]['peak_delta_mib']:.1f}" if s.get("memory", {}).get(fw) else "–")  # noqa: E731
            ratio = f"{tm['vae_np']['median_ms'] / tm['torch']['median_ms']:.2f}×" if "torch" in tm else "–"
            lines.append(
                f"| {s['config']['m']} | {s['matmul_gflop']:.3f} | {fmt_ms(tm.get('vae_np'))} | {fmt_ms(tm.get('torch'))} "
                f"| {fmt_ms(tm.get('autograd'))} | {fmt_ms(tm.get('matmul'))} "
                f"| {tm['vae_np']['median_ms'] / s['matmul_gflop'] / t2:.2f} | {ratio} | {mem('vae_np')} | {mem('torch')} "
                f"| {mem('autograd')} | {s['state_mib']:.1f} |")
        lines.append("")
    lines += ["| target | result |", "|---|---|"]
    for tg in results["targets"]:
        lines.append(f"| {tg['target']} | **{tg['status']}**: {tg['detail']} |")
    if results.get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k} ({v})" for k, v in results["skipped"].items())]
    return "\n".join(lines) + "\n"


def targets(results: dict) -> list[dict]:
    out = []
    cols = results["configs"]

    def add(target, values, ok, fmt):
        if not values:
            out.append({"target": target, "status": "NOT RUN", "detail": "framework or section skipped"})
            return
        out.append({"target": target, "status": "PASS" if all(ok(v) for v in values.values()) else "FAIL",
                    "detail": ", ".join(f"{k}: {fmt(v)}" for k, v in values.items())})

    t = lambda c, fw: c["timing"][fw]["median_ms"]  # noqa: E731
    key = lambda c: f"{c['config']['data']} {c['config']['dtype']}"  # noqa: E731
    add("vae_np step ≤ 1.0× PyTorch eager, all four columns",
        {key(c): t(c, "vae_np") / t(c, "torch") for c in cols if "torch" in c["timing"]},
        lambda v: v <= 1.0, lambda v: f"{v:.2f}×")
    add("vae_np at least 2× faster than HIPS autograd",
        {key(c): t(c, "autograd") / t(c, "vae_np") for c in cols if "autograd" in c["timing"]},
        lambda v: v >= 2.0, lambda v: f"{v:.2f}×")
    sw = results.get("sweep") or []
    if sw:
        t2 = sw[0]["timing"]["vae_np"]["median_ms"] / sw[0]["matmul_gflop"]
        vals = {f"m={s['config']['m']}": s["timing"]["vae_np"]["median_ms"] / s["matmul_gflop"] / t2 for s in sw[1:]}
    else:
        vals = {}
    add(f"step time grows with m no faster than matmul FLOPs (time/FLOP ≤ {GROWTH_SLACK:.2f} × m=2's)",
        vals, lambda v: v <= GROWTH_SLACK, lambda v: f"{v:.2f}")
    mem = {}
    for c in cols + sw:
        m = c.get("memory") or {}
        if m.get("vae_np") and m.get("torch"):
            mem[f"{c['config']['data']} m={c['config']['m']} {c['config']['dtype']}"] = (
                m["vae_np"]["peak_delta_mib"], m["torch"]["peak_delta_mib"])
    add("peak memory below PyTorch's", mem, lambda v: v[0] < v[1], lambda v: f"{v[0]:.1f} vs {v[1]:.1f} MiB")
    agree = {f"{key(c)} {fw}": d["ok"] for c in cols for fw, d in c["agreement"]["frameworks"].items()}
    add("first-step losses and gradients agree (float64 1e-12, float32 1e-5)", agree, bool,
        lambda v: "ok" if v else "MISMATCH")
    return out


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a smoke run: few steps, m ∈ {2, 16}, memory at MNIST size float64 only; < 1 minute")
    p.add_argument("--only", choices=("digits", "mnist"), help="run one size only")
    p.add_argument("--no-sweep", action="store_true", help="skip the latent-size sweep")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--threads", type=int, default=2, help="BLAS and torch threads (default 2)")
    p.add_argument("--blocks", type=int, help="timing blocks per framework (default 10; quick 3)")
    p.add_argument("--steps", type=int, help="timed steps per block (default 20; quick 5)")
    p.add_argument("--out", type=Path, help="stem of the result files (default benchmarks/results)")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    if opts.memory_child:
        print(json.dumps(memory_child(json.loads(opts.memory_child))))
        return 0

    q = opts.quick
    opts.blocks = opts.blocks or (3 if q else 10)
    opts.steps = opts.steps or (5 if q else 20)
    opts.warmup, opts.pause = (1, 0.05) if q else (2, 0.2)
    mem_steps = 5 if q else 20
    out_stem = opts.out or HERE / ("results_quick" if q else "results")

    skip = {k: v for k, v in models.available().items() if v is not None}
    for name, why in skip.items():
        print(f"{name} is not importable, its column is skipped ({why}); `make bench` installs it")
    set_threads(opts.threads)
    info = machine_info(opts.threads)
    print(f"{info['cpu']}, {info['cores']} cores; {info['threads']} threads; numpy {info['numpy']}, "
          f"torch {info['torch']}, autograd {info['autograd']}; {load()}")
    print(f"BLAS/OpenMP pools: {info['threadpools']}")
    if info["env"]:
        print(f"environment: {info['env']}")
    if os.getloadavg()[0] > 0.5 and opts.threads > 1:
        print(f"WARNING: {load()} on {os.cpu_count()} cores: other processes are running. A BLAS call with "
              f"{opts.threads} threads waits for its slowest thread, so one descheduled thread stalls it; "
              f"expect noisy wall times, or compare with --threads 1 (the CPU-time row shows the work done).")
    frameworks = [f for f in models.FRAMEWORKS if f not in skip]

    configs = []
    if opts.only in (None, "digits"):
        configs += [digits("float64"), digits("float32")]
    if opts.only in (None, "mnist"):
        configs += [mnist("float64"), mnist("float32")]
    results = {"machine": info, "command": " ".join(["python", "benchmarks/bench_step.py", *(argv if argv is not None else sys.argv[1:])]),
               "skipped": skip, "configs": [], "sweep": []}
    t_start = time.perf_counter()
    for cfg in configs:
        col = bench_config(cfg, skip, opts)
        if not opts.no_memory and (not q or cfg == mnist("float64")):
            col["memory"] = {fw: measure_memory(cfg, fw, mem_steps, opts.threads) for fw in frameworks}
            print("   peak memory over baseline: " + ", ".join(
                f"{fw} {v['peak_delta_mib']:.1f} MiB" for fw, v in col["memory"].items() if v))
        results["configs"].append(col)

    if not opts.no_sweep and opts.only in (None, "mnist"):
        sweep_opts = argparse.Namespace(**vars(opts))
        sweep_opts.blocks, sweep_opts.steps = (2, 3) if q else (6, 10)
        for m in ((2, 16) if q else SWEEP_M):
            cfg = mnist("float64", m)
            done = next((c for c in results["configs"] if c["config"]["m"] == m and c["config"]["data"] == "mnist"
                         and c["config"]["dtype"] == "float64"), None)
            s = done if done is not None else bench_config(cfg, skip, sweep_opts)
            s = dict(s)
            s["state_mib"] = state_mib(cfg)
            if not opts.no_memory and not q and "memory" not in s:
                s["memory"] = {fw: measure_memory(cfg, fw, mem_steps, opts.threads) for fw in frameworks}
                print("   peak memory over baseline: " + ", ".join(
                    f"{fw} {v['peak_delta_mib']:.1f} MiB" for fw, v in s["memory"].items() if v))
            results["sweep"].append(s)

    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    info["seconds"] = round(time.perf_counter() - t_start, 1)
    results["targets"] = targets(results)
    text = report(results)
    print("\n" + text)
    for c in results["configs"] + results["sweep"]:
        for d in c["agreement"]["frameworks"].values():
            d["ok"] = bool(d["ok"])
    out_stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    out_stem.with_suffix(".md").write_text("# vae_np training step: benchmark results\n\n" + text)
    print(f"wrote {out_stem.with_suffix('.json')} and {out_stem.with_suffix('.md')} ({info['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
