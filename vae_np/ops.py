"""The primitive operations, each a :class:`~vae_np.tensor.Function` with its backward below it.

Every class here states its rule in its docstring, in the notation of the book:
``g`` is ∂loss/∂output, and the backward returns ∂loss/∂input for each input. Where
NumPy broadcasts in the forward pass, the backward returns the broadcast-shaped
gradient and the engine sums it back to each input's shape (:func:`vae_np.unbroadcast`).

The lower-case functions (``add``, ``matmul``, ``logsumexp`` …) are the public interface;
they accept Tensors, arrays and numbers.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy import special

from .tensor import Function, Tensor

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "matmul", "linear",
    "sum", "mean", "reshape", "transpose", "swapaxes", "getitem", "concatenate", "stack",
    "exp", "log", "sqrt", "square", "tanh", "relu", "sigmoid", "softplus",
    "logsumexp", "log_softmax", "maximum", "where",
]


# ---------------------------------------------------------------------------------------
# Arithmetic with broadcasting
# ---------------------------------------------------------------------------------------
class Add(Function):
    """z = x + y;   dx = g,  dy = g"""

    def forward(self, x, y):
        return x + y

    def backward(self, g):
        return g, g


class Sub(Function):
    """z = x − y;   dx = g,  dy = −g"""

    def forward(self, x, y):
        return x - y

    def backward(self, g):
        return g, (-g if self.needs_grad[1] else None)


class Mul(Function):
    """z = x ⊙ y;   dx = g ⊙ y,  dy = g ⊙ x"""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, g):
        dx = g * self.y if self.needs_grad[0] else None
        dy = g * self.x if self.needs_grad[1] else None
        return dx, dy


class Div(Function):
    """z = x / y;   dx = g / y,  dy = −g ⊙ z / y"""

    def forward(self, x, y):
        self.y = y
        self.z = x / y
        return self.z

    def backward(self, g):
        dx = g / self.y if self.needs_grad[0] else None
        dy = -g * self.z / self.y if self.needs_grad[1] else None
        return dx, dy


class Neg(Function):
    """z = −x;   dx = −g"""

    def forward(self, x):
        return -x

    def backward(self, g):
        return (-g,)


class Power(Function):
    """z = x ** p;   dx = g ⊙ p x^(p−1),  dp = g ⊙ z log x"""

    def forward(self, x, p):
        self.x, self.p = x, p
        self.z = x ** p
        return self.z

    def backward(self, g):
        dx = g * self.p * self.x ** (self.p - 1) if self.needs_grad[0] else None
        dp = g * self.z * np.log(self.x) if self.needs_grad[1] else None
        return dx, dp


def add(x: Any, y: Any) -> Tensor:
    """x + y with NumPy broadcasting."""
    return Add.apply(x, y)


def sub(x: Any, y: Any) -> Tensor:
    """x − y with NumPy broadcasting."""
    return Sub.apply(x, y)


def mul(x: Any, y: Any) -> Tensor:
    """Elementwise x ⊙ y with NumPy broadcasting."""
    return Mul.apply(x, y)


def div(x: Any, y: Any) -> Tensor:
    """Elementwise x / y with NumPy broadcasting."""
    return Div.apply(x, y)


def neg(x: Any) -> Tensor:
    """−x."""
    return Neg.apply(x)


def power(x: Any, p: Any) -> Tensor:
    """Elementwise x ** p; ``p`` may be a number or a tensor (then ∂/∂p = z log x)."""
    return Power.apply(x, p)


# ---------------------------------------------------------------------------------------
# Matrix products
# ---------------------------------------------------------------------------------------
class MatMul(Function):
    """Z = X Y, batched over leading axes;   dX = G Yᵀ,  dY = Xᵀ G

    A 1-D ``x`` is a row vector and a 1-D ``y`` a column vector, as in ``np.matmul``; the
    backward restores the dropped axis before applying the rule and removes it after.
    """

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul: operands must have at least one axis; got shapes {x.shape} and {y.shape} (use mul for scalars)")
        k_x, k_y = x.shape[-1], y.shape[-2] if y.ndim > 1 else y.shape[0]
        if k_x != k_y:
            raise ValueError(
                f"matmul: x of shape {x.shape} does not align with y of shape {y.shape}: "
                f"x's last axis has length {k_x}, y's {'second-to-last' if y.ndim > 1 else 'only'} axis has length {k_y}"
            )
        self.x, self.y = x, y
        return x @ y

    def backward(self, g):
        x, y = self.x, self.y
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        if y.ndim == 1:
            g = g[..., None]
        if x.ndim == 1:
            g = g[..., None, :]
        dx = dy = None
        if self.needs_grad[0]:
            dx = g @ np.swapaxes(y2, -1, -2)
            dx = dx[..., 0, :] if x.ndim == 1 else dx
        if self.needs_grad[1]:
            dy = np.swapaxes(x2, -1, -2) @ g
            dy = dy[..., :, 0] if y.ndim == 1 else dy
        return dx, dy


class Linear(Function):
    """Y = X W + b, fused;   dX = G Wᵀ,  dW = Xᵀ G,  db = Σ_rows G

    ``x``: (..., n_in), ``w``: (n_in, n_out), ``b``: (n_out,). One op instead of three saves
    a temporary and, when ``x`` is data, the matrix product for dX.
    """

    def forward(self, x, w, b):
        if w.ndim != 2 or x.ndim < 1 or x.shape[-1] != w.shape[0] or b.shape != (w.shape[1],):
            raise ValueError(
                f"linear: expected x (..., n_in), w (n_in, n_out), b (n_out,); got x {x.shape}, "
                f"w {w.shape}, b {b.shape}"
            )
        self.x, self.w = x, w
        y = x @ w
        y += b
        return y

    def backward(self, g):
        x, w = self.x, self.w
        dx = g @ w.T if self.needs_grad[0] else None
        g2 = g.reshape(-1, g.shape[-1])
        dw = x.reshape(-1, x.shape[-1]).T @ g2 if self.needs_grad[1] else None
        db = g2.sum(axis=0) if self.needs_grad[2] else None
        return dx, dw, db


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product ``x @ y`` with NumPy's rules: batched ``(..., n, k) @ (..., k, p)``,
    matrix-vector and vector-matrix."""
    return MatMul.apply(x, y)


def linear(x: Any, w: Any, b: Any) -> Tensor:
    """The affine map ``x @ w + b``: x (..., n_in), w (n_in, n_out), b (n_out,)."""
    return Linear.apply(x, w, b)


# ---------------------------------------------------------------------------------------
# Reductions and shape changes
# ---------------------------------------------------------------------------------------
class Sum(Function):
    """z = Σ_axis x;   dx = g broadcast back over the summed axes"""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        if self.axis is not None and not self.keepdims:
            g = np.expand_dims(g, self.axis)
        return (np.broadcast_to(g, self.shape),)


class Mean(Function):
    """z = (1/n) Σ_axis x;   dx = g / n broadcast back over the averaged axes"""

    def forward(self, x, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        z = np.mean(x, axis=axis, keepdims=keepdims)
        self.n = x.size // max(np.size(z), 1) if x.size else 1
        return z

    def backward(self, g):
        if self.axis is not None and not self.keepdims:
            g = np.expand_dims(g, self.axis)
        return (np.broadcast_to(g / self.n, self.shape),)


class Reshape(Function):
    """z = reshape(x);   dx = reshape(g, x.shape)"""

    def forward(self, x, shape=()):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape x of shape {x.shape} ({x.size} elements) into shape {shape}") from None

    def backward(self, g):
        return (g.reshape(self.shape),)


class Transpose(Function):
    """z = transpose(x, axes);   dx = transpose(g, inverse of axes)"""

    def forward(self, x, axes=None):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, g):
        return (np.transpose(g, None if self.axes is None else np.argsort(self.axes)),)


class SwapAxes(Function):
    """z = swapaxes(x, a, b);   dx = swapaxes(g, a, b)"""

    def forward(self, x, axis1=-2, axis2=-1):
        self.axis1, self.axis2 = axis1, axis2
        return np.swapaxes(x, axis1, axis2)

    def backward(self, g):
        return (np.swapaxes(g, self.axis1, self.axis2),)


class GetItem(Function):
    """z = x[index];   dx = zeros with g added at index (repeated indices add up)"""

    def forward(self, x, index=None):
        self.shape, self.index = x.shape, index
        return x[index]

    def backward(self, g):
        dx = np.zeros(self.shape, dtype=g.dtype)
        if _is_basic_index(self.index):
            dx[self.index] = g
        else:
            np.add.at(dx, self.index, g)
        return (dx,)


def _is_basic_index(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis: indexing that never repeats an element."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in items)


class Concatenate(Function):
    """z = concatenate(x₁, …, xₙ; axis);   dxᵢ = the slice of g that xᵢ filled"""

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.splits = np.cumsum([x.shape[axis] for x in xs])[:-1]
        try:
            return np.concatenate(xs, axis=axis)
        except ValueError as err:
            raise ValueError(f"concatenate: shapes {[x.shape for x in xs]} do not fit along axis {axis}: {err}") from None

    def backward(self, g):
        return tuple(np.split(g, self.splits, axis=self.axis))


class Stack(Function):
    """z = stack(x₁, …, xₙ; axis);   dxᵢ = g taken at position i of the new axis"""

    def forward(self, *xs, axis=0):
        self.axis = axis
        try:
            return np.stack(xs, axis=axis)
        except ValueError:
            raise ValueError(f"stack: all inputs must have the same shape; got {[x.shape for x in xs]}") from None

    def backward(self, g):
        return tuple(np.moveaxis(g, self.axis, 0))


def sum(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes by default), as ``np.sum``."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default), as ``np.mean``."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """``x`` with a new shape (one entry may be −1)."""
    return Reshape.apply(x, shape=shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them by default), as ``np.transpose``."""
    return Transpose.apply(x, axes=None if axes is None else tuple(axes))


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes, e.g. ``swapaxes(L, -1, -2)`` is a batch of transposes."""
    return SwapAxes.apply(x, axis1=axis1, axis2=axis2)


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with NumPy's basic and advanced indexing."""
    if isinstance(index, Tensor):
        index = index.data.astype(np.intp)
    elif isinstance(index, tuple):
        index = tuple(i.data.astype(np.intp) if isinstance(i, Tensor) else i for i in index)
    return GetItem.apply(x, index=index)


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join a sequence of tensors along an existing axis."""
    return Concatenate.apply(*xs, axis=axis)


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join a sequence of same-shaped tensors along a new axis."""
    return Stack.apply(*xs, axis=axis)


# ---------------------------------------------------------------------------------------
# Elementwise functions
# ---------------------------------------------------------------------------------------
class Exp(Function):
    """z = eˣ;   dx = g ⊙ z"""

    def forward(self, x):
        self.z = np.exp(x)
        return self.z

    def backward(self, g):
        return (g * self.z,)


class Log(Function):
    """z = log x;   dx = g / x"""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, g):
        return (g / self.x,)


class Sqrt(Function):
    """z = √x;   dx = g / (2z)"""

    def forward(self, x):
        self.z = np.sqrt(x)
        return self.z

    def backward(self, g):
        return (g / (2 * self.z),)


class Square(Function):
    """z = x²;   dx = 2x ⊙ g"""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (2 * self.x * g,)


class Tanh(Function):
    """z = tanh x;   dx = g ⊙ (1 − z²)

    NumPy's float64 ``tanh`` is scalar code (about 34 ns an element on the machines we
    measured). With t = −expm1(−2|x|) = 1 − e^(−2|x|), tanh|x| = t / (2 − t): exact to
    rounding (expm1 avoids the cancellation in 1 − e^(−2|x|) near 0) and about 1.7× faster.
    float32 keeps ``np.tanh``, which is vectorised.
    """

    def forward(self, x):
        if x.dtype != np.float64:
            self.z = np.tanh(x)
            return self.z
        t = np.abs(x)
        t *= -2
        np.expm1(t, out=t)
        np.negative(t, out=t)              # t = 1 − e^(−2|x|) ∈ [0, 1]
        np.divide(t, 2 - t, out=t)         # tanh |x|
        self.z = np.copysign(t, x, out=t)
        return self.z

    def backward(self, g):
        dx = self.z * self.z           # in place from here: one temporary instead of three
        np.subtract(1, dx, out=dx)
        dx *= g
        return (dx,)


class ReLU(Function):
    """z = max(x, 0);   dx = g ⊙ [x > 0]"""

    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, g):
        return (g * self.positive,)


class Sigmoid(Function):
    """z = 1 / (1 + e⁻ˣ), evaluated without overflow (``scipy.special.expit``);   dx = g ⊙ z(1 − z)"""

    def forward(self, x):
        self.z = special.expit(x)
        return self.z

    def backward(self, g):
        return (g * self.z * (1 - self.z),)


class Softplus(Function):
    """z = log(1 + eˣ) = logaddexp(0, x), finite for any x;   dx = g ⊙ sigmoid(x)"""

    def forward(self, x):
        self.x = x
        return np.logaddexp(0, x)

    def backward(self, g):
        return (g * special.expit(self.x),)


def exp(x: Any) -> Tensor:
    """Elementwise eˣ."""
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def sqrt(x: Any) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(x)


def square(x: Any) -> Tensor:
    """Elementwise x²."""
    return Square.apply(x)


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return Tanh.apply(x)


def relu(x: Any) -> Tensor:
    """Elementwise max(x, 0); the gradient at 0 is taken as 0."""
    return ReLU.apply(x)


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function, stable for large |x|."""
    return Sigmoid.apply(x)


def softplus(x: Any) -> Tensor:
    """Elementwise log(1 + eˣ), stable for large |x|."""
    return Softplus.apply(x)


# ---------------------------------------------------------------------------------------
# Log-sum-exp, log-softmax, maximum, where
# ---------------------------------------------------------------------------------------
class LogSumExp(Function):
    """z = log Σ_axis eˣ = m + log Σ e^(x−m) with m = max x;   dx = g ⊙ softmax(x)

    Subtracting the maximum keeps every exponent ≤ 0, so nothing overflows.
    """

    def forward(self, x, axis=-1, keepdims=False):
        m = np.max(x, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        z = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        self.p, self.kept_shape = np.exp(x - z), z.shape
        return z if keepdims else np.squeeze(z, axis=axis)

    def backward(self, g):
        return (g.reshape(self.kept_shape) * self.p,)


class LogSoftmax(Function):
    """z = x − logsumexp(x);   dx = g − softmax(x) Σ_axis g"""

    def forward(self, x, axis=-1):
        self.axis = axis
        z = special.log_softmax(x, axis=axis)
        self.p = np.exp(z)
        return z

    def backward(self, g):
        return (g - self.p * np.sum(g, axis=self.axis, keepdims=True),)


class Maximum(Function):
    """z = max(x, y) elementwise;   dx = g ⊙ [x ≥ y],  dy = g ⊙ [x < y]  (ties go to x)"""

    def forward(self, x, y):
        self.x_wins = x >= y
        return np.where(self.x_wins, x, y)

    def backward(self, g):
        dx = g * self.x_wins if self.needs_grad[0] else None
        dy = g * ~self.x_wins if self.needs_grad[1] else None
        return dx, dy


class Where(Function):
    """z = x where cond else y;   dx = g ⊙ [cond],  dy = g ⊙ [not cond]"""

    def forward(self, x, y, cond=None):
        self.cond = cond
        return np.where(cond, x, y)

    def backward(self, g):
        zero = np.zeros((), dtype=g.dtype)
        dx = np.where(self.cond, g, zero) if self.needs_grad[0] else None
        dy = np.where(self.cond, zero, g) if self.needs_grad[1] else None
        return dx, dy


def logsumexp(x: Any, axis: int | None = -1, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis``, without overflow (finite for entries of ±1000)."""
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x − logsumexp(x): log-probabilities of a softmax over ``axis``."""
    return LogSoftmax.apply(x, axis=axis)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum with broadcasting; at ties the gradient goes to ``x``."""
    return Maximum.apply(x, y)


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """Choose ``x`` where the boolean array ``cond`` is true and ``y`` elsewhere."""
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond)
    if cond.dtype != bool:
        raise TypeError(f"where: cond must be a boolean array; got dtype {cond.dtype}")
    return Where.apply(x, y, cond=cond)


# NumPy ufuncs that Tensor.__array_ufunc__ maps onto these ops (np.exp(t), array + t, …).
UFUNCS = {
    np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg,
    np.power: power, np.matmul: matmul, np.exp: exp, np.log: log, np.sqrt: sqrt,
    np.square: square, np.tanh: tanh, np.maximum: maximum,
}
