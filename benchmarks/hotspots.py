"""Micro-benchmarks of the pieces of vae_np's step, each beside a cheaper way to do it.

    .venv/bin/python benchmarks/hotspots.py               # digits and MNIST-size, float64
    .venv/bin/python benchmarks/hotspots.py --dtype float32

Nothing here changes vae_np: the alternatives are written out in this file (or, for
Adam's block size, set on the imported module for the duration of one measurement),
so each line reads "what vae_np does now: X µs; the alternative: Y µs". Every number
is the best of several repeats (the least disturbed by other processes on a shared
machine), in µs per training step.
"""
from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from scipy import special  # noqa: E402

import models  # noqa: E402
import vae_np as vn  # noqa: E402
from bench_step import set_threads  # noqa: E402
from vae_np import losses, optim  # noqa: E402
from vae_np.data import check_data  # noqa: E402


def us(fn, repeat: int = 9, min_time: float = 0.02) -> float:
    """Best-of-``repeat`` time of ``fn()`` in µs (each repeat runs at least ``min_time`` s)."""
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < min_time and number < 1 << 16:
        number *= 2
    return 1e6 * min(timer.repeat(repeat, number)) / number


def line(label: str, now: float, alt: float | None = None, alt_label: str = "") -> None:
    if alt is None:
        print(f"  {label:58s} {now:9.1f} µs")
    else:
        print(f"  {label:58s} {now:9.1f} µs   {alt_label}: {alt:9.1f} µs  (saves {now - alt:7.1f} µs)")


def run(cfg: models.Config) -> None:
    B, D, H, m = cfg.B, cfg.D, cfg.H, cfg.m
    dtype = np.dtype(cfg.dtype)
    x, eps = models.make_inputs(cfg, 1)[0]
    r = models.make_vae_np(cfg, models.reference_model(cfg).state_dict())
    model, opt = r.extra["model"], r.extra["opt"]
    for _ in range(5):
        r.step(x, eps)
    step = us(lambda: r.step(x, eps), repeat=7)
    print(f"\n{cfg.label}: one vae_np step {step:.0f} µs (best of 7); load average {os.getloadavg()[0]:.2f}")

    print(" input validation (every step, before any arithmetic)")
    line("check_data(x): isfinite scan + min + max", us(lambda: check_data(x, "x", "bernoulli")))
    lo_hi = us(lambda: (x.min(), x.max()))
    line("bernoulli_nll: x.min(), x.max() again", lo_hi)
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((B, D)).astype(dtype)
    out = np.ones(B, dtype)
    line("_finite: isfinite(loss per example)", us(lambda: np.all(np.isfinite(out))))
    line("_noise: isfinite(eps)", us(lambda: np.all(np.isfinite(eps))))
    line("  cheaper: one finite check of x as np.isfinite(x.sum())", us(lambda: np.isfinite(x.sum())))

    print(" Bernoulli NLL (B×D elementwise)")
    fwd_now = us(lambda: (np.maximum(logits, 0) - x * logits + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1))

    def fwd_alt():
        t = np.abs(logits)
        np.negative(t, out=t)
        np.exp(t, out=t)
        np.log1p(t, out=t)
        u = np.maximum(logits, 0)
        u += t
        np.multiply(x, logits, out=t)
        u -= t
        return u.sum(axis=1)

    line("forward max(l,0) − x l + log1p(exp(−|l|)), 6 temporaries", fwd_now, us(fwd_alt), "in place, 2 temporaries")
    line("  np.logaddexp(0, l) − x l", us(lambda: (np.logaddexp(0, logits) - x * logits).sum(axis=1)))
    g = np.full(B, 1.0 / B, dtype)
    bwd_now = us(lambda: g[:, None] * (special.expit(logits) - x))

    def bwd_alt():
        t = special.expit(logits)
        t -= x
        t *= g[:, None]
        return t

    line("backward g (expit(l) − x)", bwd_now, us(bwd_alt), "in place")

    print(" tanh forward, (B, H), twice per step (encoder and decoder hidden layers)")
    a = rng.standard_normal((B, H)).astype(dtype) * 2

    def tanh_exp(x=a):
        # tanh|x| = (1 − u)/(1 + u), u = e^(−2|x|) ∈ (0, 1]: no overflow, np.exp is SIMD;
        # absolute error ≲ 2 ulp(1) near 0 (relative error grows as 1/|x| there)
        t = np.abs(x)
        t *= -2
        np.exp(t, out=t)
        d = 1 + t
        np.subtract(1, t, out=t)
        t /= d
        return np.copysign(t, x, out=t)

    err = float(np.max(np.abs(tanh_exp() - np.tanh(a))))
    line("np.tanh(x)", us(lambda: np.tanh(a)), us(tanh_exp), f"via np.exp (max abs err {err:.0e})")
    try:
        import torch
        at = torch.from_numpy(a)
        line("  torch.tanh, same array (its own threads)", us(lambda: torch.tanh(at)))
    except ImportError:
        pass

    print(" tanh backward, (B, H)")
    z = np.tanh(rng.standard_normal((B, H)).astype(dtype))
    gz = rng.standard_normal((B, H)).astype(dtype)

    def tanh_alt():
        t = z * z
        np.subtract(1, t, out=t)
        t *= gz
        return t

    line("g ⊙ (1 − z²), 3 temporaries", us(lambda: gz * (1 - z * z)), us(tanh_alt), "in place, 1 temporary")

    print(" optimizer and gradient buffer")
    line(f"Adam.step (vae_np's BLOCK = {optim.BLOCK})", us(opt.step, repeat=5))
    saved = optim.BLOCK
    for block in (4096, 65536, 1 << 20, 1 << 30):
        optim.BLOCK = block
        a = vn.Adam(model.parameters(), lr=1e-3)
        a.flat_grad[...] = 1e-3
        line(f"  Adam.step with BLOCK = {block}", us(a.step, repeat=5))
    optim.BLOCK = saved
    if dtype == np.float32:
        a = vn.Adam(model.parameters(), lr=1e-3)
        a.flat_grad[...] = 1e-3

        def adam_python_scalars(self=a):
            # the same update with lr_t and eps_t as Python floats: np.sqrt gives np.float64
            # scalars, which make float32 in-place ops compute in float64 and cast back (NEP 50)
            self.step_count += 1
            b1, b2 = self.betas
            c2 = float(np.sqrt(1 - b2 ** self.step_count))
            lr_t, eps_t = self.lr * c2 / (1 - b1 ** self.step_count), self.eps * c2
            flat, grad, m_, v_, tmp_all = self.flat, self.flat_grad, self.m, self.v, self._scratch
            for s0 in range(0, flat.size, optim.BLOCK):
                s1 = min(s0 + optim.BLOCK, flat.size)
                g_, mb, vb, tmp = grad[s0:s1], m_[s0:s1], v_[s0:s1], tmp_all[:s1 - s0]
                mb *= b1
                np.multiply(g_, 1 - b1, out=tmp)
                mb += tmp
                vb *= b2
                np.multiply(g_, g_, out=tmp)
                tmp *= 1 - b2
                vb += tmp
                np.sqrt(vb, out=tmp)
                tmp += eps_t
                np.divide(mb, tmp, out=tmp)
                tmp *= lr_t
                flat[s0:s1] -= tmp

        line("  Adam.step, lr_t and eps_t as Python floats", us(adam_python_scalars, repeat=5))
    try:
        import torch
        tp = [torch.tensor(p.data.copy(), requires_grad=True) for p in model.parameters()]
        for t_ in tp:
            t_.grad = torch.full_like(t_, 1e-3)
        topt = torch.optim.Adam(tp, lr=1e-3)
        topt.step()
        line("  torch.optim.Adam.step, same parameters (its own threads)", us(topt.step, repeat=5))
    except ImportError:
        pass
    opt = vn.Adam(model.parameters(), lr=1e-3)   # rebind the parameters to a fresh buffer
    r2 = models.make_vae_np(cfg, models.reference_model(cfg).state_dict())
    r2.step(x, eps)
    opt2 = r2.extra["opt"]
    n = opt2.flat.size
    line(f"zero_grad: flat_grad.fill(0), {n:,} elements", us(opt2.zero_grad))
    grads = {name: p.grad.copy() for name, p in r2.extra["model"].named_parameters()}
    views = [p.grad for p in r2.extra["model"].parameters()]

    def accumulate():
        for v, gg in zip(views, grads.values()):
            v += gg

    def copy():
        for v, gg in zip(views, grads.values()):
            np.copyto(v, gg)

    line("backward: leaf.grad += g for every parameter", us(accumulate), us(copy), "np.copyto on first write")
    # Linear's dW written straight into the gradient buffer: no temporary, no copy.
    X = rng.standard_normal((B, H)).astype(dtype)
    G = rng.standard_normal((B, D)).astype(dtype)
    W_grad = np.zeros((H, D), dtype)
    line(f"decoder.layers.1 dW = Xᵀ G ({H}×{D}) then grad += dW",
         us(lambda: np.add(W_grad, X.T @ G, out=W_grad)),
         us(lambda: np.matmul(X.T, G, out=W_grad)), "np.matmul(Xᵀ, G, out=grad)")

    print(" the three heads: three Linear ops or one (H → 2m + m²)")
    Hh = rng.standard_normal((B, H)).astype(dtype)
    Ws = [rng.standard_normal((H, k)).astype(dtype) for k in (m, m, m * m)]
    Gs = [rng.standard_normal((B, k)).astype(dtype) for k in (m, m, m * m)]
    Wf, Gf = np.concatenate(Ws, axis=1), np.concatenate(Gs, axis=1)

    def three():
        for W_, G_ in zip(Ws, Gs):
            Hh @ W_
            Hh.T @ G_
            G_ @ W_.T

    def one():
        Hh @ Wf
        Hh.T @ Gf
        Gf @ Wf.T

    line("matrix products of the heads (forward, dW, dX)", us(three), us(one), "one fused head")

    print(" the engine's fixed cost (a model too small for arithmetic to matter)")
    tiny = models.Config("tiny", 4, 4, 2, cfg.dtype, B=2)
    xt, et = models.make_inputs(models.Config("mnist", 4, 4, 2, cfg.dtype, B=2), 1)[0]
    rt = models.make_vae_np(tiny, models.reference_model(tiny).state_dict())
    line("vae_np step, D=4 H=4 m=2 B=2", us(lambda: rt.step(xt, et), repeat=7))
    try:
        import torch  # noqa: F401
        tt = models.make_torch(tiny, models.reference_model(tiny).state_dict())
        xt_t, et_t = tt.convert(xt), tt.convert(et)
        line("PyTorch step, same tiny model", us(lambda: tt.step(xt_t, et_t), repeat=7))
    except ImportError:
        pass


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--only", choices=("digits", "mnist"))
    p.add_argument("--threads", type=int, default=2)
    opts = p.parse_args()
    set_threads(opts.threads)
    if opts.only in (None, "digits"):
        run(models.digits(opts.dtype))
    if opts.only in (None, "mnist"):
        run(models.mnist(opts.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
