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


def mnist(dtype: str, m: int = 16) -> Config:
    return Config("mnist", 784, 512, m, dtype)


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
def make_torch(cfg: Config, state: dict[str, np.ndarray]) -> Runner:
    """The same model in PyTorch eager: explicit (n_in, n_out) weights, ``torch.optim.Adam``.

    ``addmm(b, x, W)`` is what ``nn.Linear`` runs (with Wᵀ stored); the reconstruction
    term is the fused ``binary_cross_entropy_with_logits`` (softplus(l) − x l, summed).
    Adam is PyTorch's default implementation for CPU tensors.
    """
    import torch
    import torch.nn.functional as F

    params = {k: torch.tensor(v, requires_grad=True) for k, v in state.items()}
    P = [params[k] for k in state]
    opt = torch.optim.Adam(P, lr=LR, betas=BETAS, eps=ADAM_EPS)
    m, B = cfg.m, cfg.B

    def lin(name, h):
        return torch.addmm(params[name + ".bias"], h, params[name + ".weight"])

    def loss_fn(x, eps):
        h = torch.tanh(lin("encoder.layers.0", x))
        mu, log_sigma = lin("mu_head", h), lin("log_sigma_head", h)
        l_prime = lin("l_head", h).view(-1, m, m)
        L = torch.tril(l_prime, -1) + torch.diag_embed(torch.exp(log_sigma))
        z = mu + (L @ eps.unsqueeze(-1)).squeeze(-1)
        logits = lin("decoder.layers.1", torch.tanh(lin("decoder.layers.0", z)))
        kl = 0.5 * (mu.square().sum() + L.square().sum() - B * m) - log_sigma.sum()
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
    b1, b2 = BETAS

    def step(x, eps):
        loss, g = vg(params, x, eps)
        t[0] += 1
        c2 = np.sqrt(1 - b2 ** t[0])
        lr_t, eps_t = LR * c2 / (1 - b1 ** t[0]), ADAM_EPS * c2
        for p, gi, mi, vi in zip(params, g, mom, vel):
            mi *= b1
            mi += (1 - b1) * gi
            vi *= b2
            vi += (1 - b2) * (gi * gi)
            p -= lr_t * mi / (np.sqrt(vi) + eps_t)
        last[0] = g
        return loss

    def grads():
        return {k: np.asarray(gi).copy() for k, gi in zip(names, last[0])}

    return Runner("autograd", step, float, grads)


# ---------------------------------------------------------------------------------------
# The floor: the step's matrix products alone, in NumPy
# ---------------------------------------------------------------------------------------
def make_matmul_floor(cfg: Config, seed: int = 1) -> Runner:
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


FRAMEWORKS = {"vae_np": make_vae_np, "torch": make_torch, "autograd": make_autograd}


def available() -> dict[str, str | None]:
    """Which optional frameworks import: name → None, or the reason they do not."""
    reasons: dict[str, str | None] = {"vae_np": None}
    for name, module in (("torch", "torch"), ("autograd", "autograd")):
        try:
            __import__(module)
            reasons[name] = None
        except Exception as err:  # ImportError, or a broken install
            reasons[name] = f"{type(err).__name__}: {err}"
    return reasons
