"""The losses: reconstruction errors and classification losses, each an op with its own backward.

==========================  ================================================================
:func:`mse`                 (1/(n·d)) Σᵢⱼ (xᵢⱼ − x̂ᵢⱼ)², the lecture's reconstruction error
:func:`sse`                 Σᵢⱼ (xᵢⱼ − x̂ᵢⱼ)², the sum of squared errors
:func:`bernoulli_nll`       −log p(x | logits) for pixels in [0, 1], stable for any logits
:func:`gaussian_nll`        −log N(x; x̂, σ²I), the Gaussian decoder's likelihood
:func:`cross_entropy`       −Σ_c p_c log softmax(l)_c, with class indices or probability rows
==========================  ================================================================

``mse`` and ``sse`` return a scalar; the others return one value per example, shape
``(B,)``, so the caller decides how to combine them with the KL (``.mean()`` or ``.sum()``).

Inputs may be Tensors, arrays or numbers. They are validated cheaply: shapes must
match, data ``x`` that must lie in a range is checked against it, and σ must be finite
and positive. A loss that comes out NaN or inf is traced back to the input that holds a
NaN or inf, which is then named in a :class:`~vae_np.validate.NonFiniteError` (a
ValueError); this scan runs only when the result is not finite
(:func:`vae_np.validate.finite_result`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from .tensor import Function, Tensor
from .validate import LOG_2PI, as_array, check_shape, describe, finite_result, first_index

__all__ = ["mse", "sse", "bernoulli_nll", "gaussian_nll", "cross_entropy"]

def _same_shape(a: Any, b: Any, names: tuple[str, str] = ("x_hat", "x"), per_example: bool = True) -> tuple[Any, Any]:
    """Both inputs (Tensors kept, others as float arrays) after checking their shapes agree.

    With ``per_example`` the first must be (B, d); the second must have the same shape.
    """
    a = check_shape(a, names[0], "B d", {}) if per_example else a
    a_arr, b_arr = as_array(a, names[0]), as_array(b, names[1])
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"{names[0]} has shape {a_arr.shape} but {names[1]} has shape {b_arr.shape}")
    return (a if isinstance(a, Tensor) else a_arr), (b if isinstance(b, Tensor) else b_arr)


# ---------------------------------------------------------------------------------------
# Squared errors
# ---------------------------------------------------------------------------------------
class SquaredError(Function):
    """E = c Σ (x − x̂)²  (c = 1/N for the mean, 1 for the sum);   dx̂ = 2c g (x̂ − x),  dx = −dx̂"""

    def forward(self, x_hat, x, scale=1.0):
        self.r, self.scale = x_hat - x, scale
        flat = self.r.reshape(-1)
        return np.asarray(scale * (flat @ flat))

    def backward(self, g):
        dx_hat = (2 * self.scale * g) * self.r
        return dx_hat, (-dx_hat if self.needs_grad[1] else None)


def mse(x_hat: Any, x: Any) -> Tensor:
    """The mean squared error ``(1/(n·d)) Σᵢⱼ (xᵢⱼ − x̂ᵢⱼ)²``, a scalar.

    Parameters
    ----------
    x_hat : (n, d), or any shape
        Reconstructions.
    x : same shape as ``x_hat``
        Data.

    Returns
    -------
    Tensor, ()
        The mean over all N = n·d elements.

    Notes
    -----
    Backward: ``dx̂ = (2/N) g (x̂ − x)``, ``dx = −dx̂``.
    """
    x_hat, x = _same_shape(x_hat, x, per_example=False)
    n = as_array(x, "x").size
    if n == 0:
        raise ValueError("mse: x_hat and x are empty; the mean of no errors is undefined")
    return finite_result(SquaredError.apply(x_hat, x, scale=1.0 / n), "mse", x_hat=x_hat, x=x)


def sse(x_hat: Any, x: Any) -> Tensor:
    """The sum of squared errors ``Σᵢⱼ (xᵢⱼ − x̂ᵢⱼ)²``, a scalar: :func:`mse` without the 1/N.

    (The lecture's slide misprints its name as "SSS".) Any shapes, as long as they match.
    Backward: ``dx̂ = 2 g (x̂ − x)``, ``dx = −dx̂``.
    """
    x_hat, x = _same_shape(x_hat, x, per_example=False)
    return finite_result(SquaredError.apply(x_hat, x, scale=1.0), "sse", x_hat=x_hat, x=x)


# ---------------------------------------------------------------------------------------
# Likelihoods of the decoder
# ---------------------------------------------------------------------------------------
class BernoulliNLL(Function):
    """ℓ = Σⱼ softplus(lⱼ) − xⱼ lⱼ = Σⱼ max(lⱼ, 0) − xⱼ lⱼ + log1p(e^(−|lⱼ|));   dl = g (σ(l) − x),  dx = −g l

    −log p(x | l) with p = σ(l) is −x log σ(l) − (1 − x) log(1 − σ(l)) = softplus(l) − x l,
    since log σ(l) = l − softplus(l) and log(1 − σ(l)) = −softplus(l). Written with
    max(l, 0) and e^(−|l|) ≤ 1 nothing overflows, and σ(l) = ``expit(l)`` is stable too.
    """

    def forward(self, logits, x):
        self.logits, self.x = logits, x
        return (np.maximum(logits, 0) - x * logits + np.log1p(np.exp(-np.abs(logits)))).sum(axis=1)

    def backward(self, g):
        g = g[:, None]
        dlogits = None
        if self.needs_grad[0]:
            dlogits = special.expit(self.logits)
            dlogits -= self.x
            dlogits *= g
        dx = -g * self.logits if self.needs_grad[1] else None
        return dlogits, dx


class GaussianNLL(Function):
    """ℓ = Σⱼ rⱼ²/(2σⱼ²) + log σⱼ + ½ log 2π,  r = x − x̂;   dx̂ = −g r/σ²,  dx = g r/σ²,  dσ = g (1 − r²/σ²)/σ"""

    def forward(self, x_hat, x, sigma):
        self.r = x - x_hat
        self.sigma, self.w = sigma, self.r / (sigma * sigma)  # w = r/σ²
        return (0.5 * self.r * self.w + np.log(sigma) + 0.5 * LOG_2PI).sum(axis=1)

    def backward(self, g):
        gw = g[:, None] * self.w
        dsigma = g[:, None] * (1 - self.r * self.w) / self.sigma if self.needs_grad[2] else None
        return (-gw if self.needs_grad[0] else None), gw, dsigma


def bernoulli_nll(logits: Any, x: Any) -> Tensor:
    """The Bernoulli negative log-likelihood per example, ``Σⱼ softplus(lⱼ) − xⱼ lⱼ``.

    Computed as ``max(l, 0) − x l + log1p(exp(−|l|))``, finite with finite gradients for
    logits of any size (tested to |l| = 10⁴).

    Parameters
    ----------
    logits : (B, d)
        Decoder outputs before the sigmoid, p = σ(l).
    x : (B, d)
        Data in [0, 1]: binary pixels, or grey levels read as probabilities.

    Returns
    -------
    Tensor, (B,)
        −log p(x | logits) of each example, summed over its d pixels.

    Raises
    ------
    ValueError
        If the shapes differ, or ``x`` has values outside [0, 1] or NaN (naming its
        min and max).

    Notes
    -----
    Backward: ``dl = g (σ(l) − x)``, ``dx = −g l``.
    """
    logits, x = _same_shape(logits, x, ("logits", "x"))
    data = as_array(x, "x")
    lo, hi = (data.min(), data.max()) if data.size else (0.0, 0.0)
    if not (lo >= 0 and hi <= 1):  # also catches NaN, which fails every comparison
        raise ValueError(f"bernoulli_nll: x must lie in [0, 1]; got min {lo}, max {hi}")
    return finite_result(BernoulliNLL.apply(logits, x), "bernoulli_nll", logits=logits)


def gaussian_nll(x_hat: Any, x: Any, sigma: Any = 1.0) -> Tensor:
    """The Gaussian negative log-likelihood per example, ``−log N(x; x̂, diag(σ²))``.

    ``Σⱼ [(xⱼ − x̂ⱼ)²/(2σⱼ²) + log σⱼ + ½ log 2π]``; with a fixed σ this is the sum of
    squared errors scaled by 1/(2σ²) plus a constant.

    Parameters
    ----------
    x_hat : (B, d)
        Decoder means.
    x : (B, d)
        Data.
    sigma : positive number, or array/Tensor broadcastable to (B, d), e.g. (d,)
        Standard deviations, finite and > 0; a Tensor that requires grad gets its
        gradient (summed over the axes it was broadcast along).

    Returns
    -------
    Tensor, (B,)
        −log N(x; x̂, diag(σ²)) of each example.

    Raises
    ------
    ValueError
        If the shapes do not fit, or a σ is not positive and finite (0, negative, inf
        or NaN), naming the first such entry.

    Notes
    -----
    Backward, with r = x − x̂: ``dx̂ = −g r/σ²``, ``dx = g r/σ²``,
    ``dσ = g (1/σ − r²/σ³)``.
    """
    x_hat, x = _same_shape(x_hat, x)
    if not isinstance(sigma, (Tensor, np.ndarray)):  # a number takes x_hat's dtype (float32 stays float32)
        sigma = as_array(sigma, "sigma", as_array(x_hat).dtype)
    s = as_array(sigma, "sigma")
    try:
        fits = np.broadcast_shapes(s.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"gaussian_nll: sigma must be a number or broadcastable to x's shape {x.shape}, e.g. ({x.shape[1]},); got shape {s.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~((s > 0) & (s < np.inf))  # NaN fails both comparisons
    if bad.any():
        idx = first_index(bad)
        raise ValueError(f"gaussian_nll: sigma must be finite and positive; got {s[idx]}"
                         f"{f' at index {idx}' if idx else ''} (min {np.min(s)})")
    return finite_result(GaussianNLL.apply(x_hat, x, sigma), "gaussian_nll", x_hat=x_hat, x=x)


def _labels_array(labels: Any) -> np.ndarray:
    """``labels`` as an array of integers or reals (kept as given), or a TypeError."""
    try:
        raw = None if labels is None or isinstance(labels, (str, bytes)) else np.asarray(labels)
    except (ValueError, TypeError):  # ragged lists
        raw = None
    if raw is None or raw.dtype.kind not in "biuf":
        raise TypeError(f"labels must be integer class indices or rows of probabilities; got {describe(labels)}")
    return raw


# ---------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------
class CrossEntropy(Function):
    """ℓ = −Σ_c p_c log q_c,  q = softmax(l);   dl = g (q Σ_c p_c − p) = g (q − p) for probability rows

    log q = l − logsumexp(l), so ∂(−Σ_c p_c log q_c)/∂l_k = −p_k + q_k Σ_c p_c. Integer
    labels y stand for one-hot rows p = e_y: ℓ = −log q_y and dl = g (q − e_y). The
    labels are data, not differentiated.
    """

    def forward(self, logits, labels=None):
        log_q = special.log_softmax(logits, axis=1)
        self.q, self.labels = np.exp(log_q), labels
        if labels.ndim == 1:
            return -log_q[np.arange(len(labels)), labels]
        return -np.einsum("bc,bc->b", labels, log_q)

    def backward(self, g):
        g = g[:, None]
        if self.labels.ndim == 1:
            dlogits = g * self.q
            dlogits[np.arange(len(self.labels)), self.labels] -= g[:, 0]
            return (dlogits,)
        p = self.labels
        return (g * (self.q * p.sum(axis=1, keepdims=True) - p),)


def cross_entropy(logits: Any, labels: Any) -> Tensor:
    """The cross-entropy ``−Σ_c p_c log softmax(l)_c`` per example.

    Parameters
    ----------
    logits : (B, C)
        Unnormalised class scores.
    labels : (B,) integers, or (B, C) probabilities
        Class indices in [0, C), or rows of target probabilities (non-negative, each
        summing to 1, e.g. one-hot). The lecture's example: C = 3 and target class 2,
        ``[0, 1, 0]`` (or index 1), give −log q₂.

    Returns
    -------
    Tensor, (B,)

    Raises
    ------
    TypeError
        For labels of shape (B,) that are not integers.
    ValueError
        For mismatched shapes, class indices outside [0, C), or probability rows that
        are negative, not finite or do not sum to 1.

    Notes
    -----
    Backward: ``d logits = g (softmax(l) − p)``; no gradient for the labels.
    """
    logits = check_shape(logits, "logits", "B C", {})
    shape = logits.shape
    raw = as_array(labels, "labels") if isinstance(labels, Tensor) else _labels_array(labels)
    if raw.shape not in (shape[:1], shape):
        raise ValueError(f"labels must have shape (B,) = {shape[:1]} or (B, C) = {shape}; got shape {raw.shape}")
    if raw.ndim == 1:
        if raw.dtype.kind not in "iu":
            raise TypeError(f"labels of shape (B,) must be integer class indices; got dtype {raw.dtype}")
        if raw.size and (raw.min() < 0 or raw.max() >= shape[1]):
            raise ValueError(f"labels must be class indices in [0, {shape[1]}); got min {raw.min()}, max {raw.max()}")
        p = raw
    else:
        p = as_array(raw, "labels", as_array(logits).dtype)  # data: takes the logits' dtype
        sums = p.sum(axis=1)
        tol = math.sqrt(np.finfo(p.dtype).eps)
        if not (np.all(p >= 0) and np.all(np.abs(sums - 1) <= tol)):
            raise ValueError(
                f"labels of shape (B, C) must be probability rows (non-negative, summing to 1); got min {p.min()}, "
                f"row sums from {sums.min()} to {sums.max()}"
            )
    return finite_result(CrossEntropy.apply(logits, labels=p), "cross_entropy", logits=logits)
