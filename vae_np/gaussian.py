"""The Gaussian pieces of the VAE: the posterior's scale matrix, the reparameterised sample,
the KL to the prior, the log-density and the entropy, each an op with its own backward.

For every example the encoder gives ``(μ, log σ, L')`` and the lecture builds from them

    L = L_mask ⊙ L' + diag(σ),   σ = exp(log σ),
    z = μ + L ε,   ε ~ N(0, I),   so that   q(z|x) = N(μ, Σ = L Lᵀ),

where ``L_mask`` has ones strictly below the diagonal and zeros elsewhere: L is lower
triangular with the positive diagonal σ, the Cholesky factor of Σ. The ops below are
:class:`~vae_np.tensor.Function` subclasses with hand-derived backward rules:

==========================  =================================================================
:func:`scale_tril`          L = L_mask ⊙ L' + diag(exp(log σ))
:func:`rsample`             z = μ + L ε
:func:`kl_standard_normal`  KL(N(μ, LLᵀ) ‖ N(0, I)), the lecture's closed form
:func:`log_prob`            log N(z; μ, LLᵀ), by a triangular solve
:func:`entropy`             the entropy of N(μ, LLᵀ)
==========================  =================================================================

and :func:`solve_lower` / :func:`solve_upper` are the batched triangular solves that
:func:`log_prob` uses (plain NumPy, not ops).

Shapes: ``B`` is the batch size and ``m`` the latent dimension; ``mu: (B, m)``,
``L: (B, m, m)``. :func:`rsample`'s ``eps`` and :func:`log_prob`'s ``z`` may carry a
leading sample axis, ``(k, B, m)``: k draws per example against the same μ and L, which
are broadcast (and their gradients summed over the k draws) without a copy. Everything
costs O(B·m²) per draw: Tr(LLᵀ) = ‖L‖²_F, log det Σ = 2 Σ log Lᵢᵢ and L⁻¹r by
substitution. No inverse, determinant or product LLᵀ is ever formed.

Where z was drawn as z = μ + Lε, log q(z) is better computed from ε itself,
``−½‖ε‖² − Σᵢ log σᵢ − (m/2) log 2π`` (exact, since L⁻¹(z − μ) = ε), than by
:func:`log_prob`'s solve, which loses ~log₁₀(1/σ) digits to the rounding of z − μ; the
model's IWAE code does so.

Inputs are checked for shape (cheaply: no scan of the data). A result that comes out
NaN or inf is traced back to the input that holds NaN or inf, which is named in a
:class:`~vae_np.validate.NonFiniteError` (a ValueError); only then are the inputs scanned.

``L`` is lower triangular by contract, which is not checked (it would cost a scan):
:func:`log_prob` and :func:`entropy` read only its lower triangle, while :func:`rsample`
and :func:`kl_standard_normal` use it as given (z = μ + Lε has covariance LLᵀ for any
square L; the KL formula needs L triangular with diagonal σ). The ``L`` made by
:func:`scale_tril` satisfies all of this.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .tensor import Function, Tensor
from .validate import LOG_2PI, NonFiniteError, as_array, check_shape, finite_result, first_index

__all__ = ["scale_tril", "rsample", "kl_standard_normal", "log_prob", "entropy", "solve_lower", "solve_upper",
           "LOG_SIGMA_TOL"]

LOG_SIGMA_TOL = 1e-5
"""How closely :func:`kl_standard_normal`'s ``log_sigma`` must match log diag(L): within
``LOG_SIGMA_TOL · (1 + |log σᵢ|)``. Loose enough for float32 rounding of σ = exp(log σ)
(about 10⁻⁷ (1 + |log σ|)) and for finite-difference checks (steps of 10⁻⁶), tight
enough to refuse every real mismatch (L' for L, log σ² for log σ, another batch's σ)."""


def _sample_shape(x: Any, name: str, sizes: dict[str, int]) -> Any:
    """``x`` of shape (B, m), or (k, B, m) with a leading sample axis."""
    return check_shape(x, name, "k B m" if as_array(x, name).ndim == 3 else "B m", sizes)


def _outer_summed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ over leading sample axes of the outer products aᵢ bⱼ: (..., B, m), (..., B, m) → (B, m, m)."""
    B, m = a.shape[-2:]
    return np.einsum("kbi,kbj->bij", a.reshape(-1, B, m), b.reshape(-1, B, m))


def _positive_diagonal(L: np.ndarray, op: str) -> np.ndarray:
    """The diagonals of a batch of L, (B, m), or a ValueError if an entry is not positive."""
    d = np.diagonal(L, axis1=-2, axis2=-1)
    if not np.all(d > 0):  # O(B·m): cheap beside the O(B·m²) work of the op
        b, i = first_index(~(d > 0))
        raise ValueError(
            f"{op}: L must have a positive diagonal (it is σ = exp(log σ)); got L[{b}, {i}, {i}] = {d[b, i]}. "
            f"Pass L = scale_tril(log_sigma, L_prime), not L'"
        )
    return d


# ---------------------------------------------------------------------------------------
# The scale matrix L and the reparameterised sample
# ---------------------------------------------------------------------------------------
class ScaleTril(Function):
    """L = L_mask ⊙ L' + diag(σ),  σ = exp(log σ);   dL' = L_mask ⊙ g,  dlog σᵢ = gᵢᵢ σᵢ

    The strictly lower part of L is L' itself and the diagonal is σ, so the gradient
    reaching L's strict lower triangle goes to L' unchanged, the gradient above the
    diagonal goes nowhere, and the diagonal's passes through dσᵢ/dlog σᵢ = σᵢ.
    """

    def forward(self, log_sigma, L_prime):
        with np.errstate(over="ignore", under="ignore"):
            sigma = np.exp(log_sigma)
        bad = ~np.isfinite(sigma) | (sigma == 0)
        if bad.any():
            idx = first_index(bad)
            info = np.finfo(sigma.dtype)
            lo, hi = math.log(info.smallest_subnormal), math.log(info.max)
            raise NonFiniteError(
                f"scale_tril: log_sigma[{', '.join(map(str, idx))}] = {log_sigma[idx]} gives σ = exp(log_sigma) = "
                f"{sigma[idx]}; σ must be finite and positive, so log_sigma must lie in ({lo:.1f}, {hi:.1f}) "
                f"in {sigma.dtype}"
            )
        self.sigma = sigma
        L = np.tril(L_prime, -1)
        i = np.arange(L.shape[-1])
        L[..., i, i] = sigma
        return L

    def backward(self, g):
        i = np.arange(g.shape[-1])
        dlog_sigma = g[..., i, i] * self.sigma if self.needs_grad[0] else None
        dL_prime = np.tril(g, -1) if self.needs_grad[1] else None
        return dlog_sigma, dL_prime


class RSample(Function):
    """z = μ + L ε  (per example);   dμ = g,  dL = g εᵀ,  dε = Lᵀ g

    zᵢ = μᵢ + Σⱼ Lᵢⱼ εⱼ, so ∂z/∂μ is the identity, ∂zᵢ/∂Lᵢⱼ = εⱼ (the outer product
    g εᵀ collects them) and ∂zᵢ/∂εⱼ = Lᵢⱼ (a product with Lᵀ). With k draws per
    example (ε of shape (k, B, m)), μ and L are shared by the draws, so their gradients
    are summed over them: dL = Σₖ gₖ εₖᵀ, and the engine sums dμ.
    """

    def forward(self, mu, L, eps):
        self.L, self.eps = L, eps
        return mu + (L @ eps[..., None])[..., 0]

    def backward(self, g):
        dL = _outer_summed(g, self.eps) if self.needs_grad[1] else None
        deps = (np.swapaxes(self.L, -1, -2) @ g[..., None])[..., 0] if self.needs_grad[2] else None
        return g, dL, deps


def scale_tril(log_sigma: Any, L_prime: Any) -> Tensor:
    """The lecture's scale matrix ``L = L_mask ⊙ L' + diag(σ)`` with ``σ = exp(log σ)``.

    Parameters
    ----------
    log_sigma : (B, m)
        Log standard deviations, the diagonal of L in log space.
    L_prime : (B, m, m)
        Unconstrained matrices; only their strictly lower triangle is used.

    Returns
    -------
    Tensor, (B, m, m)
        Lower triangular with the positive diagonal σ, so that Σ = L Lᵀ is positive
        definite and L is its Cholesky factor.

    Raises
    ------
    ValueError
        For wrong shapes.
    vae_np.NonFiniteError
        (a ValueError) When exp(log σ) overflows to inf or underflows to 0, or is NaN:
        the message names ``log_sigma``, the offending value, its index and the range
        of log σ the dtype can hold (about (−745, 709) in float64, (−103, 88) in float32).

    Notes
    -----
    Backward: ``dL' = L_mask ⊙ g`` (the strict lower part of g) and ``dlog σᵢ = gᵢᵢ σᵢ``.
    """
    sizes: dict[str, int] = {}
    log_sigma = check_shape(log_sigma, "log_sigma", "B m", sizes)
    L_prime = check_shape(L_prime, "L_prime", "B m m", sizes)
    return ScaleTril.apply(log_sigma, L_prime)


def rsample(mu: Any, L: Any, eps: Any) -> Tensor:
    """The reparameterised sample ``z = μ + L ε``, differentiable in μ, L and ε.

    Parameters
    ----------
    mu : (B, m)
        Means.
    L : (B, m, m)
        Scale matrices (lower triangular in the model; any square matrix gives
        Cov(z) = L Lᵀ).
    eps : (B, m) or (k, B, m)
        Standard normal noise, ε ~ N(0, I), drawn by the caller; with a leading axis,
        k draws per example.

    Returns
    -------
    Tensor, eps's shape: (B, m) or (k, B, m)
        z ~ N(μ, L Lᵀ) when ε ~ N(0, I).

    Raises
    ------
    ValueError
        For shapes that do not fit; :class:`vae_np.NonFiniteError` naming the input
        that holds NaN or inf when z is not finite.

    Notes
    -----
    Backward: ``dμ = g``, ``dL = g εᵀ`` (an outer product per example), ``dε = Lᵀ g``;
    with k draws, dμ and dL are summed over them.
    """
    sizes: dict[str, int] = {}
    mu = check_shape(mu, "mu", "B m", sizes)
    L = check_shape(L, "L", "B m m", sizes)
    eps = _sample_shape(eps, "eps", sizes)
    return finite_result(RSample.apply(mu, L, eps), "rsample", mu=mu, L=L, eps=eps)


# ---------------------------------------------------------------------------------------
# The KL divergence to the prior N(0, I)
# ---------------------------------------------------------------------------------------
class KLStandardNormal(Function):
    """KL = ½ [Σᵢ μᵢ² + ‖L‖²_F − m − 2 Σᵢ log σᵢ];   dμ = g μ,  dlog σ = −g,  dL = g L

    The lecture's ½[−Σ log σᵢ² − m + Tr(LLᵀ) + Σ μᵢ²] with Tr(LLᵀ) = Σᵢⱼ Lᵢⱼ² = ‖L‖²_F,
    and log σᵢ² = 2 log σᵢ. Each term is a sum of squares or a sum, so the rules are
    read off term by term.
    """

    def forward(self, mu, log_sigma, L):
        self.mu, self.L, self.shape = mu, L, log_sigma.shape
        sq = np.einsum("bi,bi->b", mu, mu) + np.einsum("bij,bij->b", L, L)
        return 0.5 * (sq - mu.shape[-1]) - log_sigma.sum(axis=-1)

    def backward(self, g):
        dmu = g[:, None] * self.mu if self.needs_grad[0] else None
        dlog_sigma = np.broadcast_to(-g[:, None], self.shape) if self.needs_grad[1] else None
        dL = g[:, None, None] * self.L if self.needs_grad[2] else None
        return dmu, dlog_sigma, dL


def kl_standard_normal(mu: Any, log_sigma: Any, L: Any) -> Tensor:
    """KL(N(μ, LLᵀ) ‖ N(0, I)) per example, in O(B·m²).

    The lecture's closed form ``½[−Σᵢ log σᵢ² − m + Tr(LLᵀ) + Σᵢ μᵢ²]`` with
    ``Tr(LLᵀ) = ‖L‖²_F``; no determinant, inverse or product LLᵀ is formed.

    Parameters
    ----------
    mu : (B, m)
        Means of q.
    log_sigma : (B, m)
        The log of L's diagonal, log σᵢ = log Lᵢᵢ, as it is when ``L =
        scale_tril(log_sigma, L_prime)``. It supplies log det Σ = 2 Σᵢ log σᵢ, so it
        must belong to this L: it is checked, in O(B·m), to agree with log Lᵢᵢ within
        ``LOG_SIGMA_TOL · (1 + |log σᵢ|)`` (10⁻⁵: float32 rounding passes, a real
        mismatch does not), and a ValueError names the first entry that does not.
    L : (B, m, m)
        Lower-triangular scale matrices with diagonal σ, Σ = L Lᵀ.

    Returns
    -------
    Tensor, (B,)
        The KL divergence of each example, ≥ 0, and 0 only for μ = 0, L = I.

    Raises
    ------
    ValueError
        For wrong shapes, or a ``log_sigma`` that is not log diag(L) (including a NaN
        in either, or a diagonal entry of L that is not positive);
        :class:`vae_np.NonFiniteError` naming ``mu`` or ``L`` when one of them holds
        NaN or inf.

    Notes
    -----
    Backward: ``dμ = g μ``, ``dlog σ = −g`` (each element), ``dL = g L``. Through
    :func:`scale_tril` these give the book's rules ∂KL/∂μ = μ, ∂KL/∂log σᵢ = −1 + σᵢ·σᵢ
    = σᵢ² − 1 and ∂KL/∂L'ᵢⱼ = Lᵢⱼ below the diagonal.
    """
    sizes: dict[str, int] = {}
    mu = check_shape(mu, "mu", "B m", sizes)
    log_sigma = check_shape(log_sigma, "log_sigma", "B m", sizes)
    L = check_shape(L, "L", "B m m", sizes)
    _check_log_diagonal(as_array(log_sigma, "log_sigma"), as_array(L, "L"))
    return finite_result(KLStandardNormal.apply(mu, log_sigma, L), "kl_standard_normal", mu=mu, L=L)


def _check_log_diagonal(log_sigma: np.ndarray, L: np.ndarray) -> None:
    """A ValueError unless log_sigma = log diag(L) within LOG_SIGMA_TOL · (1 + |log σ|)."""
    d = np.diagonal(L, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_d = np.log(d)
        ok = np.abs(log_d - log_sigma) <= LOG_SIGMA_TOL * (1 + np.abs(log_sigma))
    if not ok.all():  # also catches NaN, which fails every comparison
        b, i = first_index(~ok)
        raise ValueError(
            f"kl_standard_normal: log_sigma must be log diag(L), the log of L's diagonal σᵢ = Lᵢᵢ; got "
            f"log_sigma[{b}, {i}] = {log_sigma[b, i]} but L[{b}, {i}, {i}] = {d[b, i]} (log {log_d[b, i]}). "
            f"Pass the log_sigma that made L = scale_tril(log_sigma, L_prime)"
        )


# ---------------------------------------------------------------------------------------
# Triangular solves, the log-density and the entropy
# ---------------------------------------------------------------------------------------
def solve_lower(L: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Solve ``L u = r`` for a batch of lower-triangular L by forward substitution.

    ``uᵢ = (rᵢ − Σ_{j<i} Lᵢⱼ uⱼ) / Lᵢᵢ`` for i = 1, …, m: a Python loop over the m rows,
    each step vectorised over the batch, O(B·m²) in all. Only the lower triangle of L is
    read. Plain arrays in and out (not an op).

    Parameters
    ----------
    L : (..., m, m)
        Lower triangular with a non-zero diagonal.
    r : (..., m)
        Right-hand sides; their leading axes broadcast against L's, so r of shape
        (k, B, m) solves against each of the B matrices k times.

    Returns
    -------
    (..., m)
        u = L⁻¹ r.
    """
    return _substitute(L, r, range(r.shape[-1]), lambda i: slice(0, i))


def solve_upper(U: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Solve ``U x = r`` for a batch of upper-triangular U (..., m, m) by back substitution.

    ``xᵢ = (rᵢ − Σ_{j>i} Uᵢⱼ xⱼ) / Uᵢᵢ`` for i = m, …, 1, the mirror of :func:`solve_lower`;
    only the upper triangle of U is read. ``solve_upper(np.swapaxes(L, -1, -2), r)`` gives
    L⁻ᵀ r without copying L.
    """
    return _substitute(U, r, reversed(range(r.shape[-1])), lambda i: slice(i + 1, None))


def _substitute(T: np.ndarray, r: np.ndarray, rows: Any, solved: Any) -> np.ndarray:
    """Substitution through ``rows`` in order; ``solved(i)`` is the slice of x already known."""
    x = np.empty(r.shape, dtype=np.result_type(T, r))
    for i in rows:
        j = solved(i)
        x[..., i] = (r[..., i] - np.einsum("...j,...j->...", T[..., i, j], x[..., j])) / T[..., i, i]
    return x


class LogProb(Function):
    """log N(z; μ, LLᵀ) = −½‖u‖² − Σᵢ log Lᵢᵢ − (m/2) log 2π,  u = L⁻¹(z − μ)

    Backward, with v = L⁻ᵀ u:   dz = −g v,   dμ = g v,   dL = g (tril(v uᵀ) − diag(1/Lᵢᵢ)).

    Derivation. Let f = −½ uᵀu − Σ log Lᵢᵢ and r = z − μ, so L u = r.
    * In r: du = L⁻¹ dr, so df = −uᵀ L⁻¹ dr = −(L⁻ᵀu)ᵀ dr = −vᵀ dr; hence ∂f/∂z = −v
      and, since r = z − μ, ∂f/∂μ = +v.
    * In L: differentiating L u = r gives dL u + L du = 0, so du = −L⁻¹ dL u and
      df = uᵀ L⁻¹ dL u − Σ dLᵢᵢ/Lᵢᵢ = vᵀ dL u − Σ dLᵢᵢ/Lᵢᵢ = Σᵢⱼ (vᵢuⱼ) dLᵢⱼ − Σ dLᵢᵢ/Lᵢᵢ.
      The forward reads only the lower triangle of L, so the gradient is
      tril(v uᵀ) − diag(1/Lᵢᵢ) and zero above the diagonal.
    Both u and v come from triangular solves (v = L⁻ᵀu by back substitution): O(B·m²).
    """

    def forward(self, z, mu, L):
        self.diag = _positive_diagonal(L, "log_prob")
        self.L = L
        self.u = solve_lower(L, z - mu)
        m = z.shape[-1]
        return -0.5 * np.einsum("...i,...i->...", self.u, self.u) - np.log(self.diag).sum(axis=-1) - 0.5 * m * LOG_2PI

    def backward(self, g):
        v = solve_upper(np.swapaxes(self.L, -1, -2), self.u)
        gv = g[..., None] * v
        dz = -gv if self.needs_grad[0] else None
        dmu = gv if self.needs_grad[1] else None  # summed over draws by the engine
        dL = None
        if self.needs_grad[2]:  # summed over draws: Σₖ gₖ (tril(vₖ uₖᵀ) − diag(1/Lᵢᵢ))
            dL = np.tril(_outer_summed(gv, self.u))
            i = np.arange(dL.shape[-1])
            dL[:, i, i] -= g.reshape(-1, len(self.diag)).sum(axis=0)[:, None] / self.diag
        return dz, dmu, dL


class Entropy(Function):
    """H = ½ m (1 + log 2π) + Σᵢ log Lᵢᵢ;   dLᵢᵢ = g / Lᵢᵢ, zero off the diagonal

    The entropy of N(μ, Σ) is ½ log det(2πe Σ) and log det Σ = 2 Σ log Lᵢᵢ.
    """

    def forward(self, L):
        self.diag = _positive_diagonal(L, "entropy")
        self.shape = L.shape
        return 0.5 * L.shape[-1] * (1 + LOG_2PI) + np.log(self.diag).sum(axis=-1)

    def backward(self, g):
        dL = np.zeros(self.shape, dtype=g.dtype)
        i = np.arange(self.shape[-1])
        dL[:, i, i] = g[:, None] / self.diag
        return (dL,)


def log_prob(z: Any, mu: Any, L: Any) -> Tensor:
    """The log-density ``log N(z; μ, LLᵀ)`` per example, by a triangular solve.

    ``−½‖u‖² − Σᵢ log Lᵢᵢ − (m/2) log 2π`` with ``u = L⁻¹(z − μ)`` from
    :func:`solve_lower`: ‖u‖² is the Mahalanobis distance (z − μ)ᵀΣ⁻¹(z − μ) and
    Σ log Lᵢᵢ = ½ log det Σ. O(B·m²); no inverse is formed.

    Parameters
    ----------
    z : (B, m) or (k, B, m)
        Points at which to evaluate the density; with a leading axis, k points per
        example, each against its example's μ and L.
    mu : (B, m)
        Means.
    L : (B, m, m)
        Lower-triangular scale matrices with a positive diagonal, Σ = L Lᵀ. Entries
        above the diagonal are ignored (and receive zero gradient).

    Returns
    -------
    Tensor, (B,) or (k, B)
        log q(z) for each point.

    Raises
    ------
    ValueError
        For wrong shapes or a diagonal entry of L that is not positive (or NaN);
        :class:`vae_np.NonFiniteError` naming the input that holds NaN or inf when the
        result is not finite.

    Notes
    -----
    Backward, with ``v = L⁻ᵀ u``: ``dz = −g v``, ``dμ = g v``,
    ``dL = g (tril(v uᵀ) − diag(1/Lᵢᵢ))``, summed over the draws for μ and L;
    derived in :class:`LogProb`. For z = μ + Lε drawn by :func:`rsample`, compute
    log q from ε instead (see the module's docstring): u = ε exactly. The solve
    amplifies the rounding of z − μ by L's condition number, about (|L'|/σ)^(m−1) for
    a small diagonal σ under entries L' below it, and can then overflow to −inf.
    """
    sizes: dict[str, int] = {}
    mu = check_shape(mu, "mu", "B m", sizes)
    L = check_shape(L, "L", "B m m", sizes)
    z = _sample_shape(z, "z", sizes)
    return finite_result(LogProb.apply(z, mu, L), "log_prob", z=z, mu=mu, L=L)


def entropy(L: Any) -> Tensor:
    """The entropy of ``N(μ, LLᵀ)`` per example: ``½ m (1 + log 2π) + Σᵢ log Lᵢᵢ``.

    Parameters
    ----------
    L : (B, m, m)
        Lower-triangular scale matrices with a positive diagonal; only the diagonal is
        read (the entropy does not depend on μ).

    Returns
    -------
    Tensor, (B,)

    Raises
    ------
    ValueError
        For a shape other than (B, m, m), or a diagonal entry that is not positive (or
        NaN).

    Notes
    -----
    Backward: ``dLᵢᵢ = g / Lᵢᵢ``, zero elsewhere.
    """
    L = check_shape(L, "L", "B m m", {})
    return Entropy.apply(L)
