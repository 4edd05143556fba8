"""Time one training step of vae_np against PyTorch eager, HIPS autograd and two floors (issue 12).

    .venv/bin/python benchmarks/bench_step.py            # what `make bench` runs
    .venv/bin/python benchmarks/bench_step.py --quick    # smoke run of the whole pipeline

A step is what ``vn.fit`` does per minibatch: zero the gradients, forward, backward, one
Adam update (lr 1e-3), on ``FullCovVAE(D, [H], m, "bernoulli", "tanh")`` (see
``benchmarks/models.py``). For each configuration (digits D=64 H=256 m=8 and MNIST-size
D=784 H=512 m=16, batch 128, each in float64 and float32) the script

1. runs with the CPU's own BLAS kernel: if ``OPENBLAS_CORETYPE`` or ``OPENBLAS_L2_SIZE`` is
   set, it restarts itself with both unset (its own processes only) and says so;
2. prints the kernel each library uses (threadpoolctl for NumPy's OpenBLAS,
   ``torch.__config__`` for PyTorch) beside the agreement check: the first two losses
   (before and after one Adam step) and the first gradients of every implementation
   against vae_np's (float64 to 1e-12, float32 to 1e-5, relative);
3. times, interleaved in one process (the order rotates every block; each block starts
   after a pause and untimed warm-up steps): vae_np, PyTorch eager (``torch.optim.Adam``
   and, as a further row, ``Adam(fused=True)``), HIPS autograd, and two floors measured in
   the same run: the hand-written NumPy step (``models.make_numpy``: the backward derived
   by hand, the same Adam) and the step's matrix products alone;
4. times each library again in a process of its own, the processes alternating block by
   block (only one runs at a time), so that no library inherits another's heap;
5. measures each library's peak memory in a fresh process;
6. sweeps the latent size m ∈ {2, 8, 16, 32, 64} and the batch size 128 … 2048 at MNIST
   size (float64), and draws both sweeps to ``benchmarks/scaling.png``;
7. prints the targets of issue 12 §2 as met/missed, writes ``results.json`` and
   ``results.md`` beside this file (``--quick``: ``results_quick.*``, and nothing else),
   and rewrites the table between the ``bench`` markers of the README.

Torch and autograd are optional: a framework that does not import is skipped with a
message. NumPy's BLAS, PyTorch and vae_np's Adam all run ``--threads`` threads (default 2).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cleanenv  # noqa: E402

if __name__ == "__main__":
    cleanenv.own_kernel()         # before NumPy loads OpenBLAS

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import models  # noqa: E402
from models import Config, digits, mnist  # noqa: E402

NAMES = {"vae_np": "vae_np", "torch": "PyTorch 2.13 eager", "torch_fused": "PyTorch eager, Adam(fused=True)",
         "autograd": "HIPS autograd", "numpy": "hand-written NumPy step (floor)",
         "matmul": "the step's matrix products alone (floor)"}
ORDER = ("vae_np", "torch", "torch_fused", "autograd", "numpy", "matmul")
SWEEP_M = (2, 8, 16, 32, 64)
SWEEP_B = (128, 256, 512, 1024, 2048)
TOL = {"float64": 1e-12, "float32": 1e-5}
SLACK = 1.10   # growth targets: time/FLOP (m) or time/B (batch) may exceed the smallest's by 10 %
README = HERE.parent / "README.md"
MARKERS = ("<!-- bench:begin (written by benchmarks/bench_step.py) -->", "<!-- bench:end -->")


# ---------------------------------------------------------------------------------------
# The machine and the kernels
# ---------------------------------------------------------------------------------------
def set_threads(n: int) -> None:
    """n threads for NumPy's BLAS (threadpoolctl), for torch and for vae_np's Adam."""
    from vae_np import optim

    optim.THREADS = min(n, 2)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
    except ImportError:
        pass
    if "torch" in sys.modules:    # only where torch is used: importing it takes seconds
        sys.modules["torch"].set_num_threads(n)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    """The widest vector extension the CPU reports (AVX-512 decides NumPy's tanh speed)."""
    try:
        flags = next(ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")).split()
    except (OSError, StopIteration):
        return "unknown"
    return "AVX-512" if "avx512f" in flags else "AVX2, no AVX-512" if "avx2" in flags else "no AVX2"


def kernels() -> dict[str, str]:
    """The BLAS kernel each library runs: NumPy's OpenBLAS core type (threadpoolctl) and
    PyTorch's BLAS and CPU capability (``torch.__config__.show()``)."""
    out = {}
    try:
        from threadpoolctl import threadpool_info
        out["numpy"] = "; ".join(f"{p['internal_api']} {p.get('version')}, kernel {p.get('architecture')}, "
                                 f"{p['num_threads']} threads" for p in threadpool_info()
                                 if p["user_api"] == "blas" and "numpy" in p["filepath"]) or "no BLAS found"
    except ImportError:
        out["numpy"] = "threadpoolctl not installed"
    try:
        import torch
        show = torch.__config__.show()
        blas = re.search(r"BLAS_INFO=(\w+)", show)
        cap = re.search(r"CPU capability usage: (\w+)", show)
        out["torch"] = (f"BLAS {blas.group(1) if blas else '?'}, CPU capability {cap.group(1) if cap else '?'}, "
                        f"{torch.get_num_threads()} threads")
    except ImportError:
        pass
    return out


def machine_info(threads: int) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg):
        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    try:
        root = HERE.parent
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "vae_np"], capture_output=True,
                               text=True).stdout.strip()
        commit = (commit + (" with uncommitted changes in vae_np/" if dirty else "")) or None
    except OSError:
        commit = None
    return {
        "commit": commit, "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(), "vector": cpu_flags(), "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "vae_np": ver("vae_np"), "torch": ver("torch"), "autograd": ver("autograd"),
        "threads": threads, "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "unset": cleanenv.note(), "kernels": kernels(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))},
    }


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------------------
# Agreement and timing in one process
# ---------------------------------------------------------------------------------------
def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def check_agreement(cfg: Config, runners: dict, inputs: list) -> dict:
    """First and second losses and first gradients of every implementation against vae_np's."""
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
        d["ok"] = bool(max(d.values()) <= TOL[cfg.dtype])
        report["frameworks"][name] = d
    return report


def time_block(step, feed, start: int, steps: int, warmup: int, pause: float) -> tuple[list, list]:
    """Wall and CPU times of ``steps`` steps after a pause (other libraries' worker threads
    go idle) and ``warmup`` untimed steps, reading the inputs ``feed`` from ``start`` on."""
    time.sleep(pause)
    for k in range(warmup):
        step(*feed[(start + k) % len(feed)])
    wall, cpu = [], []
    for k in range(steps):
        x, e = feed[(start + warmup + k) % len(feed)]
        c0, t0 = time.process_time(), time.perf_counter()
        step(x, e)
        t1, c1 = time.perf_counter(), time.process_time()
        wall.append(t1 - t0)
        cpu.append(c1 - c0)
    return wall, cpu


def summary(wall: list, cpu: list) -> dict:
    q = np.percentile(wall, [25, 50, 75])
    return {"median_ms": 1e3 * float(q[1]), "q25_ms": 1e3 * float(q[0]), "q75_ms": 1e3 * float(q[2]),
            "cpu_median_ms": 1e3 * float(np.median(cpu)), "n": len(wall)}


def time_interleaved(runners: dict, inputs: list, opts) -> dict:
    """Per-step times of every runner in ``opts.blocks`` blocks of ``opts.steps``, all in this
    process, the order rotating from block to block. CPU time counts all threads."""
    feeds = {name: [(r.convert(x), r.convert(e)) for x, e in inputs] for name, r in runners.items()}
    wall = {name: [] for name in runners}
    cpu = {name: [] for name in runners}
    names = list(runners)
    for b in range(opts.blocks):
        for name in names[b % len(names):] + names[:b % len(names)]:
            w, c = time_block(runners[name].step, feeds[name], b * (opts.steps + opts.warmup), opts.steps,
                              opts.warmup, opts.pause)
            wall[name] += w
            cpu[name] += c
    return {name: summary(wall[name], cpu[name]) for name in runners}


# ---------------------------------------------------------------------------------------
# Each library in a process of its own, the processes alternating
# ---------------------------------------------------------------------------------------
def worker() -> int:
    """A timing process for one library: reads one JSON command a line from stdin
    ("init", "block", "quit") and answers each with one JSON line on stdout."""
    runner = feed = None
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "init":
            if cmd["name"].startswith("torch"):
                import torch  # noqa: F401
            set_threads(cmd["threads"])
            cfg = Config(**cmd["config"])
            runner = {**models.FRAMEWORKS, **models.FLOORS}[cmd["name"]](cfg, models.reference_model(cfg).state_dict())
            feed = [(runner.convert(x), runner.convert(e)) for x, e in models.make_inputs(cfg, 16)]
            reply = {"ok": True}
        elif cmd["cmd"] == "block":
            w, c = time_block(runner.step, feed, cmd["start"], cmd["steps"], cmd["warmup"], cmd["pause"])
            reply = {"wall": w, "cpu": c}
        else:
            reply = {"peak_rss_mib": _proc_status()["VmHWM"] / 1024}
        print(json.dumps(reply), flush=True)
        if cmd["cmd"] == "quit":
            break
    return 0


def time_processes(cfg: Config, names: list[str], opts) -> dict:
    """Per-step times of each library in its own process; one process runs at a time and
    the order rotates every block, as in :func:`time_interleaved`."""
    procs = {n: subprocess.Popen([sys.executable, str(Path(__file__)), "--worker"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True) for n in names}

    def ask(lib, **cmd):
        procs[lib].stdin.write(json.dumps(cmd) + "\n")
        procs[lib].stdin.flush()
        answer = procs[lib].stdout.readline()
        if not answer:
            raise RuntimeError(f"the timing process of {lib} stopped (see its error above)")
        return json.loads(answer)

    try:
        for n in names:
            ask(n, cmd="init", name=n, threads=opts.threads, config=cfg.__dict__)
        wall = {n: [] for n in names}
        cpu = {n: [] for n in names}
        for b in range(opts.blocks):
            for n in names[b % len(names):] + names[:b % len(names)]:
                r = ask(n, cmd="block", start=b * (opts.steps + opts.warmup), steps=opts.steps,
                        warmup=opts.warmup, pause=opts.pause)
                wall[n] += r["wall"]
                cpu[n] += r["cpu"]
        out = {n: summary(wall[n], cpu[n]) for n in names}
        for n in names:
            out[n]["peak_rss_mib"] = ask(n, cmd="quit")["peak_rss_mib"]
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait(timeout=60)
    return out


# ---------------------------------------------------------------------------------------
# One configuration
# ---------------------------------------------------------------------------------------
def bench_config(cfg: Config, names: list[str], opts, processes: bool) -> dict:
    print(f"\n== {cfg.label}, B={cfg.B}  ({load()})", flush=True)
    inputs = models.make_inputs(cfg, 16)
    state = models.reference_model(cfg).state_dict()
    makers = {**models.FRAMEWORKS, **models.FLOORS}
    runners = {n: makers[n](cfg, state) for n in names if n != "matmul"}
    agreement = check_agreement(cfg, runners, inputs)
    for name, d in agreement["frameworks"].items():
        print(f"   agreement {name:11s}: loss1 {d['loss1_rel']:.0e}, loss2 {d['loss2_rel']:.0e}, grads "
              f"{d['grad_rel']:.0e} (tol {agreement['tolerance']:.0e}) {'ok' if d['ok'] else 'MISMATCH'}", flush=True)
    for lib, k in opts.kernels.items():
        print(f"   kernel {lib:6s}: {k}")
    if "matmul" in names:
        runners["matmul"] = models.make_matmul_floor(cfg)
    load_start = os.getloadavg()
    timing = time_interleaved(runners, inputs, opts)
    flops = models.matmul_flops(cfg)
    for name, t in timing.items():
        print(f"   {name:11s} {t['median_ms']:8.3f} ms/step  (IQR {t['q25_ms']:.3f}-{t['q75_ms']:.3f}; "
              f"CPU {t['cpu_median_ms']:.3f} ms)", flush=True)
    out = {"config": cfg.__dict__ | {"label": cfg.label}, "matmul_gflop": flops / 1e9,
           "n_params": int(sum(v.size for v in state.values())), "agreement": agreement, "timing": timing}
    del runners
    gc.collect()
    if processes:
        out["processes"] = time_processes(cfg, [n for n in names if n != "torch_fused"], opts)
        print("   own processes: " + ", ".join(f"{n} {t['median_ms']:.3f} ms" for n, t in out["processes"].items()),
              flush=True)
    out["loadavg"] = [round(load_start[0], 2), round(os.getloadavg()[0], 2)]
    return out


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

    Setup (not counted): the imports, four input batches and the reference parameters.
    Then freed memory is handed back to the system (``gc.collect()``, glibc's
    ``malloc_trim(0)``), the current RSS is the baseline, and the kernel's peak-RSS
    counter is reset (``/proc/self/clear_refs`` ← 5). The library then builds its model
    (its own copy of the parameters) and optimizer and runs ``steps`` steps; the result is
    the peak RSS (VmHWM) minus the baseline.
    """
    import ctypes

    cfg = Config(**spec["config"])
    fw = spec["framework"]
    if fw.startswith("torch"):
        import torch  # noqa: F401
    elif fw == "autograd":
        import autograd.numpy  # noqa: F401
    set_threads(spec["threads"])
    inputs = models.make_inputs(cfg, 4)
    state = models.reference_model(cfg).state_dict()
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
    r = {**models.FRAMEWORKS, **models.FLOORS}[fw](cfg, state)
    feed = [(r.convert(x), r.convert(e)) for x, e in inputs]
    for i in range(spec["steps"]):
        r.step(*feed[i % len(feed)])
    peak = _proc_status()["VmHWM"] if method != "ru_maxrss" else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"method": method, "baseline_mib": base / 1024, "peak_delta_mib": (peak - base) / 1024}


def measure_memory(cfg: Config, names: list[str], steps: int, threads: int) -> dict:
    out = {}
    for fw in names:
        spec = {"framework": fw, "threads": threads, "steps": steps, "config": cfg.__dict__}
        proc = subprocess.run([sys.executable, str(Path(__file__)), "--memory-child", json.dumps(spec)],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            print(f"   memory {fw} {cfg.key}: child failed:\n{proc.stderr[-2000:]}")
            continue
        out[fw] = json.loads(proc.stdout.strip().splitlines()[-1])
    print("   peak memory over baseline: " + ", ".join(f"{fw} {v['peak_delta_mib']:.1f} MiB" for fw, v in out.items()),
          flush=True)
    return out


# ---------------------------------------------------------------------------------------
# Targets (issue 12 §2) and the report
# ---------------------------------------------------------------------------------------
def _ms(col: dict, name: str, where: str = "timing") -> float:
    return col[where][name]["median_ms"]


def targets(results: dict) -> list[dict]:
    out = []

    def add(target, values, ok, fmt):
        if not values:
            out.append({"target": target, "status": "not run", "detail": "a library or section was skipped"})
            return
        met = all(ok(k, v) for k, v in values.items())
        out.append({"target": target, "status": "met" if met else "missed",
                    "detail": ", ".join(f"{k}: {fmt(v)}{'' if ok(k, v) else ' ✗'}" for k, v in values.items())})

    cols = results["configs"]
    key = lambda c: f"{c['config']['data']} {c['config']['dtype']}"  # noqa: E731
    for where, label in (("timing", "one process"), ("processes", "own processes")):
        have = [c for c in cols if where in c]
        add(f"vae_np ≤ 1.10× the hand-written NumPy step, all four columns ({label})",
            {key(c): _ms(c, "vae_np", where) / _ms(c, "numpy", where) for c in have if "numpy" in c[where]},
            lambda k, v: v <= 1.10, lambda v: f"{v:.2f}×")
        add(f"vae_np ≤ 0.75× PyTorch eager at MNIST size, ≤ 0.50× on digits ({label})",
            {key(c): _ms(c, "vae_np", where) / _ms(c, "torch", where) for c in have if "torch" in c[where]},
            lambda k, v: v <= (0.50 if k.startswith("digits") else 0.75), lambda v: f"{v:.2f}×")
        add(f"faster than HIPS autograd by as much as the NumPy step is, within 10 % ({label})",
            {key(c): (_ms(c, "autograd", where) / _ms(c, "vae_np", where),
                      _ms(c, "autograd", where) / _ms(c, "numpy", where))
             for c in have if "autograd" in c[where] and "numpy" in c[where]},
            lambda k, v: v[0] >= v[1] / 1.10, lambda v: f"{v[0]:.2f}× (NumPy step {v[1]:.2f}×)")
    sw = results.get("sweep_m") or []
    vals = {}
    if sw:
        t0 = _ms(sw[0], "vae_np") / sw[0]["matmul_gflop"]
        vals = {f"m={s['config']['m']}": _ms(s, "vae_np") / s["matmul_gflop"] / t0 for s in sw[1:]}
    add(f"step time grows with m no faster than the matrix-product FLOPs (time/FLOP ≤ {SLACK:.2f} × m=2's)",
        vals, lambda k, v: v <= SLACK, lambda v: f"{v:.2f}")
    sb = results.get("sweep_b") or []
    vals = {}
    if sb:
        t0 = _ms(sb[0], "vae_np") / sb[0]["config"]["B"]
        vals = {f"B={s['config']['B']}": _ms(s, "vae_np") / s["config"]["B"] / t0 for s in sb[1:]}
    add(f"step time grows with the batch size no faster than linearly (time/B ≤ {SLACK:.2f} × B=128's)",
        vals, lambda k, v: v <= SLACK, lambda v: f"{v:.2f}")
    mem = {}
    for c in cols + sw:
        m = c.get("memory") or {}
        if m.get("vae_np") and m.get("torch"):
            mem[f"{c['config']['data']} m={c['config']['m']} {c['config']['dtype']}"] = (
                m["vae_np"]["peak_delta_mib"], m["torch"]["peak_delta_mib"])
    add("peak memory below PyTorch's", mem, lambda k, v: v[0] < v[1], lambda v: f"{v[0]:.1f} vs {v[1]:.1f} MiB")
    agree = {f"{key(c)} {fw}": d["ok"] for c in cols for fw, d in c["agreement"]["frameworks"].items()}
    add("losses and gradients agree with vae_np's (float64 1e-12, float32 1e-5)", agree, lambda k, v: v,
        lambda v: "ok" if v else "MISMATCH")
    return out


def _table(cols: list[dict], where: str) -> list[str]:
    head = "| median ms per step | " + " | ".join(f"{c['config']['data']} {c['config']['dtype']}" for c in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for n in ORDER:
        if any(n in c.get(where, {}) for c in cols):
            lines.append(f"| {NAMES[n]} | " + " | ".join(
                f"{_ms(c, n, where):.2f}" if n in c.get(where, {}) else "–" for c in cols) + " |")

    def row(label, f):
        vals = []
        for c in cols:
            try:
                vals.append(f(c))
            except (KeyError, ZeroDivisionError):
                vals.append("–")
        lines.append(f"| {label} | " + " | ".join(vals) + " |")

    ratio = lambda a, b: (lambda c: f"{_ms(c, a, where) / _ms(c, b, where):.2f}×")  # noqa: E731
    row("vae_np / hand-written NumPy step", ratio("vae_np", "numpy"))
    row("the same by CPU time (steadier on a loaded machine)", lambda c: f"{c[where]['vae_np']['cpu_median_ms'] / c[where]['numpy']['cpu_median_ms']:.2f}×")
    row("vae_np / matrix products alone", ratio("vae_np", "matmul"))
    row("vae_np / PyTorch", ratio("vae_np", "torch"))
    if where == "timing":
        row("vae_np / PyTorch with fused Adam", ratio("vae_np", "torch_fused"))
    row("PyTorch / hand-written NumPy step", ratio("torch", "numpy"))
    row("autograd / vae_np", ratio("autograd", "vae_np"))
    row("autograd / hand-written NumPy step", ratio("autograd", "numpy"))
    row("CPU ms per step (all threads): vae_np, PyTorch", lambda c: f"{c[where]['vae_np']['cpu_median_ms']:.2f}, "
                                                                  f"{c[where]['torch']['cpu_median_ms']:.2f}")
    if where == "processes":
        row("peak RSS of the process, MiB: vae_np, PyTorch, autograd, NumPy step", lambda c: ", ".join(
            f"{c[where][n]['peak_rss_mib']:.0f}" if n in c[where] else "–" for n in ("vae_np", "torch", "autograd", "numpy")))
    else:
        row("peak memory over baseline, MiB: vae_np, PyTorch, autograd, NumPy step", lambda c: ", ".join(
            f"{c['memory'][n]['peak_delta_mib']:.1f}" if n in c.get("memory", {}) else "–"
            for n in ("vae_np", "torch", "autograd", "numpy")))
        row("load average (1 min) before → after", lambda c: f"{c['loadavg'][0]:.2f} → {c['loadavg'][1]:.2f}")
    return lines + [""]


def _sweep(rows: list[dict], axis: str) -> list[str]:
    names = [n for n in ("vae_np", "torch", "autograd", "numpy", "matmul") if n in rows[0]["timing"]]
    lines = [f"| {axis} | matmul GFLOP | " + " | ".join(NAMES[n] for n in names)
             + " | vae_np / NumPy step | vae_np growth | memory vae_np, PyTorch (MiB) |",
             "|---" * (len(names) + 5) + "|"]
    first = rows[0]
    for s in rows:
        v = s["config"][axis]
        grow = (_ms(s, "vae_np") / s["matmul_gflop"]) / (_ms(first, "vae_np") / first["matmul_gflop"]) if axis == "m" \
            else (_ms(s, "vae_np") / v) / (_ms(first, "vae_np") / first["config"]["B"])
        mem = s.get("memory") or {}
        memtxt = ", ".join(f"{mem[n]['peak_delta_mib']:.0f}" if n in mem else "–" for n in ("vae_np", "torch"))
        ratio = f"{_ms(s, 'vae_np') / _ms(s, 'numpy'):.2f}×" if "numpy" in s["timing"] else "–"
        lines.append(f"| {v} | {s['matmul_gflop']:.3f} | " + " | ".join(f"{_ms(s, n):.2f}" for n in names)
                     + f" | {ratio} | {grow:.2f} | {memtxt} |")
    return lines + [""]


def report(results: dict) -> str:
    info, cols = results["machine"], results["configs"]
    unset = info.get("unset") or {}
    lines = [f"**Measured** {info['date']} on {info['cpu']} ({info['vector']}; {info['cores']} cores, shared), "
             f"{info['threads']} threads for NumPy's BLAS, PyTorch and vae_np's Adam; numpy {info['numpy']}, "
             f"torch {info['torch']}, autograd {info['autograd']}, Python {info['python']}; vae_np at commit "
             f"{info.get('commit')}; {info.get('seconds', 0) / 60:.1f} minutes. Command: `{results['command']}`.", "",
             f"**Kernels**: NumPy: {info['kernels'].get('numpy', '–')}. PyTorch: {info['kernels'].get('torch', '–')}. "
             + (f"The environment set {', '.join(f'{k}={v}' for k, v in unset.items())}; the benchmark unset them for "
                "its own processes." if unset else "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE were not set."), "",
             f"**Load average** at start {info['loadavg_start']}, at end {info.get('loadavg_end')}.", ""]
    if busy(info):
        lines += [BUSY.format(load=info["loadavg_start"][0], cores=info["cores"]), ""]
    if cols:
        lines += ["**All libraries in one process**, interleaved in rotating blocks "
                  f"({results['opts']['blocks']} blocks of {results['opts']['steps']} steps; median of the per-step "
                  "times):", ""]
        lines += _table(cols, "timing")
        if any("processes" in c for c in cols):
            lines += ["**Each library in a process of its own**, the processes taking turns block by block:", ""]
            lines += _table([c for c in cols if "processes" in c], "processes")
    if results.get("sweep_m"):
        lines += ["**Latent size m**, MNIST size (D=784, H=512, B=128), float64, in one process. *vae_np growth* "
                  "is (t(m)/F(m)) / (t(2)/F(2)) with F the matrix-product FLOPs: ≤ 1 means the step grows no "
                  "faster than its FLOPs.", ""]
        lines += _sweep(results["sweep_m"], "m")
    if results.get("sweep_b"):
        lines += ["**Batch size B**, MNIST size (D=784, H=512, m=16), float64, in one process. *vae_np growth* "
                  "is (t(B)/B) / (t(128)/128): ≤ 1 means no faster than linear.", ""]
        lines += _sweep(results["sweep_b"], "B")
    lines += ["**Targets** (issue 12 §2):", "", "| target | result |", "|---|---|"]
    for tg in results["targets"]:
        lines.append(f"| {tg['target']} | **{tg['status']}**: {tg['detail']} |")
    if results.get("skipped"):
        lines += ["", "Skipped: " + "; ".join(f"{k} ({v})" for k, v in results["skipped"].items())]
    return "\n".join(lines) + "\n"


BUSY = ("**Not representative:** the machine was overloaded (load average {load:.1f} on {cores} cores): "
        "other processes held the cores, so wall times are many times the quiet ones and the ratios are noise. "
        "Rerun `make bench` on a quiet machine.")


def busy(info: dict) -> bool:
    """True when other processes loaded the machine beyond its cores during the run."""
    return max(info["loadavg_start"][0], (info.get("loadavg_end") or [0])[0]) > (info["cores"] or 1)


def readme_table(results: dict) -> str:
    """The README's short table: the four columns, one process, and where the rest is."""
    cols, info = results["configs"], results["machine"]
    lines = [MARKERS[0], "",
             f"`make bench`, {info['date'][:10]}, {info['threads']} threads, {info['cpu']} ({info['vector']}), "
             f"load {info['loadavg_start'][0]:.1f}–{info['loadavg_end'][0]:.1f}; NumPy's OpenBLAS kernel: "
             f"{info['kernels'].get('numpy', '?').split('kernel ')[-1].split(',')[0]}. Median ms per step:", "",
             "| ms per step | " + " | ".join(f"{c['config']['data']} {c['config']['dtype']}" for c in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for n in ORDER:
        if all(n in c["timing"] for c in cols):
            lines.append(f"| {NAMES[n]} | " + " | ".join(f"{_ms(c, n):.2f}" for c in cols) + " |")
    met = sum(t["status"] == "met" for t in results["targets"])
    lines += ["", f"Targets met: {met} of {len(results['targets'])} (see `benchmarks/results.md`)."]
    if busy(info):
        lines += ["", BUSY.format(load=info["loadavg_start"][0], cores=info["cores"])]
    lines += ["", MARKERS[1]]
    return "\n".join(lines)


def write_readme(results: dict) -> bool:
    text = README.read_text()
    a, b = text.find(MARKERS[0]), text.find(MARKERS[1])
    if a < 0 or b < a:
        print(f"README.md has no {MARKERS[0]} … {MARKERS[1]} markers; its table is not rewritten")
        return False
    README.write_text(text[:a] + readme_table(results) + text[b + len(MARKERS[1]):])
    return True


def plot(results: dict, path: Path) -> None:
    """The two sweeps, ms per step against m and against B, for every library and floor."""
    import matplotlib
    matplotlib.use("Agg")          # a file, not a window (never through MPLBACKEND)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=90)
    for ax, rows, axis in ((axes[0], results.get("sweep_m"), "m"), (axes[1], results.get("sweep_b"), "B")):
        if not rows:
            continue
        xs = [s["config"][axis] for s in rows]
        for n, style in (("vae_np", "o-"), ("torch", "s-"), ("autograd", "^-"), ("numpy", "d--"), ("matmul", "x:")):
            if n in rows[0]["timing"]:
                ax.plot(xs, [_ms(s, n) for s in rows], style, label=NAMES[n].replace(" (floor)", ""), ms=4)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_xlabel("latent size m (B = 128)" if axis == "m" else "batch size B (m = 16)")
        ax.set_ylabel("ms per step")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("One training step at MNIST size, float64", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of everything with few steps (memory at MNIST size float64 only); writes results_quick.*")
    p.add_argument("--only", choices=("digits", "mnist"), help="run one size only")
    p.add_argument("--no-sweep", action="store_true", help="skip the m and batch-size sweeps")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--no-sweep-memory", action="store_true", help="peak memory for the four columns only, not the sweeps")
    p.add_argument("--no-processes", action="store_true", help="skip the timing with one process per library")
    p.add_argument("--threads", type=int, default=2, help="BLAS, torch and Adam threads (default 2)")
    p.add_argument("--blocks", type=int, help="timing blocks per library (default 10; quick 2)")
    p.add_argument("--steps", type=int, help="timed steps per block (default 20; quick 3)")
    p.add_argument("--out", type=Path, help="stem of the result files (default benchmarks/results)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite results.md and the README table from results.json, measuring nothing")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    if opts.memory_child:
        print(json.dumps(memory_child(json.loads(opts.memory_child))))
        return 0
    if opts.worker:
        return worker()
    if opts.report_only:
        results = json.loads((HERE / "results.json").read_text())
        (HERE / "results.md").write_text(report(results))
        write_readme(results)
        print("rewrote benchmarks/results.md and README.md's table from benchmarks/results.json")
        return 0

    q = opts.quick
    opts.blocks = opts.blocks or (2 if q else 10)
    opts.steps = opts.steps or (3 if q else 20)
    opts.warmup, opts.pause = (1, 0.05) if q else (2, 0.2)
    mem_steps = 3 if q else 20
    out_stem = opts.out or HERE / ("results_quick" if q else "results")
    publish = not q and opts.out is None and opts.only is None and not opts.no_sweep

    skip = {k: v for k, v in models.available().items() if v is not None}
    for name, why in skip.items():
        print(f"{name} is not importable, its rows are skipped ({why}); `make bench` installs it")
    set_threads(opts.threads)
    info = machine_info(opts.threads)
    opts.kernels = info["kernels"]
    print(f"{info['cpu']} ({info['vector']}), {info['cores']} cores; {info['threads']} threads; numpy {info['numpy']}, "
          f"torch {info['torch']}, autograd {info['autograd']}; {load()}")
    if info["unset"]:
        print(f"NOTE: {', '.join(f'{k}={v}' for k, v in info['unset'].items())} was set in the environment; "
              "unset for this benchmark's processes, so that OpenBLAS uses the CPU's own kernel")
    for lib, k in info["kernels"].items():
        print(f"kernel {lib}: {k}")
    if os.getloadavg()[0] > 0.5 and opts.threads > 1:
        print(f"WARNING: {load()} on {os.cpu_count()} cores: other processes are running, expect noisy times")
    names = [n for n in ORDER if n not in skip]
    libs_mem = [n for n in ("vae_np", "torch", "autograd", "numpy") if n in names]

    configs = []
    if opts.only in (None, "digits"):
        configs += [digits("float64"), digits("float32")]
    if opts.only in (None, "mnist"):
        configs += [mnist("float64"), mnist("float32")]
    results = {"machine": info, "opts": {"blocks": opts.blocks, "steps": opts.steps, "warmup": opts.warmup},
               "command": " ".join(["python", "benchmarks/bench_step.py", *(argv if argv is not None else sys.argv[1:])]),
               "skipped": skip, "configs": [], "sweep_m": [], "sweep_b": []}
    t_start = time.perf_counter()
    for cfg in configs:
        col = bench_config(cfg, names, opts, processes=not opts.no_processes)
        if not opts.no_memory and (not q or cfg == mnist("float64")):
            col["memory"] = measure_memory(cfg, libs_mem, mem_steps, opts.threads)
        results["configs"].append(col)

    if not opts.no_sweep and opts.only in (None, "mnist"):
        sweep_opts = argparse.Namespace(**vars(opts))
        sweep_opts.blocks, sweep_opts.steps = (2, 2) if q else (min(6, opts.blocks), min(10, opts.steps))
        sweep_names = [n for n in ("vae_np", "torch", "autograd", "numpy", "matmul") if n in names]
        for key, values in (("sweep_m", (2, 16) if q else SWEEP_M), ("sweep_b", (128, 512) if q else SWEEP_B)):
            for v in values:
                cfg = mnist("float64", m=v) if key == "sweep_m" else mnist("float64", B=v)
                s = bench_config(cfg, sweep_names, sweep_opts, processes=False)
                if not opts.no_memory and not opts.no_sweep_memory and not q:
                    s["memory"] = measure_memory(cfg, ["vae_np", "torch"] if "torch" in names else ["vae_np"],
                                                 mem_steps, opts.threads)
                results[key].append(s)

    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    info["seconds"] = round(time.perf_counter() - t_start, 1)
    results["targets"] = targets(results)
    text = report(results)
    print("\n" + text)
    out_stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    out_stem.with_suffix(".md").write_text(text)
    written = [out_stem.with_suffix(".json"), out_stem.with_suffix(".md")]
    if results["sweep_m"] and results["sweep_b"]:
        png = HERE / ("scaling_quick.png" if q else "scaling.png") if opts.out is None else out_stem.with_suffix(".png")
        plot(results, png)
        written.append(png)
    if publish and cols_complete(results) and write_readme(results):
        written.append(README)
    print(f"wrote {', '.join(str(w.relative_to(HERE.parent)) if w.is_relative_to(HERE.parent) else str(w) for w in written)} "
          f"in {info['seconds']:.0f} s")
    return 0


def cols_complete(results: dict) -> bool:
    return len(results["configs"]) == 4 and all("numpy" in c["timing"] for c in results["configs"])


if __name__ == "__main__":
    sys.exit(main())
