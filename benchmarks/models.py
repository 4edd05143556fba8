"""One training step of the lecture's VAE in three frameworks, on identical inputs.

The model is ``vn.FullCovVAE(D, [H], m, likelihood="bernoulli", activation="tanh")``:

    h = tanh(x W₀ + b₀)                                  encoder.layers.0   (D → H)
    μ = h W_μ + b_μ,  log σ = h W_σ + b_σ                mu_head, log_sigma_head (H → m)
    L' = reshape(h W_L + b_L, (m, m))                     l_head (H → m²)
    L = tril(L', −1) + diag(exp(log σ)),  z = μ + L ε
    logits = tanh(z W₁ + b₁) W₂ + b₂                      decoder.layers.0 (m → H), .1 (H → D)
    KL = ½(Σμ² + ‖L‖²_F − m) − Σ log σ,  rec = Σⱼ softplus(lⱼ) − xⱼ lⱼ
    loss = mean over the batch of KL + rec,  then one Adam step (lr 1e-3)

written three times: with ``vae_np`` itself, in PyTorch eager (explicit tensors, no
``nn.Module``) and in HIPS ``autograd`` with a plain NumPy Adam. The PyTorch and autograd
versions copy their initial parameters from the ``vae_np`` model's ``state_dict()`` (a
``vae_np`` weight is (n_in, n_out): y = x W + b), and all three read the same batches and
the same ε at every step, so their losses can be compared number for number.

Each ``make_*`` function returns a :class:`Runner`: ``step(x, eps)`` does one training step
(zero the gradients, forward, backward, Adam) and returns the loss as the framework holds
it; ``loss_value`` turns that into a float; ``grads`` gives the gradients of the last step
by ``vae_np`` name, for the agreement check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import vae_np as vn

LR = 1e-3
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


# ---------------------------------------------------------------------------------------
# Configurations, data and the matrix products of one step
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """One column of the results table."""

    data: str          # "digits" (scikit-learn's 8×8 digits) or "mnist" (synthetic, MNIST-size)
    D: int
    H: int
    m: int
    dtype: str         # "float64" or "float32"
    B: int = 128

    @property
    def label(self) -> str:
        return f"{self.data} D={self.D} H={self.H} m={self.m}, {self.dtype}"

    @property
    def key(self) -> str:
        return f"{self.data}-m{self.m}-{self.dtype}"


def digits(dtype: str) -> Config:
    return Config("digits", 64, 256, 8, dtype)


def mnist(dtype: str, m: int = 16, B: int = 128) -> Config:
    return Config("mnist", 784, 512, m, dtype, B)


def layers(cfg: Config) -> list[tuple[str, int, int]]:
    """(vae_np name, n_in, n_out) of every affine layer, in the order of ``named_parameters``."""
    D, H, m = cfg.D, cfg.H, cfg.m
    return [("encoder.layers.0", D, H), ("mu_head", H, m), ("log_sigma_head", H, m),
            ("l_head", H, m * m), ("decoder.layers.0", m, H), ("decoder.layers.1", H, D)]


def matmul_flops(cfg: Config) -> int:
    """Floating-point operations of the step's matrix products, counted as 2·n·k·p each.

    Per layer: forward X W and dW = Xᵀ G (2·B·n_in·n_out each) and dX = G Wᵀ (the same)
    except for the first layer, whose input is data. The batched L ε (2·B·m² forward,
    twice that backward) is left out: it is at most 0.1 % of the total here.
    """
    total = 0
    for name, n_in, n_out in layers(cfg):
        products = 2 if name == "encoder.layers.0" else 3
        total += products * 2 * cfg.B * n_in * n_out
    return total


def make_inputs(cfg: Config, n_batches: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_batches`` pairs (x: (B, D), ε: (B, m)), C-contiguous, in the config's dtype.

    digits: minibatches of ``vn.load_digits()``'s training images in a seeded shuffled
    order; mnist: uniform [0, 1] pixels (no MNIST files are on this machine; the step's
    cost does not depend on the pixel values). ε is standard normal, drawn in float64
    and rounded to the dtype, so float32 and float64 runs see the same noise.
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(cfg.dtype)
    if cfg.data == "digits":
        pool = vn.load_digits(dtype=np.float64).x_train
    else:
        pool = rng.uniform(0.0, 1.0, (max(16, n_batches) * cfg.B, cfg.D))
    out, order = [], rng.permutation(len(pool))
    for i in range(n_batches):
        start = (i * cfg.B) % (len(pool) - cfg.B + 1)
        idx = order[start:start + cfg.B]
        x = np.ascontiguousarray(pool[idx], dtype=dtype)
        eps = rng.standard_normal((cfg.B, cfg.m)).astype(dtype)
        out.append((x, eps))
    return out


def reference_model(cfg: Config, seed: int = 0) -> vn.FullCovVAE:
    """The ``vae_np`` model whose initial parameters every framework starts from."""
    return vn.FullCovVAE(cfg.D, [cfg.H], cfg.m, likelihood="bernoulli", activation="tanh",
                         seed=seed, dtype=np.dtype(cfg.dtype))


@dataclass
class Runner:
    name: str
    step: Callable[[Any, Any], Any]
    loss_value: Callable[[Any], float]
    grads: Callable[[], dict[str, np.ndarray]]
    convert: Callable[[np.ndarray], Any] = lambda a: a   # numpy input → framework input
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# vae_np
# ---------------------------------------------------------------------------------------
def make_vae_np(cfg: Config, state: dict[str, np.ndarray]) -> Runner:
    """``vae_np`` exactly as ``vn.fit`` trains it: zero_grad, model.loss, backward, Adam."""
    model = reference_model(cfg)
    model.load_state_dict(state)
    opt = vn.Adam(model.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)

    def step(x, eps):
        opt.zero_grad()
        loss = model.loss(x, eps=eps)
        loss.backward()
        opt.step()
        return loss

    def grads():
        return {name: p.grad.copy() for name, p in model.named_parameters()}

    return Runner("vae_np", step, lambda loss: float(loss.item()), grads, extra={"model": model, "opt": opt})


# ---------------------------------------------------------------------------------------
# PyTorch eager
# ---------------------------------------------------------------------------------------
def make_torch_fused(cfg: Config, state: dict[str, np.ndarray]) -> Runner:
    """PyTorch eager as :func:`make_torch`, with ``torch.optim.Adam(fused=True)`` (one kernel)."""
    r = make_torch(cfg, state, fused=True)
    r.name = "torch_fused"
    return r


def make_torch(cfg: Config, state: dict[str, np.ndarray], fused: bool = False) -> Runner:
    """The same model in PyTorch eager: explicit (n_in, n_out) weights, ``torch.optim.Adam``.

    ``addmm(b, x, W)`` is what ``nn.Linear`` runs (with Wᵀ stored); the reconstruction
    term is the fused ``binary_cross_entropy_with_logits`` (softplus(l) − x l, summed).
    Adam is PyTorch's default implementation for CPU tensors.
    """
    import torch
    import torch.nn.functional as F

    params = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
    P = [params[k] for k in state]
    opt = torch.optim.Adam(P, lr=LR, betas=BETAS, eps=ADAM_EPS, fused=fused or None)
    m = cfg.m

    def lin(name, h):
        return torch.addmm(params[name + ".bias"], h, params[name + ".weight"])

    def loss_fn(x, eps):
        h = torch.tanh(lin("encoder.layers.0", x))
        mu, log_sigma = lin("mu_head", h), lin("log_sigma_head", h)
        l_prime = lin("l_head", h).view(-1, m, m)
        L = torch.tril(l_prime, -1) + torch.diag_embed(torch.exp(log_sigma))
        z = mu + (L @ eps.unsqueeze(-1)).squeeze(-1)
        logits = lin("decoder.layers.1", torch.tanh(lin("decoder.layers.0", z)))
        kl = 0.5 * (mu.square().sum() + L.square().sum() - x.shape[0] * m) - log_sigma.sum()
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        return (kl + rec) / x.shape[0]

    def step(x, eps):
        opt.zero_grad()
        loss = loss_fn(x, eps)
        loss.backward()
        opt.step()
        return loss

    def grads():
        return {k: p.grad.detach().numpy().copy() for k, p in params.items()}

    return Runner("torch", step, lambda loss: float(loss.item()), grads, convert=torch.from_numpy)


# ---------------------------------------------------------------------------------------
# HIPS autograd
# ---------------------------------------------------------------------------------------
def make_autograd(cfg: Config, state: dict[str, np.ndarray]) -> Runner:
    """The same model in HIPS ``autograd`` (traced NumPy), with a plain NumPy Adam per array."""
    import autograd.numpy as anp
    from autograd import value_and_grad

    names = list(state)
    params = [state[k].copy() for k in names]
    index = {k: i for i, k in enumerate(names)}
    m, dtype = cfg.m, np.dtype(cfg.dtype)
    eye = np.eye(m, dtype=dtype)

    def lin(P, name, h):
        return anp.dot(h, P[index[name + ".weight"]]) + P[index[name + ".bias"]]

    def loss_fn(P, x, eps):
        h = anp.tanh(lin(P, "encoder.layers.0", x))
        mu, log_sigma = lin(P, "mu_head", h), lin(P, "log_sigma_head", h)
        l_prime = anp.reshape(lin(P, "l_head", h), (-1, m, m))
        L = anp.tril(l_prime, -1) + anp.exp(log_sigma)[:, :, None] * eye
        z = mu + anp.matmul(L, eps[:, :, None])[:, :, 0]
        logits = lin(P, "decoder.layers.1", anp.tanh(lin(P, "decoder.layers.0", z)))
        kl = 0.5 * (anp.sum(mu * mu) + anp.sum(L * L) - x.shape[0] * m) - anp.sum(log_sigma)
        rec = anp.sum(anp.logaddexp(0.0, logits) - x * logits)
        return (kl + rec) / x.shape[0]

    vg = value_and_grad(loss_fn)
    mom = [np.zeros_like(p) for p in params]
    vel = [np.zeros_like(p) for p in params]
    t = [0]
    last: list = [None]

    def step(x, eps):
        loss, g = vg(params, x, eps)
        t[0] += 1
        _adam_arrays(params, g, mom, vel, t[0])
        last[0] = g
        return loss

    def grads():
        return {k: np.asarray(gi).copy() for k, gi in zip(names, last[0])}

    return Runner("autograd", step, float, grads)


# ---------------------------------------------------------------------------------------
# The floor: a hand-written NumPy step, no autograd
# ---------------------------------------------------------------------------------------
def _adam_arrays(params, grads, mom, vel, t, b1=BETAS[0], b2=BETAS[1]):
    """In-place Adam per array, as a careful NumPy programmer writes it: the same rule and the
    same rounding as ``vn.Adam`` (lr_t, eps_t folded; Python-float scalars keep float32)."""
    c2 = (1 - b2 ** t) ** 0.5
    lr_t, eps_t = LR * c2 / (1 - b1 ** t), ADAM_EPS * c2
    for p, g, m, v in zip(params, grads, mom, vel):
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        d = np.sqrt(v)
        d += eps_t
        np.divide(m, d, out=d)
        d *= lr_t
        p -= d


def make_numpy(cfg: Config, state: dict[str, np.ndarray]) -> Runner:
    """The same step written out in NumPy: forward, the backward derived by hand, Adam.

    Forward as in the module docstring; backward (G = 1/B):
    dlogits = (sigmoid(logits) − x) G;  dW₂ = h₁ᵀ dlogits;  dh₁ = dlogits W₂ᵀ;
    da₁ = dh₁ (1 − h₁²);  dz = da₁ W₁ᵀ;  dμ = dz + μ G;  dL = dz εᵀ + L G;
    dL' = tril(dL, −1);  d log σ = diag(dL) σ − G;  dh = dμ W_μᵀ + d log σ W_σᵀ + dL' W_Lᵀ;
    da₀ = dh (1 − h²);  dW₀ = xᵀ da₀ (and every db the column sums of its da).
    No graph, no checks, no undo: the floor an implementation with autograd is held to.
    """
    names = list(state)
    P = {k: state[k].copy() for k in names}
    m = cfg.m
    mom = [np.zeros_like(P[k]) for k in names]
    vel = [np.zeros_like(P[k]) for k in names]
    t, last = [0], [None]
    low = np.tril(np.ones((m, m), bool), -1)
    diag = np.arange(m)

    def step(x, eps):
        B = x.shape[0]
        G = 1.0 / B
        W = lambda name: P[name + ".weight"]  # noqa: E731
        h = np.tanh(x @ W("encoder.layers.0") + P["encoder.layers.0.bias"])
        mu = h @ W("mu_head") + P["mu_head.bias"]
        log_sigma = h @ W("log_sigma_head") + P["log_sigma_head.bias"]
        sigma = np.exp(log_sigma)
        L = (h @ W("l_head") + P["l_head.bias"]).reshape(B, m, m) * low
        L[:, diag, diag] = sigma
        z = mu + np.einsum("bij,bj->bi", L, eps)
        h1 = np.tanh(z @ W("decoder.layers.0") + P["decoder.layers.0.bias"])
        logits = h1 @ W("decoder.layers.1") + P["decoder.layers.1.bias"]
        e = np.exp(-np.abs(logits))
        rec = np.sum(np.maximum(logits, 0) + np.log1p(e) - x * logits)
        kl = 0.5 * (np.sum(mu * mu) + np.sum(L * L) - B * m) - np.sum(log_sigma)
        loss = (kl + rec) * G
        # backward
        sig = np.where(logits >= 0, 1, e) / (1 + e)
        d_logits = (sig - x) * G
        d_h1 = d_logits @ W("decoder.layers.1").T
        d_a1 = d_h1 * (1 - h1 * h1)
        d_z = d_a1 @ W("decoder.layers.0").T
        d_mu = d_z + mu * G
        d_L = d_z[:, :, None] * eps[:, None, :] + L * G
        d_log_sigma = d_L[:, diag, diag] * sigma - G
        d_lp = (d_L * low).reshape(B, m * m)
        d_h = d_mu @ W("mu_head").T + d_log_sigma @ W("log_sigma_head").T + d_lp @ W("l_head").T
        d_a0 = d_h * (1 - h * h)
        grads = {}
        for name, inp, d in (("encoder.layers.0", x, d_a0), ("mu_head", h, d_mu), ("log_sigma_head", h, d_log_sigma),
                             ("l_head", h, d_lp), ("decoder.layers.0", z, d_a1), ("decoder.layers.1", h1, d_logits)):
            grads[name + ".weight"] = inp.T @ d
            grads[name + ".bias"] = d.sum(0)
        t[0] += 1
        _adam_arrays([P[k] for k in names], [grads[k] for k in names], mom, vel, t[0])
        last[0] = grads
        return loss

    return Runner("numpy", step, float, lambda: {k: g.copy() for k, g in last[0].items()})


# ---------------------------------------------------------------------------------------
# The floor: the step's matrix products alone, in NumPy
# ---------------------------------------------------------------------------------------
def make_matmul_floor(cfg: Config, state: dict | None = None, seed: int = 1) -> Runner:
    """Only the matrix products of one step, with the step's shapes and dtype.

    For every layer Y = X W and dW = Xᵀ G, and dX = G Wᵀ except for the first layer
    (its input is data), each allocating its result as the real step does. Random
    operands: BLAS time does not depend on the values.
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(cfg.dtype)
    ops = []
    for name, n_in, n_out in layers(cfg):
        X = rng.standard_normal((cfg.B, n_in)).astype(dtype)
        W = rng.standard_normal((n_in, n_out)).astype(dtype)
        G = rng.standard_normal((cfg.B, n_out)).astype(dtype)
        ops.append((X, W, G, name != "encoder.layers.0"))

    def step(x=None, eps=None):
        for X, W, G, need_dx in ops:
            X @ W
            X.T @ G
            if need_dx:
                G @ W.T
        return 0.0

    return Runner("matmul", step, float, dict)


FRAMEWORKS = {"vae_np": make_vae_np, "torch": make_torch, "torch_fused": make_torch_fused,
              "autograd": make_autograd}
FLOORS = {"numpy": make_numpy, "matmul": make_matmul_floor}


def available() -> dict[str, str | None]:
    """Which optional frameworks import: name → None, or the reason they do not."""
    reasons: dict[str, str | None] = {"vae_np": None}
    for name, module in (("torch", "torch"), ("torch_fused", "torch"), ("autograd", "autograd")):
        try:
            __import__(module)
            reasons[name] = None
        except Exception as err:  # ImportError, or a broken install
            reasons[name] = f"{type(err).__name__}: {err}"
    return reasons
