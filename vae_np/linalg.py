"""Linear algebra as differentiable ops: triangular solves, the Cholesky factor, log-determinants.

Each op is a :class:`~vae_np.tensor.Function` with its backward below its forward and the
rule in its docstring (``g`` is the upstream gradient). Matrices are the last two axes;
leading axes are a batch and broadcast as in NumPy. The gradients use triangular solves
(``_solve_tri``, O(m²) per right-hand side) and never form an inverse.

=================================  ==========================================================
:func:`solve_triangular`           X with L X = B, for L lower (or upper) triangular
:func:`cholesky`                   the lower-triangular L with L Lᵀ = A
:func:`logdet_tril`                log |det L| = Σᵢ log |Lᵢᵢ| of a triangular L
=================================  ==========================================================
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy
import scipy.linalg

from .tensor import Function, Tensor
from .validate import as_array, boolean, check_domain, check_finite

__all__ = ["solve_triangular", "cholesky", "logdet_tril"]


def _solve_tri(L: np.ndarray, B: np.ndarray, lower: bool, trans: bool = False) -> np.ndarray:
    """X with L X = B (Lᵀ X = B if ``trans``): L (..., m, m) triangular, B (..., m, k), the
    batch axes broadcast. One triangular solve per matrix, by LAPACK through SciPy."""
    if _SCIPY_BATCHES or (L.ndim == 2 and B.ndim == 2):
        return scipy.linalg.solve_triangular(L, B, trans=int(trans), lower=lower, check_finite=False)
    batch = np.broadcast_shapes(L.shape[:-2], B.shape[:-2])   # SciPy < 1.15: one matrix at a time
    Ls = np.broadcast_to(L, batch + L.shape[-2:]).reshape(-1, *L.shape[-2:])
    Bs = np.broadcast_to(B, batch + B.shape[-2:]).reshape(-1, *B.shape[-2:])
    X = [scipy.linalg.solve_triangular(l, b, trans=int(trans), lower=lower, check_finite=False) for l, b in zip(Ls, Bs)]
    return np.reshape(X, batch + B.shape[-2:])


_SCIPY_BATCHES = tuple(int(v) for v in scipy.__version__.split(".")[:2]) >= (1, 15)


def _mT(x: np.ndarray) -> np.ndarray:
    """The transpose of each matrix in a batch (the last two axes)."""
    return np.swapaxes(x, -1, -2)


def _matrices(x: Any, op: str, name: str) -> np.ndarray:
    """The data of ``x``, checked to be a finite (batch of) square matrices (..., m, m)."""
    a = as_array(x, f"{op}: {name}")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{op}: {name} must be a square matrix or a batch of them (..., m, m); got shape {a.shape}")
    check_finite(a, f"{op}: {name}")
    return a


# ---------------------------------------------------------------------------------------
# Triangular solve
# ---------------------------------------------------------------------------------------
class SolveTriangular(Function):
    """X = L⁻¹ B by a triangular solve;   dB = L⁻ᵀ G,  dL = −tri(dB Xᵀ)

    tri keeps the triangle of L that the solve reads (lower or upper): the other entries
    do not affect X, so their gradient is 0. dB is one more triangular solve, with Lᵀ.
    B holds vectors (..., m), taken as one-column matrices, or matrices (..., m, k).
    """

    def forward(self, L, B, lower=True, vectors=False):
        self.L, self.lower, self.vectors = L, lower, vectors
        self.X = _solve_tri(L, B[..., None] if vectors else B, lower)
        return self.X[..., 0] if vectors else self.X

    def backward(self, g):
        G = g[..., None] if self.vectors else g
        dB = _solve_tri(self.L, G, self.lower, trans=True)
        dL = None
        if self.needs_grad[0]:
            dL = -dB @ _mT(self.X)
            dL = np.tril(dL) if self.lower else np.triu(dL)
        return dL, (dB[..., 0] if self.vectors else dB) if self.needs_grad[1] else None


def solve_triangular(L: Any, B: Any, lower: bool = True) -> Tensor:
    """The solution X of L X = B for a triangular L, batched, with no inverse formed.

    Parameters
    ----------
    L : (..., m, m)
        Lower triangular (upper if ``lower=False``); only that triangle is read. Its
        diagonal must have no zeros.
    B : (..., m) or (..., m, k)
        Right-hand sides: vectors (..., m) when B has fewer axes than L, else columns
        (..., m, k), as in NumPy and SciPy. The batch axes of L and B broadcast; for a
        leading sample axis of vectors, as z (k, B, m) against L (B, m, m), give L that axis
        too (``L[None]``), or z would be read as columns.
    lower : bool

    Returns
    -------
    X : the shape of B (with the batch axes broadcast)
    """
    op = "solve_triangular"
    lower = boolean(lower, f"{op}: lower")
    A = _matrices(L, op, "L")
    b = check_finite(as_array(B, f"{op}: B"), f"{op}: B")
    m = A.shape[-1]
    if b.ndim < 1 or b.shape[-1 if b.ndim < A.ndim else -2] != m:
        raise ValueError(f"{op}: B must have shape (..., {m}) (vectors) or (..., {m}, k) (columns) "
                         f"for L of shape {A.shape}; got shape {b.shape}")
    vectors = b.ndim < A.ndim
    try:
        np.broadcast_shapes(A.shape[:-2], b.shape[:-1] if vectors else b.shape[:-2])
    except ValueError:
        raise ValueError(f"{op}: the batch axes of L {A.shape} and B {b.shape} do not broadcast") from None
    d = np.diagonal(A, 0, -2, -1)
    check_domain(d != 0, d, f"{op}: the diagonal of L (L is singular otherwise)", "non-zero")
    return SolveTriangular.apply(L, B, lower=lower, vectors=vectors)


# ---------------------------------------------------------------------------------------
# Cholesky factor
# ---------------------------------------------------------------------------------------
class Cholesky(Function):
    """L = chol(A), L Lᵀ = A;   dA = Φ(S + Sᵀ),  S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹

    Φ(X) keeps the lower triangle of X and halves its diagonal; S is the symmetric-input
    rule derived in I. Murray (2016), "Differentiation of the Cholesky decomposition",
    arXiv:1602.07527. As in ``np.linalg.cholesky`` only the lower triangle of A is read, so
    this is the gradient of that triangle: Φ(S + Sᵀ) counts each off-diagonal entry for
    both places of the symmetric matrix it stands for, and the upper triangle gets 0. The
    two products with L⁻¹ are triangular solves.
    """

    def forward(self, A):
        try:
            self.L = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            which = f"one of the {A.shape[-2:]} matrices in the batch {A.shape[:-2]}" if A.ndim > 2 else "it"
            raise ValueError(f"cholesky: A must be symmetric positive definite; {which} is not") from None
        return self.L

    def backward(self, g):
        L = self.L
        P = _phi(_mT(L) @ g)
        S = _mT(_solve_tri(L, _mT(_solve_tri(L, P, lower=True, trans=True)), lower=True, trans=True))  # L⁻ᵀ P L⁻¹
        return (_phi(S + _mT(S)),)


def _phi(X: np.ndarray) -> np.ndarray:
    """Φ(X): the lower triangle of each matrix with its diagonal halved."""
    out = np.tril(X)
    np.einsum("...ii->...i", out)[...] *= 0.5
    return out


def cholesky(A: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor of a symmetric positive definite A: L lower triangular with
    positive diagonal and L Lᵀ = A (with ``upper=True``, Lᵀ, from A's upper triangle).

    Parameters
    ----------
    A : (..., m, m)
        Only the lower triangle is read (the upper with ``upper=True``), as in NumPy.
    upper : bool

    Returns
    -------
    L : (..., m, m)
    """
    _matrices(A, "cholesky", "A")
    if boolean(upper, "cholesky: upper"):
        from .ops import swapaxes  # ops imports this module at its end
        return swapaxes(Cholesky.apply(swapaxes(A, -1, -2)), -1, -2)
    return Cholesky.apply(A)


# ---------------------------------------------------------------------------------------
# log-determinant of a triangular matrix
# ---------------------------------------------------------------------------------------
class LogdetTril(Function):
    """z = log |det L| = Σᵢ log |Lᵢᵢ| for a triangular L;   dLᵢᵢ = g / Lᵢᵢ, 0 off the diagonal"""

    def forward(self, L):
        self.shape, self.d = L.shape, np.diagonal(L, 0, -2, -1)
        return np.log(np.abs(self.d)).sum(axis=-1)

    def backward(self, g):
        dL = np.zeros(self.shape, dtype=g.dtype)
        np.einsum("...ii->...i", dL)[...] = g[..., None] / self.d
        return (dL,)


def logdet_tril(L: Any) -> Tensor:
    """log |det L| = Σᵢ log |Lᵢᵢ| of a (batch of) triangular L (..., m, m), shape (...,):
    the O(m) log-determinant of a Cholesky factor (log det LLᵀ = 2 logdet_tril(L)).
    The diagonal must have no zeros."""
    A = _matrices(L, "logdet_tril", "L")
    d = np.diagonal(A, 0, -2, -1)
    check_domain(d != 0, d, "logdet_tril: the diagonal of L (log 0 = −inf)", "non-zero")
    return LogdetTril.apply(L)
