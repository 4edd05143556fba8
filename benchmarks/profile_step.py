"""Where vae_np's training step spends its time: cProfile over N steps, by tottime.

    .venv/bin/python benchmarks/profile_step.py            # digits and MNIST-size, float64, 200 steps
    .venv/bin/python benchmarks/profile_step.py --steps 50 --dtype float32 --top 25

The step is the one ``bench_step.py`` times (zero_grad, loss, backward, Adam). ``tottime``
is the time spent in a function itself, not in what it calls, so NumPy's C functions
(``numpy.ndarray.__matmul__`` does not appear: a matrix product ``x @ w`` is charged to
the Python function that wrote it) show as ``{method ...}`` / ``{built-in ...}`` rows.
cProfile adds a few µs per Python call, so the shares of small Python functions are
overstated; the wall time per step with and without the profiler is printed to show by
how much.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cleanenv  # noqa: E402

if __name__ == "__main__":
    cleanenv.own_kernel()         # the CPU's own BLAS kernel, as bench_step.py

import models  # noqa: E402
from bench_step import set_threads  # noqa: E402


def profile(cfg: models.Config, steps: int, top: int) -> str:
    inputs = models.make_inputs(cfg, 16)
    r = models.make_vae_np(cfg, models.reference_model(cfg).state_dict())
    for i in range(10):
        r.step(*inputs[i % 16])
    t0 = time.perf_counter()
    for i in range(steps):
        r.step(*inputs[i % 16])
    plain = (time.perf_counter() - t0) / steps
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for i in range(steps):
        r.step(*inputs[i % 16])
    prof.disable()
    profiled = (time.perf_counter() - t0) / steps
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    out = io.StringIO()
    out.write(f"{cfg.label}, {steps} steps: {1e3 * plain:.3f} ms/step without the profiler, "
              f"{1e3 * profiled:.3f} ms/step with it; load average {os.getloadavg()[0]:.2f}\n\n")
    out.write("| function | calls/step | tottime µs/step | share |\n|---|---|---|---|\n")
    for (file, line, func), (cc, nc, tt, ct, callers) in rows:
        where = f"{Path(file).parent.name}/{Path(file).name}:{line} {func}" if line else func
        out.write(f"| `{where}` | {nc / steps:.0f} | {1e6 * tt / steps:.0f} | {tt / total:.1%} |\n")
    return out.getvalue()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--only", choices=("digits", "mnist"))
    p.add_argument("--threads", type=int, default=2)
    opts = p.parse_args()
    set_threads(opts.threads)
    cfgs = []
    if opts.only in (None, "digits"):
        cfgs.append(models.digits(opts.dtype))
    if opts.only in (None, "mnist"):
        cfgs.append(models.mnist(opts.dtype))
    for cfg in cfgs:
        print(profile(cfg, opts.steps, opts.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
