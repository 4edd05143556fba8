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
    # composites: a value used twice, and a deep graph
    Case("used-twice", lambda x: x * x + vn.exp(x) * x, normal((3, 4)), lambda x: x * x + np.exp(x) * x),
    Case("deep-composite", lambda x, w1, w2: vn.log_softmax(vn.tanh(vn.tanh(x @ w1) @ w2 + x.sum(axis=1, keepdims=True))).mean(axis=0),
         normal((5, 3), (3, 6), (6, 4)),
         lambda x, w1, w2: scipy.special.log_softmax(np.tanh(np.tanh(x @ w1) @ w2 + x.sum(axis=1, keepdims=True)), axis=-1).mean(axis=0)),
    # --- model ops (vae_np.gaussian, vae_np.losses): add their rows below this line ---
]
