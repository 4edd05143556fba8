"""The measured saving of every speed-up left in vae_np, each beside the plain way (issue 12 §3).

    .venv/bin/python benchmarks/hotspots.py            # writes benchmarks/hotspots.md
    .venv/bin/python benchmarks/hotspots.py --quick    # fewer repeats, prints only

Standalone micro-benchmarks, so that they can be rerun after a merge: each writes out the
plain way and the package's way side by side (the package's own function is called, so
after a change the saving shown is that of the code as it is), at the step's shapes for digits
(B=128, D=64, H=256, m=8) and MNIST size (B=128, D=784, H=512, m=16):

* Adam: the textbook rule on whole arrays (``Adam.rule``) against ``_adam_block`` in
  blocks, on one thread and on two; the cost of making a step undoable (the copy kept
  for ``undo`` and the double-buffered moments) against an in-place step that cannot be
  undone; block sizes;
* tanh: ``np.tanh`` against the package's ``Tanh.forward`` (in float64 today
  t/(2 − t), t = −expm1(−2|x|)); the backward g(1 − z²) as one expression against the
  package's;
* the Bernoulli NLL, forward and backward, as one expression against the package's;
* the leaf gradient: a fresh copy of the first gradient (what the engine does), against
  a zero-fill and an add.

Every number is the best of several repeats (the least disturbed by other processes on a
shared machine), in µs.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cleanenv  # noqa: E402

if __name__ == "__main__":
    cleanenv.own_kernel()

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import os  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402
from scipy import special  # noqa: E402

import models  # noqa: E402
import vae_np as vn  # noqa: E402
from bench_step import cpu_flags, cpu_model, kernels, set_threads  # noqa: E402
from vae_np import losses, ops, optim  # noqa: E402

REPEAT = 9
OUT: list[str] = []
PREAMBLE = """*Written by `benchmarks/hotspots.py` (`make bench` runs it); rerun it rather than edit this
file.* Each row times one piece of the step the plain way and the way `vae_np` does it now
(its own function is called), at the step's shapes; the saving is per call, in µs, best
of several repeats. Where the package's way equals the plain way, the saving is ~0 and
the row says there is no speed-up left there. The machine's CPU is named below: the
project's machine is an AMD EPYC with AVX2 and **no AVX-512**. The tanh and Bernoulli
ops are written plainly now (`np.tanh`; one expression for the loss): the t/(2 − t) tanh
formula and the in-place Bernoulli loss were removed because they saved nothing
measurable here (within ±7 % over interleaved runs) and, by issue 12's AVX-512 numbers,
lose there; their rows below compare two equal computations, so they show noise only.
Adam's blocks and threads and the leaf-gradient copy are the speed-ups left.

"""


def us(fn, repeat: int | None = None, min_time: float = 0.02) -> float:
    """Best-of-``repeat`` time of ``fn()`` in µs (each repeat runs at least ``min_time`` s)."""
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < min_time and number < 1 << 16:
        number *= 2
    return 1e6 * min(timer.repeat(repeat or REPEAT, number)) / number


def emit(text: str) -> None:
    print(text, flush=True)
    OUT.append(text)


def row(what: str, plain: float, fast: float, note: str = "") -> None:
    emit(f"| {what} | {plain:,.1f} | {fast:,.1f} | {plain - fast:+,.1f} ({plain / fast:.2f}×) | {note} |")


def head(title: str) -> None:
    emit(f"\n**{title}**\n")
    emit("| piece | plain, µs | fast, µs | saving, µs (ratio) | note |")
    emit("|---|---|---|---|---|")


# ---------------------------------------------------------------------------------------
def adam(cfg: models.Config) -> None:
    model = models.reference_model(cfg)
    params = model.parameters()
    rng = np.random.default_rng(0)
    for p in params:
        p.grad = (rng.standard_normal(p.shape) * 1e-2).astype(p.dtype)
    n = sum(p.size for p in params)
    head(f"Adam, {cfg.label} ({n:,} parameters)")
    opt = vn.Adam(params)
    opt.step()

    def textbook():
        for i, p in enumerate(params):
            theta, m, v = vn.Adam.rule(p.data, p.grad, opt.state("m", i), opt.state("v", i), 2, 1e-3, 0.9, 0.999, 1e-8)
            p.data[...] = theta

    def step_no_undo():
        # the same kernel in place: no copy kept, one pair of moments (a step that cannot be undone)
        b1, b2 = opt.betas
        tmp, gc = np.empty(optim.BLOCK, cfg.dtype), np.empty(optim.BLOCK, cfg.dtype)
        for i, p in enumerate(params):
            th, g = p.data.reshape(-1), p.grad.reshape(-1)
            m, v = opt._buffers["m"][i][0], opt._buffers["v"][i][0]
            for a in range(0, th.size, optim.BLOCK):
                b = min(a + optim.BLOCK, th.size)
                optim._adam_block(th[a:b], g[a:b], m[a:b], v[a:b], m[a:b], v[a:b], tmp[:b - a], gc[:b - a],
                                  b1, b2, 1e-3, 1e-8, optim.G_MAX[th.dtype])

    saved = optim.THREADS
    optim.THREADS = 1
    one = us(opt.step)
    optim.THREADS = saved
    two = us(opt.step)
    row("Adam.rule (textbook, whole arrays) → Adam.step, blocks, 1 thread", us(textbook), one)
    row("Adam.step 1 thread → 2 threads", one, two,
        f"split when a step has ≥ {optim.THREAD_MIN:,} elements" if n >= optim.THREAD_MIN else
        f"below THREAD_MIN = {optim.THREAD_MIN:,}: the calling thread alone")
    optim.THREADS = 1
    row("undoable step (1 thread): in place, nothing kept → kept copy + double-buffered moments",
        us(step_no_undo), one, "negative: what undo and the all-or-nothing step cost")
    keep = optim._keep
    optim._keep = lambda prev, theta: None
    no_keep = us(opt.step)
    optim._keep = keep
    row("  of which the kept copy of θ (1 thread)", one, no_keep, "the step without the copy (not exact any more)")
    block = optim.BLOCK
    for b in (4096, 65536, 1 << 20):
        optim.BLOCK = b
        opt_b = vn.Adam(params)
        opt_b.step()
        row(f"  BLOCK {b:,} → {block:,} (1 thread)", us(opt_b.step), one)
    optim.BLOCK = block
    optim.THREADS = saved
    try:
        import torch
        tp = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
        for t_ in tp:
            t_.grad = torch.full_like(t_, 1e-3)
        for fused in (False, True):
            topt = torch.optim.Adam(tp, lr=1e-3, fused=fused or None)
            topt.step()
            emit(f"| torch.optim.Adam{'(fused=True)' if fused else ''}.step, same parameters, "
                 f"{torch.get_num_threads()} threads | | {us(topt.step):,.1f} | | for comparison |")
    except ImportError:
        pass


def tanh(cfg: models.Config) -> None:
    B, H = cfg.B, cfg.H
    rng = np.random.default_rng(1)
    a = rng.standard_normal((B, H)) * 2
    fn = ops.Tanh()                                   # the package's op, whatever it does now
    ours = fn.forward(a)
    err = float(np.max(np.abs(ours - np.tanh(a)) / np.maximum(np.abs(np.tanh(a)), 1e-300)))
    head(f"tanh, ({B}, {H}), float64 (twice per step)")
    row("forward: np.tanh → vae_np's Tanh.forward", us(lambda: np.tanh(a)), us(lambda: fn.forward(a)),
        f"max rel. diff. {err:.0e}; {cpu_flags()}")
    z = np.tanh(a)
    g = rng.standard_normal((B, H))
    fn.z = z
    row("backward: g ⊙ (1 − z²) → vae_np's Tanh.backward", us(lambda: g * (1 - z * z)), us(lambda: fn.backward(g)))
    a32 = a.astype(np.float32)
    row("float32 forward: np.tanh → vae_np's Tanh.forward", us(lambda: np.tanh(a32)), us(lambda: fn.forward(a32)))


def bernoulli(cfg: models.Config, dtype: str) -> None:
    B, D = cfg.B, cfg.D
    rng = np.random.default_rng(2)
    logits = (rng.standard_normal((B, D)) * 3).astype(dtype)
    x = (rng.uniform(size=(B, D)) > 0.5).astype(dtype)
    fn = losses.BernoulliNLL()                        # the package's op, whatever it does now
    fn.needs_grad = (True, False)
    np.testing.assert_allclose(fn.forward(logits, x), (np.logaddexp(0, logits) - x * logits).sum(axis=1),
                               rtol=1e-5 if dtype == "float32" else 1e-12)

    def plain():
        return (np.maximum(logits, 0) - x * logits + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1)

    head(f"Bernoulli NLL, ({B}, {D}), {dtype}")
    row("forward: max(l,0) − x l + log1p(exp(−abs(l))) as one expression → vae_np's BernoulliNLL.forward",
        us(plain), us(lambda: fn.forward(logits, x)))
    g = np.full(B, 1.0 / B, dtype)
    row("backward: g (σ(l) − x) as one expression → vae_np's BernoulliNLL.backward",
        us(lambda: g[:, None] * (special.expit(logits) - x)), us(lambda: fn.backward(g)))


def leaf_grad(cfg: models.Config) -> None:
    model = models.reference_model(cfg)
    rng = np.random.default_rng(3)
    gs = [rng.standard_normal(p.shape).astype(p.dtype) for p in model.parameters()]
    params = model.parameters()

    def zero_fill_and_add():
        for p, g in zip(params, gs):
            p.grad = np.zeros_like(p.data)
            p.grad += g

    def copy_first():
        for p, g in zip(params, gs):
            p.grad = np.array(g, dtype=p.data.dtype, copy=True)

    def keep_first():
        for p, g in zip(params, gs):
            p.grad = g

    head(f"Leaf gradients, {cfg.label} (all parameters, first write after zero_grad)")
    row("zero-fill + add → a copy of the first gradient (what tensor.backward does)", us(zero_fill_and_add),
        us(copy_first))
    row("  a copy → keeping the array itself (not safe: ops may hand out views)", us(copy_first), us(keep_first),
        "not done: shown for the bound")


def main() -> int:
    global REPEAT
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true")
    opts = p.parse_args()
    REPEAT = 3 if opts.quick else REPEAT
    set_threads(opts.threads)
    ks = kernels()
    emit(f"Measured {_dt.datetime.now().astimezone().isoformat(timespec='minutes')} on {cpu_model()} "
         f"({cpu_flags()}; {os.cpu_count()} cores, shared: load average {os.getloadavg()[0]:.1f} at start), "
         f"NumPy {np.__version__} ({ks.get('numpy')}); {opts.threads} threads. Command: "
         f"`python benchmarks/hotspots.py{' --quick' if opts.quick else ''}`.")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        emit(f"\n**Not representative:** load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
             "best-of-N times still carry the other processes' share. Rerun on a quiet machine.")
    for cfg in (models.digits("float64"), models.mnist("float64"), models.mnist("float32")):
        adam(cfg)
    for cfg in (models.digits("float64"), models.mnist("float64")):
        tanh(cfg)
    for cfg, dt in ((models.digits("float64"), "float64"), (models.mnist("float64"), "float64"),
                    (models.mnist("float32"), "float32")):
        bernoulli(cfg, dt)
    for cfg in (models.digits("float64"), models.mnist("float64")):
        leaf_grad(cfg)
    emit(f"\nLoad average at the end {os.getloadavg()[0]:.1f}.")
    if not opts.quick:
        (HERE / "hotspots.md").write_text(PREAMBLE + "\n".join(OUT) + "\n")
        print(f"wrote {HERE / 'hotspots.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
