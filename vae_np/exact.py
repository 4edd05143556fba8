"""Exact answers to hold the approximations against: closed forms, quadrature, optimised q.

A VAE maximises the ELBO, a lower bound on log p(x) whose gap is KL(q(z|x) ‖ p(z|x)).
To *measure* that gap one needs log p(x) and p(z|x) themselves. This module gives them
in the two cases where they can be had exactly, and the best q of a family per example:

=====================================  ========================================================
:func:`linear_gaussian_posterior`      p(z|x) of p(z) = N(0, I), p(x|z) = N(Wz + b, s²I)
:func:`linear_gaussian_log_marginal`   log p(x) = log N(x; b, WWᵀ + s²I) of that model
:func:`log_marginal_2d`                log p(x) by quadrature on a grid, any 2-D latent model
:func:`posterior_grid`                 the normalised p(z|x) on that grid, for plotting
:func:`elbo`                           the ELBO of a given q = N(μ, LLᵀ) per example
:func:`refine_posterior`               the q of the model's family that maximises the ELBO
=====================================  ========================================================

Conventions: ``W`` is ``(d, m)`` and maps z to x (``x ≈ W z + b``). vae_np's
:class:`~vae_np.nn.Linear` stores its weight as ``(n_in, n_out)`` and computes
``z @ weight + bias``, so a one-layer decoder's weight is ``Wᵀ``: pass
``decoder.layers[0].weight.data.T``.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
from scipy.linalg import cholesky, solve_triangular
from scipy.special import logsumexp

from . import gaussian, losses, ops
from .optim import Adam
from .data import check_data
from .tensor import Tensor, no_grad
from .validate import (LOG_2PI, as_array, as_rng, check_finite, check_shape, integer,
                       positive_int, positive_real)

__all__ = ["linear_gaussian_posterior", "linear_gaussian_log_marginal", "log_marginal_2d",
           "posterior_grid", "elbo", "refine_posterior"]

_MAX_ROWS = 1 << 15          # rows of z pushed through the decoder at once


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------
def _float64(a: Any, name: str) -> np.ndarray:
    """``a`` as a finite float64 array (float16, float32 and ints converted)."""
    return check_finite(as_array(a, name).astype(np.float64, copy=False), name)


def _linear_gaussian_args(x: Any, W: Any, b: Any, noise_std: Any):
    sizes: dict[str, int] = {}
    W = _float64(check_shape(W, "W", "d m", sizes), "W")
    x = _float64(check_shape(x, "x", "B d", sizes), "x")
    b = _float64(check_shape(b, "b", "d", sizes), "b")
    return x, W, b, positive_real(noise_std, "noise_std")


def _check_model(model: Any, fn: str, latent_2d: bool = False) -> None:
    for attr in ("encode", "decoder_output", "latent_dim", "likelihood", "posterior"):
        if not hasattr(model, attr):
            raise TypeError(f"{fn}: model must be a FullCovVAE or DiagonalVAE; got "
                            f"{type(model).__name__} (it has no {attr!r})")
    if latent_2d and model.latent_dim != 2:
        raise ValueError(f"{fn}: the model's latent must be 2-D (latent_dim = 2) for a grid "
                         f"over z; got latent_dim = {model.latent_dim}")


def _model_x(model: Any, x: Any, fn: str) -> np.ndarray:
    """x checked for the model's likelihood and input size, as the model's dtype: (B, d)."""
    try:
        x = check_data(as_array(x, "x"), "x", model.likelihood)
    except ValueError as err:
        raise ValueError(f"{fn}: {err}") from None
    if x.shape[1] != model.input_dim:
        raise ValueError(f"{fn}: x must have shape (B, {model.input_dim}) for this model; "
                         f"got shape {x.shape}")
    return x.astype(model.dtype, copy=False)


# ---------------------------------------------------------------------------------------
# The linear-Gaussian model in closed form
# ---------------------------------------------------------------------------------------
def _precision_factors(W: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """Cholesky C (lower, M = CCᵀ) and reversed factor U (upper, M = UUᵀ) of M = WᵀW + s²I."""
    m = W.shape[1]
    M = W.T @ W + s * s * np.eye(m)
    C = cholesky(M, lower=True)
    U = cholesky(M[::-1, ::-1], lower=True)[::-1, ::-1]   # flip·chol(flip M flip)·flip
    return C, U


def linear_gaussian_posterior(x: Any, W: Any, b: Any, noise_std: float) -> tuple[np.ndarray, np.ndarray]:
    """The exact posterior of the linear-Gaussian model, per example.

    Model: p(z) = N(0, I_m), p(x|z) = N(W z + b, s² I_d). Its posterior is

        p(z|x) = N(M⁻¹ Wᵀ (x − b), s² M⁻¹),   M = WᵀW + s² I_m.

    Parameters
    ----------
    x : (B, d)
    W : (d, m)
        Maps z to the mean of x. A vae_np :class:`~vae_np.nn.Linear` decoder layer stores
        ``(m, d)`` (it computes ``z @ weight``): pass its ``weight.T``.
    b : (d,)
    noise_std : float
        s > 0.

    Returns
    -------
    mean : (B, m)
    scale_tril : (B, m, m)
        Lower-triangular L with positive diagonal and LLᵀ = s² M⁻¹, the same for every
        example: a read-only broadcast view of one (m, m) matrix (copy it to modify).

    Notes
    -----
    No inverse is formed. With M = UUᵀ, U upper triangular (the Cholesky factor of M
    with rows and columns reversed), s² M⁻¹ = (s U⁻ᵀ)(s U⁻ᵀ)ᵀ and U⁻ᵀ is lower
    triangular: L = s U⁻ᵀ is one triangular solve. The mean is two more, O(B·d·m + B·m²).
    """
    x, W, b, s = _linear_gaussian_args(x, W, b, noise_std)
    m = W.shape[1]
    _, U = _precision_factors(W, s)
    rhs = W.T @ (x - b).T                                          # Wᵀ(x − b), (m, B)
    mean = solve_triangular(U, solve_triangular(U, rhs), trans="T")   # U⁻ᵀU⁻¹ rhs
    L = s * solve_triangular(U, np.eye(m), trans="T")              # s U⁻ᵀ, lower
    return mean.T, np.broadcast_to(np.tril(L), (x.shape[0], m, m))


def linear_gaussian_log_marginal(x: Any, W: Any, b: Any, noise_std: float) -> np.ndarray:
    """log p(x) = log N(x; b, WWᵀ + s²I) of the linear-Gaussian model, per example.

    Parameters are those of :func:`linear_gaussian_posterior`.

    Returns
    -------
    (B,) array, in nats.

    Notes
    -----
    The d×d covariance C = WWᵀ + s²I is never formed. With M = WᵀW + s²I = CₘCₘᵀ:

    * log det C = (d − m) log s² + log det M   (matrix determinant lemma), and
    * rᵀC⁻¹r = (‖r‖² − ‖Cₘ⁻¹Wᵀr‖²) / s²,  r = x − b   (Woodbury identity),

    so the cost is O(d·m² + B·d·m) instead of O(d³).
    """
    x, W, b, s = _linear_gaussian_args(x, W, b, noise_std)
    d, m = W.shape
    C, _ = _precision_factors(W, s)
    r = x - b
    u = solve_triangular(C, W.T @ r.T, lower=True)                 # Cₘ⁻¹ Wᵀ r, (m, B)
    quad = (np.einsum("bj,bj->b", r, r) - np.einsum("ib,ib->b", u, u)) / (s * s)
    log_det = (d - m) * math.log(s * s) + 2 * np.log(np.diag(C)).sum()
    return -0.5 * (d * LOG_2PI + log_det + quad)


# ---------------------------------------------------------------------------------------
# Quadrature over a 2-D latent
# ---------------------------------------------------------------------------------------
class _GridLikelihood:
    """log p(x_b | z_g) for every example b and grid point g, as a normalised density.

    Built once from the decoder's output ``out`` (G, d) at the grid points; calling it on
    x (B, d) gives the (B, G) table. Equal to ``-bernoulli_nll(out_g, x_b)`` (Bernoulli)
    or ``-gaussian_nll(out_g, x_b, σ)`` (Gaussian; for the lecture's ``"mse"``,
    σ² = d/2, which makes the MSE a log density up to a constant) for every pair, but
    as one matrix product ``x @ outᵀ`` plus per-row and per-column terms instead of B·G
    separate losses: both are a linear function of x·o_g.
    """

    def __init__(self, model: Any, out: np.ndarray):
        d = out.shape[1]
        self.out, self.bernoulli = out, model.likelihood == "bernoulli"
        if self.bernoulli:       # Σⱼ xⱼ oⱼ − softplus(oⱼ)
            self.scale, self.per_point = 1.0, -np.logaddexp(0.0, out).sum(axis=1)
        else:                    # −‖x − o‖²/(2σ²) − d log σ − (d/2) log 2π
            sigma = model.sigma if model.likelihood == "gaussian" else math.sqrt(d / 2)
            self.scale = 1.0 / sigma ** 2
            self.per_point = -0.5 * self.scale * (out * out).sum(axis=1)
            self.constant = -d * math.log(sigma) - 0.5 * d * LOG_2PI

    def __call__(self, x: np.ndarray) -> np.ndarray:
        table = self.scale * (x @ self.out.T) + self.per_point
        if not self.bernoulli:
            table += (self.constant - 0.5 * self.scale * (x * x).sum(axis=1))[:, None]
        return table


def _grid(n_grid: Any, span: Any) -> tuple[np.ndarray, float, np.ndarray]:
    n = integer(n_grid, "n_grid", minimum=5)
    span = positive_real(span, "span")
    axis = np.linspace(-span, span, n)
    z2, z1 = np.meshgrid(axis, axis, indexing="ij")               # row i: z₂ = axis[i]
    return axis, float(axis[1] - axis[0]), np.stack([z1.ravel(), z2.ravel()], axis=1)


def _log_joint_grid(model: Any, z: np.ndarray) -> Any:
    """x ↦ log p(x_b, z_g) = log p(x_b|z_g) + log N(z_g; 0, I) on the grid: (B, G).

    The decoder runs once over the grid (in blocks of rows); the returned function
    then costs one matrix product per batch of x.
    """
    with no_grad():
        out = np.concatenate([model.decoder_output(z[a:a + _MAX_ROWS].astype(model.dtype)).data
                              for a in range(0, len(z), _MAX_ROWS)]).astype(np.float64)
    likelihood = _GridLikelihood(model, out)
    log_prior = -0.5 * (z * z).sum(1) - LOG_2PI
    return lambda x: likelihood(x.astype(np.float64)) + log_prior


def log_marginal_2d(model: Any, x: Any, n_grid: int = 201, span: float = 5.0,
                    tol: float = 1e-3) -> np.ndarray:
    """log p(x) by quadrature over z ∈ [−span, span]², for a model with a 2-D latent.

    log p(x) = log ∫ p(x|z) N(z; 0, I) dz ≈ log Σ_g p(x|z_g) N(z_g; 0, I) h², over an
    n_grid × n_grid grid of step h = 2·span/(n_grid − 1), by a log-sum-exp. The decoder
    likelihood is the model's, as a normalised density (the lecture's ``"mse"`` as the
    Gaussian with σ² = d/2 it equals up to a constant).

    Parameters
    ----------
    model : FullCovVAE or DiagonalVAE with ``latent_dim == 2``
    x : (B, d)
    n_grid : int
        Points per axis (>= 5). The default 201 (h = 0.05 for span 5) resolves the
        posteriors of the book's 2-D digit models, whose standard deviations are
        about 0.1 or more.
    span : float
        Half-width of the grid: the prior's mass beyond 5 is below 4·10⁻⁶.
    tol : float
        Accuracy demanded, in nats (see Raises).

    Returns
    -------
    (B,) array of log p(x), in nats.

    Raises
    ------
    ValueError
        If the grid cannot be trusted for some example: (1) resolution: log p(x) from
        the grid and from its every-other-point subgrid (step 2h) differ by more than
        ``tol`` (for a smooth integrand the error of the fine grid is far smaller
        than that difference, so agreement means both are resolved; a posterior much
        narrower than 2h fails it), or (2) truncation, checked first: more than
        ``tol``/10 of the posterior mass lies on the grid's border rows and columns
        (raise ``span``).
        Also for a model whose latent is not 2-D, and for bad x, n_grid or span.
    """
    fn = "log_marginal_2d"
    _check_model(model, fn, latent_2d=True)
    x = _model_x(model, x, fn)
    axis, h, z = _grid(n_grid, span)
    tol = positive_real(tol, "tol")
    n = len(axis)
    result = np.empty(len(x))
    log_joint = _log_joint_grid(model, z)
    rows = max(1, (1 << 22) // len(z))          # (rows, G) tables of 32 MB
    for a in range(0, len(x), rows):
        lj = log_joint(x[a:a + rows])
        fine = logsumexp(lj, axis=1) + 2 * math.log(h)
        coarse = logsumexp(lj.reshape(-1, n, n)[:, ::2, ::2].reshape(len(lj), -1),
                           axis=1) + 2 * math.log(2 * h)
        _trust(lj.reshape(-1, n, n), fine - 2 * math.log(h), fine, coarse, h, tol, a)
        result[a:a + rows] = fine
    return result


def _trust(lj: np.ndarray, log_sum: np.ndarray, fine: np.ndarray, coarse: np.ndarray,
           h: float, tol: float, offset: int) -> None:
    """Raise the ValueError of :func:`log_marginal_2d` if the grid is too coarse or too small."""
    border = np.concatenate([lj[:, 0], lj[:, -1], lj[:, 1:-1, 0], lj[:, 1:-1, -1]], axis=1)
    mass = np.exp(logsumexp(border, axis=1) - log_sum)
    if np.any(mass > tol / 10):
        b = int(np.argmax(mass))
        raise ValueError(
            f"log_marginal_2d: the grid is too small to be trusted for x[{offset + b}]: "
            f"{mass[b]:.2g} of the posterior mass lies on its border (at most tol/10 = "
            f"{tol / 10:g} allowed): raise span")
    diff = np.abs(fine - coarse)
    if np.any(diff > tol):
        b = int(np.argmax(diff))
        raise ValueError(
            f"log_marginal_2d: the grid is too coarse to be trusted for x[{offset + b}]: log p(x) "
            f"is {fine[b]:.5f} with step h = {h:.4g} and {coarse[b]:.5f} with step 2h; they must "
            f"agree within tol = {tol:g} nats. The posterior is too narrow for the grid: raise "
            f"n_grid (or lower span)")


def posterior_grid(model: Any, x: Any, n_grid: int = 201, span: float = 5.0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The normalised posterior p(z|x) on the grid of :func:`log_marginal_2d`, for plotting.

    Parameters
    ----------
    model : FullCovVAE or DiagonalVAE with ``latent_dim == 2``
    x : (B, d)
    n_grid, span : as in :func:`log_marginal_2d`

    Returns
    -------
    z1 : (n_grid,)
        Grid values of z₁ (the horizontal axis).
    z2 : (n_grid,)
        Grid values of z₂ (the vertical axis); the same values as ``z1``.
    density : (B, n_grid, n_grid)
        ``density[b, i, j]`` = p(z₁ = z1[j], z₂ = z2[i] | x_b), normalised so that
        ``density[b].sum() * h**2 == 1`` (h the grid step). ``plt.contour(z1, z2,
        density[b])`` draws it. The grid is not checked: use :func:`log_marginal_2d`
        for numbers.
    """
    fn = "posterior_grid"
    _check_model(model, fn, latent_2d=True)
    x = _model_x(model, x, fn)
    axis, h, z = _grid(n_grid, span)
    lj = _log_joint_grid(model, z)(x)
    density = np.exp(lj - logsumexp(lj, axis=1, keepdims=True)) / h ** 2
    return axis, axis.copy(), density.reshape(len(x), len(axis), len(axis))


# ---------------------------------------------------------------------------------------
# The ELBO of a given q, and the best q per example
# ---------------------------------------------------------------------------------------
def _standard_noise(rng: np.random.Generator, n_samples: int, B: int, m: int) -> np.ndarray:
    """ε (n_samples, B, m) whose sample mean is 0 and sample covariance I for each example.

    Drawn from N(0, I), then centred and whitened per example (ε ← K⁻¹(ε − ε̄), KKᵀ the
    sample covariance). For a decoder whose log-likelihood is quadratic in z (linear-
    Gaussian) the Monte Carlo ELBO is then exact; otherwise it has lower variance.
    """
    eps = rng.standard_normal((B, n_samples, m))
    eps -= eps.mean(axis=1, keepdims=True)
    K = np.linalg.cholesky(np.einsum("bsi,bsj->bij", eps, eps) / n_samples)
    eps = gaussian.solve_lower(K[:, None], eps)                    # K⁻¹ ε per sample
    return np.ascontiguousarray(eps.transpose(1, 0, 2))


def _reconstruction(model: Any, out: Tensor, x: np.ndarray) -> Tensor:
    """−log p(x|z) per row as a normalised density, from the public losses: (rows,)."""
    if model.likelihood == "bernoulli":
        return losses.bernoulli_nll(out, x)
    sigma = model.sigma if model.likelihood == "gaussian" else math.sqrt(x.shape[1] / 2)
    return losses.gaussian_nll(out, x, sigma)


def _neg_elbo(model: Any, x: np.ndarray, mu: Any, log_sigma: Any, L: Any,
              eps: np.ndarray) -> Tensor:
    """KL(q ‖ N(0, I)) + mean over the samples of −log p(x|μ + Lεₛ): (B,), differentiable."""
    S, B, m = eps.shape
    rep = lambda t: ops.concatenate([t] * S, axis=0)               # noqa: E731
    z = gaussian.rsample(rep(mu), rep(L), eps.reshape(S * B, m).astype(model.dtype))
    rec = _reconstruction(model, model.decoder_output(z), np.tile(x, (S, 1)))
    return gaussian.kl_standard_normal(mu, log_sigma, L) + ops.mean(rec.reshape(S, B), axis=0)


def _q_args(model: Any, x: np.ndarray, mu: Any, L: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    B, m = len(x), model.latent_dim
    sizes = {"B": B, "m": m}
    mu = _float64(check_shape(mu, "mu", "B m", sizes), "mu")
    L = _float64(check_shape(L, "L", "B m m", sizes), "L")
    if np.any(np.triu(L, 1)) or not np.all(np.diagonal(L, 0, 1, 2) > 0):
        raise ValueError(f"{fn}: L must be lower triangular with a positive diagonal")
    return mu, L


def elbo(model: Any, x: Any, mu: Any, L: Any, n_samples: int = 1000, seed: Any = 0) -> np.ndarray:
    """The ELBO of q(z|x) = N(μ, LLᵀ) under the model's decoder and prior, per example.

    ELBO = E_q[log p(x|z)] − KL(q ‖ N(0, I)): the KL in closed form, the expectation
    over ``n_samples`` draws z = μ + Lε with standardised noise (sample mean 0 and
    covariance I per example), so it is exact for a linear-Gaussian decoder. The
    likelihood is the normalised one of :func:`log_marginal_2d`, so log p(x) − ELBO is
    the gap KL(q ‖ p(z|x)) ≥ 0.

    Parameters
    ----------
    model : FullCovVAE or DiagonalVAE
    x : (B, d)
    mu : (B, m)
    L : (B, m, m)
        Lower triangular with a positive diagonal.
    n_samples : int
        At least m + 1.
    seed : int or numpy Generator

    Returns
    -------
    (B,) array, nats.
    """
    fn = "elbo"
    _check_model(model, fn)
    x = _model_x(model, x, fn)
    mu, L = _q_args(model, x, mu, L, fn)
    m = model.latent_dim
    S = integer(n_samples, "n_samples", minimum=m + 1)
    eps = _standard_noise(as_rng(seed, "seed"), S, len(x), m)
    log_sigma = np.log(np.diagonal(L, 0, 1, 2))
    total = np.zeros(len(x))
    per = max(1, _MAX_ROWS // len(x))
    with no_grad():
        for a in range(0, S, per):                 # KL + mean rec of each block of samples
            block = eps[a:a + per]
            total += _neg_elbo(model, x, mu, log_sigma, L, block).data * len(block)
    return -total / S


@contextmanager
def _frozen(model: Any) -> Iterator[None]:
    """The model's parameters stop requiring gradients for the duration (then restored)."""
    params = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, flag in params:
            p.requires_grad = flag


def refine_posterior(model: Any, x: Any, steps: int = 300, lr: float = 0.05,
                     n_samples: int = 16, seed: Any = 0) -> tuple[np.ndarray, np.ndarray]:
    """The per-example q of the model's own family that maximises the ELBO.

    Starts from the encoder's (μ, log σ, L') for each example and runs Adam on them
    (the model's weights are held fixed), maximising Σ_b ELBO_b; the examples do not
    interact, so this optimises each example's ELBO separately. The ELBO's expectation
    uses ``n_samples`` draws of ε per example, fixed for the whole run and standardised
    (sample mean 0, covariance I), so the objective is deterministic (and exact for a
    linear-Gaussian decoder). The learning rate falls from ``lr`` to 0 on a cosine
    schedule. For a :class:`~vae_np.vae.DiagonalVAE` only μ and log σ move: L stays
    diagonal. With the encoder's output replaced by the result, the difference in ELBO
    is the amortisation gap (Cremer et al., 2018).

    Parameters
    ----------
    model : FullCovVAE or DiagonalVAE
    x : (B, d)
    steps : int
        Adam steps (>= 1).
    lr : float
        Initial learning rate.
    n_samples : int
        Draws of ε per example (>= m + 1).
    seed : int or numpy Generator
        For ε.

    Returns
    -------
    mu : (B, m)
    L : (B, m, m)
        Lower triangular with positive diagonal (diagonal for a DiagonalVAE), float64.
    """
    fn = "refine_posterior"
    _check_model(model, fn)
    x = _model_x(model, x, fn)
    steps = positive_int(steps, "steps")
    lr = positive_real(lr, "lr")
    m = model.latent_dim
    S = integer(n_samples, "n_samples", minimum=m + 1)
    eps = _standard_noise(as_rng(seed, "seed"), S, len(x), m)
    with no_grad():
        mu0, ls0, L0 = (t.data for t in model.encode(x))
    mu = Tensor(mu0.copy(), requires_grad=True)
    log_sigma = Tensor(ls0.copy(), requires_grad=True)
    params = [mu, log_sigma]
    L_prime: Any = np.zeros_like(L0)
    if model.posterior == "full":
        L_prime = Tensor(np.tril(L0, -1), requires_grad=True)
        params.append(L_prime)
    opt = Adam(params, lr=lr)
    with _frozen(model):
        for t in range(steps):
            opt.lr = lr * 0.5 * (1 + math.cos(math.pi * t / steps))
            opt.zero_grad()
            L = gaussian.scale_tril(log_sigma, L_prime)
            _neg_elbo(model, x, mu, log_sigma, L, eps).sum().backward()
            opt.step()
    L = gaussian.scale_tril(log_sigma.data, as_array(L_prime)).data
    return mu.data.astype(np.float64), L.astype(np.float64)
