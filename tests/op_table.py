"""One table of differentiable operations drives the finite-difference and forward tests.

Each row names an op, a function of Tensors to differentiate, a generator of float64
inputs and, where there is one, an independent reference computed with NumPy or SciPy
on plain arrays. Add a row here and the op is gradient-checked and value-checked by
``tests/test_ops.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.special

import vae_np as vn


@dataclass(frozen=True)
class Case:
    name: str
    f: Callable[..., vn.Tensor]
    inputs: Callable[[np.random.Generator], tuple[np.ndarray, ...]]
    reference: Callable[..., np.ndarray] | None = None

    def __str__(self) -> str:  # pytest ids
        return self.name


def normal(*shapes):
    """Inputs drawn from N(0, 1) with the given shapes."""
    return lambda rng: tuple(rng.standard_normal(s) for s in shapes)


def positive(*shapes):
    """Inputs drawn from [0.5, 2], for log, sqrt, division and powers."""
    return lambda rng: tuple(rng.uniform(0.5, 2.0, s) for s in shapes)


def apart(*shapes):
    """Inputs at least 0.1 away from 0 and from each other, for relu and maximum kinks."""
    def draw(rng):
        out = []
        for s in shapes:
            x = rng.uniform(0.1, 2.0, s) * rng.choice([-1.0, 1.0], s)
            out.append(x + 0.05 * len(out))
        return tuple(out)
    return draw


CASES = [
    # arithmetic and broadcasting
    Case("add", lambda x, y: x + y, normal((3, 4), (3, 4)), np.add),
    Case("add/broadcast-row", lambda x, y: x + y, normal((3, 4), (4,)), np.add),
    Case("add/broadcast-both", lambda x, y: x + y, normal((3, 1), (1, 4)), np.add),
    Case("sub/broadcast", lambda x, y: x - y, normal((2, 3, 4), (3, 1)), np.subtract),
    Case("mul/broadcast", lambda x, y: x * y, normal((3, 4), (4,)), np.multiply),
    Case("mul/scalar", lambda x: 3.0 * x, normal((5,)), lambda x: 3.0 * x),
    Case("div", lambda x, y: x / y, lambda rng: (rng.standard_normal((3, 4)), rng.uniform(0.5, 2, (3, 1))), np.divide),
    Case("neg", lambda x: -x, normal((3, 4)), np.negative),
    Case("power/constant", lambda x: x ** 3, normal((3, 4)), lambda x: x ** 3),
    Case("power/tensor-exponent", lambda x, p: x ** p, positive((3, 4), (4,)), np.power),
    # matrix products
    Case("matmul", lambda x, y: x @ y, normal((3, 4), (4, 5)), np.matmul),
    Case("matmul/batched", lambda x, y: x @ y, normal((2, 3, 4), (2, 4, 5)), np.matmul),
    Case("matmul/batch-broadcast", lambda x, y: x @ y, normal((2, 1, 3, 4), (3, 4, 2)), np.matmul),
    Case("matmul/matrix-vector", lambda x, y: x @ y, normal((2, 3, 4), (4,)), np.matmul),
    Case("matmul/vector-matrix", lambda x, y: x @ y, normal((4,), (4, 3)), np.matmul),
    Case("matmul/vector-vector", lambda x, y: x @ y, normal((4,), (4,)), np.matmul),
    Case("linear", vn.linear, normal((5, 3), (3, 4), (4,)), lambda x, w, b: x @ w + b),
    Case("linear/batched", vn.linear, normal((2, 5, 3), (3, 4), (4,)), lambda x, w, b: x @ w + b),
    # reductions and shapes
    Case("sum/all", lambda x: x.sum(), normal((3, 4)), np.sum),
    Case("sum/axis", lambda x: x.sum(axis=1), normal((3, 4, 2)), lambda x: x.sum(axis=1)),
    Case("sum/axes-keepdims", lambda x: vn.sum(x, axis=(0, 2), keepdims=True), normal((3, 4, 2)),
         lambda x: x.sum(axis=(0, 2), keepdims=True)),
    Case("mean/all", lambda x: x.mean(), normal((3, 4)), np.mean),
    Case("mean/axis-negative", lambda x: x.mean(axis=-1), normal((3, 4)), lambda x: x.mean(axis=-1)),
    Case("mean/keepdims", lambda x: x.mean(axis=0, keepdims=True), normal((3, 4)), lambda x: x.mean(axis=0, keepdims=True)),
    Case("reshape", lambda x: x.reshape(4, 3) * np.arange(12.0).reshape(4, 3), normal((3, 4)),
         lambda x: x.reshape(4, 3) * np.arange(12.0).reshape(4, 3)),
    Case("transpose", lambda x: x.T, normal((3, 4)), np.transpose),
    Case("transpose/axes", lambda x: vn.transpose(x, (2, 0, 1)), normal((2, 3, 4)), lambda x: np.transpose(x, (2, 0, 1))),
    Case("swapaxes", lambda x: x.swapaxes(-1, -2), normal((2, 3, 4)), lambda x: np.swapaxes(x, -1, -2)),
    Case("getitem/slice", lambda x: x[1:, ::2], normal((3, 4)), lambda x: x[1:, ::2]),
    Case("getitem/int-and-newaxis", lambda x: x[1, None, :], normal((3, 4)), lambda x: x[1, None, :]),
    Case("getitem/repeated-fancy", lambda x: x[[0, 2, 0, 0]], normal((3, 4)), lambda x: x[[0, 2, 0, 0]]),
    Case("getitem/boolean-mask", lambda x: x[np.array([True, False, True])], normal((3, 2)),
         lambda x: x[np.array([True, False, True])]),
    Case("concatenate", lambda x, y: vn.concatenate([x, y], axis=1), normal((2, 3), (2, 1)),
         lambda x, y: np.concatenate([x, y], axis=1)),
    Case("stack", lambda x, y: vn.stack([x, y], axis=-1), normal((2, 3), (2, 3)), lambda x, y: np.stack([x, y], axis=-1)),
    # elementwise
    Case("exp", vn.exp, normal((3, 4)), np.exp),
    Case("log", vn.log, positive((3, 4)), np.log),
    Case("sqrt", vn.sqrt, positive((3, 4)), np.sqrt),
    Case("square", vn.square, normal((3, 4)), np.square),
    Case("tanh", vn.tanh, normal((3, 4)), np.tanh),
    Case("relu", vn.relu, apart((3, 4)), lambda x: np.maximum(x, 0)),
    Case("sigmoid", vn.sigmoid, lambda rng: (rng.uniform(-8, 8, (3, 4)),), scipy.special.expit),
    Case("softplus", vn.softplus, lambda rng: (rng.uniform(-8, 8, (3, 4)),), lambda x: np.log1p(np.exp(x))),
    Case("logsumexp/axis", lambda x: vn.logsumexp(x, axis=1), normal((3, 4)), lambda x: scipy.special.logsumexp(x, axis=1)),
    Case("logsumexp/all-keepdims", lambda x: vn.logsumexp(x, axis=None, keepdims=True), normal((3, 4)),
         lambda x: scipy.special.logsumexp(x, keepdims=True)),
    Case("log_softmax", lambda x: vn.log_softmax(x, axis=-1), normal((3, 4)), lambda x: scipy.special.log_softmax(x, axis=-1)),
    Case("maximum/broadcast", vn.maximum, apart((3, 4), (4,)), np.maximum),
    Case("where", lambda x, y: vn.where(np.array([[True], [False], [True]]), x, y), normal((3, 4), (4,)),
         lambda x, y: np.where(np.array([[True], [False], [True]]), x, y)),
    # abs, clip
    Case("abs", vn.abs, apart((3, 4)), np.abs),
    Case("clip", lambda x: vn.clip(x, -0.5, 0.7), normal((3, 4)), lambda x: np.clip(x, -0.5, 0.7)),
    Case("clip/array-low-only", lambda x: vn.clip(x, low=np.array([-1.0, -0.5, 0.0, 0.3])), normal((3, 4)),
         lambda x: np.maximum(x, np.array([-1.0, -0.5, 0.0, 0.3]))),
    # diagonals and triangles
    Case("diagonal", vn.diagonal, normal((2, 3, 3)), lambda x: np.diagonal(x, axis1=1, axis2=2)),
    Case("diagonal/offset-and-axes", lambda x: vn.diagonal(x, -1, 2, 0), normal((3, 2, 4)), lambda x: np.diagonal(x, -1, 2, 0)),
    Case("diag_embed", vn.diag_embed, normal((2, 3)), lambda d: np.stack([np.diag(r) for r in d])),
    Case("diag_embed/offset", lambda d: vn.diag_embed(d, 2), normal((2, 3)), lambda d: np.stack([np.diag(r, 2) for r in d])),
    Case("trace", vn.trace, normal((2, 3, 3)), lambda x: np.trace(x, axis1=1, axis2=2)),
    Case("trace/offset-and-axes", lambda x: vn.trace(x, 1, 0, 2), normal((3, 2, 4)), lambda x: np.trace(x, 1, 0, 2)),
    Case("tril", vn.tril, normal((2, 3, 3)), np.tril),
    Case("tril/k", lambda x: vn.tril(x, -1), normal((3, 4)), lambda x: np.tril(x, -1)),
    Case("triu", vn.triu, normal((2, 3, 3)), np.triu),
    Case("triu/k", lambda x: vn.triu(x, 1), normal((4, 3)), lambda x: np.triu(x, 1)),
    # broadcast_to, repeat
    Case("broadcast_to", lambda x: vn.broadcast_to(x, (2, 3, 4)) * np.arange(24.0).reshape(2, 3, 4), normal((3, 1)),
         lambda x: np.broadcast_to(x, (2, 3, 4)) * np.arange(24.0).reshape(2, 3, 4)),
    Case("expand", lambda x: vn.expand(x, (3, 4)) * np.arange(12.0).reshape(3, 4), normal((4,)),
         lambda x: np.broadcast_to(x, (3, 4)) * np.arange(12.0).reshape(3, 4)),
    Case("repeat/axis", lambda x: vn.repeat(x, 2, axis=1) * np.arange(24.0).reshape(3, 8), normal((3, 4)),
         lambda x: np.repeat(x, 2, axis=1) * np.arange(24.0).reshape(3, 8)),
    Case("repeat/counts", lambda x: vn.repeat(x, [2, 0, 3], axis=0), normal((3, 2)), lambda x: np.repeat(x, [2, 0, 3], axis=0)),
    Case("repeat/flattened", lambda x: vn.repeat(x, 3), normal((2, 2)), lambda x: np.repeat(x, 3)),
    # einsum: each case against np.einsum with the same subscripts
    *[Case(f"einsum/{name}", lambda *xs, s=spec: vn.einsum(s, *xs), normal(*shapes), lambda *xs, s=spec: np.einsum(s, *xs))
      for name, spec, shapes in [
          ("matmul", "ij,jk->ik", [(3, 4), (4, 2)]),
          ("batched-matvec", "bij,bj->bi", [(2, 3, 4), (2, 4)]),
          ("implicit-output", "ij,kj", [(3, 4), (2, 4)]),
          ("summed-in-one-operand", "ij,k->ik", [(3, 4), (2,)]),
          ("diagonal", "ii->i", [(3, 3)]),
          ("batch-diagonal", "bii->bi", [(2, 3, 3)]),
          ("trace", "ii", [(3, 3)]),
          ("repeated-and-shared", "iij,j->i", [(3, 3, 2), (2,)]),
          ("three-operands", "i,ij,j->", [(3,), (3, 4), (4,)]),
          ("ellipsis", "...ij,...j->...i", [(2, 3, 4), (4,)]),
          ("ellipsis-implicit", "i...j", [(3, 2, 4)]),
          ("size-1-broadcast", "ij,ij->ij", [(1, 3), (4, 3)]),
          ("ellipsis-broadcast", "i...,...->i...", [(3, 1, 2), (4, 1)]),
          ("uppercase", "Ab,bC", [(2, 3), (3, 4)]),
      ]],
    # composites: a value used twice, and a deep graph
    Case("used-twice", lambda x: x * x + vn.exp(x) * x, normal((3, 4)), lambda x: x * x + np.exp(x) * x),
    Case("deep-composite", lambda x, w1, w2: vn.log_softmax(vn.tanh(vn.tanh(x @ w1) @ w2 + x.sum(axis=1, keepdims=True))).mean(axis=0),
         normal((5, 3), (3, 6), (6, 4)),
         lambda x, w1, w2: scipy.special.log_softmax(np.tanh(np.tanh(x @ w1) @ w2 + x.sum(axis=1, keepdims=True)), axis=-1).mean(axis=0)),
    # --- model ops (vae_np.gaussian, vae_np.losses): add their rows below this line ---
]

# The model ops are imported from their modules (the package namespace need not export them).
import scipy.stats  # noqa: E402

from vae_np import gaussian, losses  # noqa: E402


def scale_matrix(rng, B=2, m=3):
    """A batch of lower-triangular L with diagonal in [0.5, 2]: valid Cholesky factors."""
    return np.tril(0.5 * rng.standard_normal((B, m, m)), -1) + rng.uniform(0.5, 2.0, (B, 1, m)) * np.eye(m)


def gaussian_inputs(*names, B=2, m=3):
    """Inputs for the Gaussian ops, named as their arguments; ``log_sigma`` is log diag(L).

    ``L`` is lower triangular with a positive diagonal, ``L_prime`` unconstrained.
    """
    def draw(rng):
        L = scale_matrix(rng, B, m)
        made = {"L": L, "log_sigma": np.log(np.diagonal(L, axis1=1, axis2=2)), "L_prime": rng.standard_normal((B, m, m))}
        return tuple(made[n] if n in made else rng.standard_normal((B, m)) for n in names)
    return draw


def mvn_logpdf(z, mu, L):
    """log N(zᵦ; μᵦ, LᵦLᵦᵀ) for each example, by scipy.stats on the dense covariance."""
    return np.array([scipy.stats.multivariate_normal(mu[b], L[b] @ L[b].T).logpdf(z[b]) for b in range(len(z))])


def dense_kl(mu, L):
    """KL(N(μ, LLᵀ) ‖ N(0, I)) = ½[−log det Σ − m + Tr Σ + μᵀμ] with Σ = LLᵀ formed densely."""
    cov = L @ np.swapaxes(L, 1, 2)
    return 0.5 * (-np.linalg.slogdet(cov)[1] - mu.shape[1] + np.trace(cov, axis1=1, axis2=2) + (mu * mu).sum(1))


def lecture_L(log_sigma, L_prime):
    """L = L_mask ⊙ L' + diag(σ), written as on the slide."""
    m = log_sigma.shape[1]
    return np.tri(m, k=-1) * L_prime + np.exp(log_sigma)[:, :, None] * np.eye(m)


def composed(mu, log_sigma, L_prime, eps):
    """The encoder's Gaussian path: L, then z, then [KL, log q(z)] per example."""
    L = gaussian.scale_tril(log_sigma, L_prime)
    z = gaussian.rsample(mu, L, eps)
    return vn.stack([gaussian.kl_standard_normal(mu, log_sigma, L), gaussian.log_prob(z, mu, L)], axis=-1)


def composed_reference(mu, log_sigma, L_prime, eps):
    L = lecture_L(log_sigma, L_prime)
    return np.stack([dense_kl(mu, L), mvn_logpdf(mu + np.einsum("bij,bj->bi", L, eps), mu, L)], axis=-1)


LABELS = np.array([0, 2, 1, 2])
LABEL_PROBS = np.array([[0.2, 0.5, 0.3], [0.0, 1.0, 0.0], [0.6, 0.0, 0.4], [1 / 3, 1 / 3, 1 / 3]])

CASES += [
    Case("scale_tril", gaussian.scale_tril, gaussian_inputs("log_sigma", "L_prime"), lecture_L),
    Case("rsample", gaussian.rsample, gaussian_inputs("mu", "L", "eps"),
         lambda mu, L, eps: mu + np.einsum("bij,bj->bi", L, eps)),
    Case("kl_standard_normal", gaussian.kl_standard_normal, gaussian_inputs("mu", "log_sigma", "L"),
         lambda mu, log_sigma, L: dense_kl(mu, L)),
    Case("log_prob", gaussian.log_prob, gaussian_inputs("z", "mu", "L"), mvn_logpdf),
    Case("log_prob/m=1", gaussian.log_prob, gaussian_inputs("z", "mu", "L", B=3, m=1), mvn_logpdf),
    Case("entropy", gaussian.entropy, gaussian_inputs("L"),
         lambda L: np.array([scipy.stats.multivariate_normal(np.zeros(3), Lb @ Lb.T).entropy() for Lb in L])),
    Case("gaussian/composed", composed, gaussian_inputs("mu", "log_sigma", "L_prime", "eps"), composed_reference),
    Case("mse", losses.mse, normal((4, 5), (4, 5)), lambda x_hat, x: np.mean((x - x_hat) ** 2)),
    Case("sse", losses.sse, normal((4, 5), (4, 5)), lambda x_hat, x: np.sum((x - x_hat) ** 2)),
    Case("bernoulli_nll", losses.bernoulli_nll, lambda rng: (rng.uniform(-6, 6, (4, 5)), rng.uniform(0.05, 0.95, (4, 5))),
         lambda l, x: -(x * np.log(scipy.special.expit(l)) + (1 - x) * np.log(scipy.special.expit(-l))).sum(1)),
    Case("gaussian_nll", losses.gaussian_nll, lambda rng: (*normal((4, 5), (4, 5))(rng), rng.uniform(0.5, 2.0, 5)),
         lambda x_hat, x, sigma: -scipy.stats.norm.logpdf(x, x_hat, sigma).sum(1)),
    Case("gaussian_nll/scalar-sigma", losses.gaussian_nll, lambda rng: (*normal((4, 5), (4, 5))(rng), rng.uniform(0.5, 2.0, ())),
         lambda x_hat, x, sigma: -scipy.stats.norm.logpdf(x, x_hat, sigma).sum(1)),
    Case("cross_entropy/indices", lambda l: losses.cross_entropy(l, LABELS), normal((4, 3)),
         lambda l: -scipy.special.log_softmax(l, axis=1)[np.arange(4), LABELS]),
    Case("cross_entropy/probabilities", lambda l: losses.cross_entropy(l, LABEL_PROBS), normal((4, 3)),
         lambda l: -(LABEL_PROBS * scipy.special.log_softmax(l, axis=1)).sum(1)),
]


# --- linear algebra (vae_np.linalg): references by SciPy one matrix at a time ---
import scipy.linalg  # noqa: E402


def lower(*shapes_b, m=3, batch=(2,), upper=False):
    """A well-conditioned triangular L (batch, m, m) with diagonal in [1, 2], and right-hand sides."""
    def draw(rng):
        L = np.tril(0.5 * rng.standard_normal(batch + (m, m)), -1) + rng.uniform(1.0, 2.0, batch + (1, m)) * np.eye(m)
        L = np.swapaxes(L, -1, -2) if upper else L
        return (L, *(rng.standard_normal(s) for s in shapes_b))
    return draw


def spd(rng, batch=(2,), m=3):
    """Symmetric positive definite A = M Mᵀ + m I."""
    M = rng.standard_normal(batch + (m, m))
    return (M @ np.swapaxes(M, -1, -2) + m * np.eye(m),)


def per_matrix(f, *xs):
    """f applied to each matrix of a batch (the leading axes broadcast), stacked back."""
    batch = np.broadcast_shapes(*(x.shape[:-2] for x in xs))
    flat = [np.broadcast_to(x, batch + x.shape[-2:]).reshape(-1, *x.shape[-2:]) for x in xs]
    return np.array([f(*parts) for parts in zip(*flat)]).reshape(batch + (-1,) + np.shape(f(*(x[0] for x in flat)))[1:])


def solve_reference(L, B, lower=True):
    vectors = B.ndim < L.ndim
    X = per_matrix(lambda l, b: scipy.linalg.solve_triangular(l, b, lower=lower), L, B[..., None] if vectors else B)
    return X[..., 0] if vectors else X


CASES += [
    Case("solve_triangular/vectors", vn.solve_triangular, lower((2, 3)), solve_reference),
    Case("solve_triangular/columns", vn.solve_triangular, lower((2, 3, 4)), solve_reference),
    Case("solve_triangular/one-matrix", vn.solve_triangular, lower((3,), batch=()), solve_reference),
    Case("solve_triangular/batch-broadcast", vn.solve_triangular, lower((4, 2, 3, 2)), solve_reference),
    Case("solve_triangular/upper", lambda L, B: vn.solve_triangular(L, B, lower=False), lower((2, 3, 2), upper=True),
         lambda L, B: solve_reference(L, B, lower=False)),
    Case("cholesky", vn.cholesky, spd, lambda A: per_matrix(lambda a: scipy.linalg.cholesky(a, lower=True), A)),
    Case("cholesky/upper", lambda A: vn.cholesky(A, upper=True), spd, lambda A: per_matrix(scipy.linalg.cholesky, A)),
    Case("cholesky/m=1", vn.cholesky, lambda rng: spd(rng, (3,), 1), np.sqrt),
    # the way a model uses it: A = M Mᵀ + 3I is symmetric by construction, and both of A's
    # triangles carry gradient back to M
    Case("cholesky/of-M-Mt", lambda M: vn.cholesky(M @ vn.swapaxes(M, -1, -2) + 3 * np.eye(3)), normal((2, 3, 3)),
         lambda M: per_matrix(lambda a: scipy.linalg.cholesky(a, lower=True), M @ np.swapaxes(M, -1, -2) + 3 * np.eye(3))),
    Case("logdet_tril", vn.logdet_tril, lower(), lambda L: np.linalg.slogdet(L)[1]),
    Case("logdet_tril/negative-diagonal", vn.logdet_tril, lambda rng: (-lower()(rng)[0],), lambda L: np.linalg.slogdet(L)[1]),
]
