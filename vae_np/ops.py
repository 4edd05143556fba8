"""The primitive operations, each a :class:`~vae_np.tensor.Function` with its backward below it.

Every class here states its rule in its docstring, in the notation of the book:
``g`` is ∂loss/∂output, and the backward returns ∂loss/∂input for each input. Where
NumPy broadcasts in the forward pass, the backward returns the broadcast-shaped
gradient and the engine sums it back to each input's shape (:func:`vae_np.unbroadcast`).

The lower-case functions (``add``, ``matmul``, ``logsumexp`` …) are the public interface;
they accept Tensors, arrays and numbers, and check their options (axes, shapes, offsets,
subscripts, domains) with a clear error before any NumPy call can fail inside NumPy.
The linear-algebra ops (triangular solves, Cholesky) are in :mod:`vae_np.linalg`.

At the end, ``UFUNCS`` and ``ARRAY_FUNCTIONS`` map NumPy's own functions onto these
ops with NumPy's signatures, so that ``np.exp(t)``, ``np.sum(t)`` or ``np.einsum("bii->bi", L)``
on a Tensor stay in the graph.
"""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np
from scipy import special

from .tensor import Function, Tensor
from .validate import (
    as_array, boolean, check_axes, check_axis, check_domain, describe, integer, is_tensor,
)

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "matmul", "linear",
    "sum", "mean", "reshape", "transpose", "swapaxes", "getitem", "concatenate", "stack",
    "exp", "log", "sqrt", "square", "tanh", "relu", "sigmoid", "softplus",
    "logsumexp", "log_softmax", "maximum", "where",
    "abs", "clip", "diagonal", "diag_embed", "trace", "tril", "triu", "broadcast_to", "expand",
    "repeat", "einsum",
]


def _input(x: Any, op: str, name: str = "x") -> Any:
    """A Tensor as it is, anything else as a float array (a clear TypeError for non-numbers):
    what a public function reads ``.shape`` from before it calls ``apply``."""
    return x if isinstance(x, Tensor) else as_array(x, f"{op}: {name}")


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
        check_domain(y != 0, y, "div: the divisor y", "non-zero")
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
    """z = x ** p;   dx = g ⊙ p x^(p−1),  dp = g ⊙ z log x

    Real results only: a negative base needs an integer exponent, 0 a non-negative one, and
    the gradient with respect to a tensor exponent needs x > 0 (log x).
    """

    def forward(self, x, p):
        check_domain((x >= 0) | (p == np.round(p)), x, "power: a base x raised to a fractional exponent p", "≥ 0")
        check_domain((x != 0) | (p >= 0), x, "power: a base x raised to a negative exponent p", "non-zero")
        self.x, self.p = x, p
        self.z = x ** p
        return self.z

    def backward(self, g):
        dx = g * self.p * self.x ** (self.p - 1) if self.needs_grad[0] else None
        if self.needs_grad[1]:
            check_domain(self.x > 0, self.x, "power: for the gradient with respect to the exponent, x", "> 0")
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
        self.n = int(np.prod([x.shape[a] for a in axis])) if axis is not None else x.size
        return np.mean(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        if self.axis is not None and not self.keepdims:
            g = np.expand_dims(g, self.axis)
        return (np.broadcast_to(g / self.n, self.shape),)


class Reshape(Function):
    """z = reshape(x);   dx = reshape(g, x.shape)"""

    def forward(self, x, shape=()):
        self.shape = x.shape
        return x.reshape(shape)

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
        try:
            return x[index]
        except IndexError as err:  # out of range, too many indices, a mask of the wrong shape
            raise ValueError(f"getitem: index {_show(index)} does not fit x of shape {x.shape}: {err}") from None

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
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        return tuple(np.split(g, self.splits, axis=self.axis))


class Stack(Function):
    """z = stack(x₁, …, xₙ; axis);   dxᵢ = g taken at position i of the new axis"""

    def forward(self, *xs, axis=0):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, g):
        return tuple(np.moveaxis(g, self.axis, 0))


def sum(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes by default), as ``np.sum``."""
    x = _input(x, "sum")
    return Sum.apply(x, axis=_reduced_axes(axis, x.ndim, "sum"), keepdims=boolean(keepdims, "sum: keepdims"))


def mean(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default), as ``np.mean``; the axes must not be empty."""
    x = _input(x, "mean")
    axes = _reduced_axes(axis, x.ndim, "mean")
    if any(x.shape[a] == 0 for a in (range(x.ndim) if axes is None else axes)):
        raise ValueError(f"mean: cannot average over an empty axis; x has shape {x.shape} and axis is {axis}")
    return Mean.apply(x, axis=axes, keepdims=boolean(keepdims, "mean: keepdims"))


def _reduced_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """The axes of a reduction, checked: None (all) or a tuple of distinct axes in [0, ndim)."""
    return None if axis is None else check_axes(axis, ndim, f"{op}: axis")


def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """``x`` with a new shape (one entry may be −1, standing for what the others leave)."""
    x = _input(x, "reshape")
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    shape = tuple(integer(n, "reshape: each entry of shape", minimum=-1) for n in items)
    known = int(np.prod([n for n in shape if n != -1]))
    fits = known == x.size if -1 not in shape else (known > 0 and x.size % known == 0)
    if shape.count(-1) > 1 or not fits:
        raise ValueError(f"reshape: cannot reshape x of shape {x.shape} ({x.size} elements) into shape {shape}")
    return Reshape.apply(x, shape=shape)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them by default), as ``np.transpose``."""
    x = _input(x, "transpose")
    if axes is not None:
        if not isinstance(axes, (tuple, list)):
            raise TypeError(f"transpose: axes must be a sequence of ints (a permutation); got {describe(axes)}")
        perm = tuple(check_axis(a, x.ndim, "transpose: each entry of axes") for a in axes)
        if sorted(perm) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes must be a permutation of the {x.ndim} axes of x; got {tuple(axes)}")
        axes = perm
    return Transpose.apply(x, axes=axes)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes, e.g. ``swapaxes(L, -1, -2)`` is a batch of transposes."""
    x = _input(x, "swapaxes")
    return SwapAxes.apply(x, axis1=check_axis(axis1, x.ndim, "swapaxes: axis1"),
                          axis2=check_axis(axis2, x.ndim, "swapaxes: axis2"))


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with NumPy's basic and advanced indexing.

    Index entries are ints, slices of ints, None, ``...``, and arrays (or lists, or
    Tensors) of integers or booleans. A float index is a TypeError, not truncated.
    """
    if isinstance(index, tuple):
        index = tuple(_index_item(i) for i in index)
    else:
        index = _index_item(index)
    return GetItem.apply(x, index=index)


def _index_item(i: Any) -> Any:
    """One entry of an index, checked: ints and integer arrays, masks, slices, None, ``...``."""
    if i is None or i is Ellipsis or isinstance(i, (bool, np.bool_, int, np.integer)):
        return i
    if isinstance(i, slice):
        for part in ("start", "stop", "step"):
            if getattr(i, part) is not None:
                integer(getattr(i, part), f"getitem: a slice's {part}")
        if i.step == 0:
            raise ValueError("getitem: a slice's step must not be 0")
        return i
    if is_tensor(i):  # a Tensor holds floats: accept whole numbers only
        values = i.data
        if not np.array_equal(values, np.round(values)):
            raise TypeError(f"getitem: an index must hold integers or booleans; got a Tensor with "
                            f"non-integer values such as {values[values != np.round(values)].flat[0]}")
        return values.astype(np.intp)
    if isinstance(i, (list, np.ndarray)):
        arr = np.asarray(i) if isinstance(i, np.ndarray) or len(i) else np.zeros(0, np.intp)
        if arr.dtype.kind in "biu":
            return arr
        raise TypeError(f"getitem: an index array must hold integers or booleans; got {describe(arr)}")
    raise TypeError(f"getitem: an index must be an int, a slice, None, ..., or an array of integers "
                    f"or booleans; got {describe(i)}")


def _show(index: Any) -> str:
    """An index for an error message, with arrays shown by their shape."""
    items = index if isinstance(index, tuple) else (index,)
    return ", ".join(f"array of shape {i.shape}" if isinstance(i, np.ndarray) else repr(i) for i in items)


def _inputs(xs: Any, op: str) -> list:
    """The sequence of inputs of concatenate or stack, checked to be a non-empty list or tuple."""
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"{op}: xs must be a list or tuple of tensors; got {describe(xs)}")
    if not xs:
        raise ValueError(f"{op}: xs must hold at least one tensor; got an empty {type(xs).__name__}")
    return [_input(x, op, f"xs[{i}]") for i, x in enumerate(xs)]


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join a sequence of tensors along an existing axis."""
    xs = _inputs(xs, "concatenate")
    shapes = [x.shape for x in xs]
    if any(len(s) != len(shapes[0]) for s in shapes) or not shapes[0]:
        raise ValueError(f"concatenate: xs must all have the same number of axes (at least 1); got shapes {shapes}")
    axis = check_axis(axis, len(shapes[0]), "concatenate: axis")
    if any(s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:] for s in shapes):
        raise ValueError(f"concatenate: xs must have the same shape except along axis {axis}; got shapes {shapes}")
    return Concatenate.apply(*xs, axis=axis)


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join a sequence of same-shaped tensors along a new axis."""
    xs = _inputs(xs, "stack")
    shapes = [x.shape for x in xs]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: xs must all have the same shape; got shapes {shapes}")
    return Stack.apply(*xs, axis=check_axis(axis, len(shapes[0]) + 1, "stack: axis"))


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
    """z = log x;   dx = g / x   (x > 0)"""

    def forward(self, x):
        check_domain(x > 0, x, "log: x", "> 0")
        self.x = x
        return np.log(x)

    def backward(self, g):
        return (g / self.x,)


class Sqrt(Function):
    """z = √x;   dx = g / (2z)   (x ≥ 0; at x = 0 the gradient is +inf, as it is in torch)"""

    def forward(self, x):
        check_domain(x >= 0, x, "sqrt: x", "≥ 0")
        self.z = np.sqrt(x)
        return self.z

    def backward(self, g):
        with np.errstate(divide="ignore"):
            return (g / (2 * self.z),)


class Square(Function):
    """z = x²;   dx = 2x ⊙ g"""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (2 * self.x * g,)


class Tanh(Function):
    """z = tanh x;   dx = g ⊙ (1 − z²)"""

    def forward(self, x):
        self.z = np.tanh(x)
        return self.z

    def backward(self, g):
        return (g * (1 - self.z * self.z),)


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


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = -1, keepdims: bool = False) -> Tensor:
    """log Σ exp(x) over ``axis`` (None: all axes), without overflow (finite for entries of ±1000).

    The axes must not be empty (the log of an empty sum is −∞).
    """
    x = _input(x, "logsumexp")
    axes = check_axes(axis, x.ndim, "logsumexp: axis")
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"logsumexp: cannot reduce over an empty axis; x has shape {x.shape} and axis is {axis}")
    return LogSumExp.apply(x, axis=axes, keepdims=boolean(keepdims, "logsumexp: keepdims"))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x − logsumexp(x): log-probabilities of a softmax over ``axis`` (an int; not empty)."""
    x = _input(x, "log_softmax")
    axis = check_axis(axis, x.ndim, "log_softmax: axis")
    if x.shape[axis] == 0:
        raise ValueError(f"log_softmax: axis {axis} of x (shape {x.shape}) is empty")
    return LogSoftmax.apply(x, axis=axis)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum with broadcasting; at ties the gradient goes to ``x``."""
    return Maximum.apply(x, y)


def where(cond: Any, x: Any, y: Any) -> Tensor:
    """Choose ``x`` where the boolean array ``cond`` is true and ``y`` elsewhere; the three
    broadcast together."""
    if isinstance(cond, Tensor) or cond is None or isinstance(cond, (str, bytes)):
        raise TypeError(f"where: cond must be a boolean array (e.g. x.data > 0); got {describe(cond)}")
    cond = np.asarray(cond)
    if cond.dtype != bool:
        raise TypeError(f"where: cond must be a boolean array; got {describe(cond)}")
    x, y = _input(x, "where", "x"), _input(y, "where", "y")
    try:
        np.broadcast_shapes(cond.shape, x.shape, y.shape)
    except ValueError:
        raise ValueError(f"where: cond, x and y must broadcast together; got shapes {cond.shape}, "
                         f"{x.shape} and {y.shape}") from None
    return Where.apply(x, y, cond=cond)


# ---------------------------------------------------------------------------------------
# abs, clip
# ---------------------------------------------------------------------------------------
class Abs(Function):
    """z = |x|;   dx = g ⊙ sign(x)   (0 at x = 0, a subgradient)"""

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return (g * np.sign(self.x),)


class Clip(Function):
    """z = min(max(x, low), high);   dx = g ⊙ [low ≤ x ≤ high]

    The bounds are constants (numbers or arrays that broadcast with x); no gradient flows
    to them.
    """

    def forward(self, x, low=None, high=None):
        self.inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return np.clip(x, low, high)

    def backward(self, g):
        return (g * self.inside,)


def abs(x: Any) -> Tensor:  # noqa: A001
    """Elementwise |x|; the gradient at 0 is taken as 0."""
    return Abs.apply(x)


def clip(x: Any, low: Any = None, high: Any = None) -> Tensor:
    """Limit x to [low, high] elementwise (either bound may be None, not both), as ``np.clip``."""
    x = _input(x, "clip")
    if low is None and high is None:
        raise ValueError("clip: give low, high or both; got neither")
    low, high = (None if b is None else _bound(b, x, f"clip: {n}") for b, n in ((low, "low"), (high, "high")))
    if low is not None and high is not None:
        check_domain(low <= high, low, "clip: low", "≤ high")
    return Clip.apply(x, low=low, high=high)


def _bound(b: Any, x: Any, name: str) -> np.ndarray:
    """A bound of clip: a float array in x's dtype, not NaN, broadcasting with x."""
    if is_tensor(b):
        raise TypeError(f"{name} must be a number or an array (a constant); got a Tensor (use b.data)")
    arr = as_array(b, name, x.dtype)
    check_domain(~np.isnan(arr), arr, name, "a number, not NaN")
    try:
        np.broadcast_shapes(arr.shape, x.shape)
    except ValueError:
        raise ValueError(f"{name} of shape {arr.shape} does not broadcast with x of shape {x.shape}") from None
    return arr


# ---------------------------------------------------------------------------------------
# Diagonals and triangles
# ---------------------------------------------------------------------------------------
class Diagonal(Function):
    """d = diagonal(x, offset; axis1, axis2), dᵢ = x[…, i, i + offset];   dx = g on that diagonal, 0 elsewhere

    As ``np.diagonal``: the diagonal becomes the last axis of d.
    """

    def forward(self, x, offset=0, axis1=-2, axis2=-1):
        self.shape, self.where = x.shape, (offset, axis1, axis2)
        return np.diagonal(x, offset, axis1, axis2)

    def backward(self, g):
        return (_on_diagonal(g, self.shape, *self.where),)


class DiagEmbed(Function):
    """X = diag_embed(d, offset), X[…, i, i + offset] = dᵢ, 0 elsewhere;   dd = diagonal(g, offset)

    The inverse of :class:`Diagonal` on the last two axes: d (..., n) gives X
    (..., n + |offset|, n + |offset|).
    """

    def forward(self, d, offset=0):
        self.offset = offset
        n = d.shape[-1] + builtins.abs(offset)
        return _on_diagonal(d, d.shape[:-1] + (n, n), offset, -2, -1)

    def backward(self, g):
        return (np.diagonal(g, self.offset, -2, -1),)


def _on_diagonal(d: np.ndarray, shape: tuple[int, ...], offset: int, axis1: int, axis2: int) -> np.ndarray:
    """Zeros of ``shape`` with ``d`` (the diagonal as last axis) written on the diagonal
    ``offset`` of the axes ``axis1``, ``axis2``: the one helper behind diagonal's backward,
    diag_embed and trace's backward."""
    out = np.zeros(shape, dtype=d.dtype)
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))      # a view: writing to it writes out
    i = np.arange(d.shape[-1])
    view[..., i + max(-offset, 0), i + max(offset, 0)] = d
    return out


class Trace(Function):
    """z = Σᵢ x[…, i, i + offset] over axes axis1, axis2;   dx = g on that diagonal, 0 elsewhere"""

    def forward(self, x, offset=0, axis1=-2, axis2=-1):
        self.shape, self.where = x.shape, (offset, axis1, axis2)
        return np.trace(x, offset, axis1, axis2)

    def backward(self, g):
        offset, axis1, axis2 = self.where
        n = min(self.shape[axis1] - max(-offset, 0), self.shape[axis2] - max(offset, 0))
        return (_on_diagonal(np.broadcast_to(g[..., None], g.shape + (n,)), self.shape, *self.where),)


class Triangle(Function):
    """Z = tril(X, k) or triu(X, k) on the last two axes: X ⊙ M for the 0/1 mask M of the
    triangle;   dX = G ⊙ M"""

    def forward(self, x, k=0, lower=True):
        rows, cols = x.shape[-2:]
        self.mask = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
        return x * self.mask

    def backward(self, g):
        return (g * self.mask,)


def _diagonal_axes(x: Any, offset: Any, axis1: Any, axis2: Any, op: str) -> tuple[int, int, int]:
    """offset, axis1, axis2 of a diagonal of x, checked: two distinct axes, a non-empty diagonal."""
    if x.ndim < 2:
        raise ValueError(f"{op}: x must have at least 2 axes; got shape {x.shape}")
    a1, a2 = check_axis(axis1, x.ndim, f"{op}: axis1"), check_axis(axis2, x.ndim, f"{op}: axis2")
    if a1 == a2:
        raise ValueError(f"{op}: axis1 and axis2 must be different axes; got {axis1} and {axis2} for x of shape {x.shape}")
    offset = integer(offset, f"{op}: offset")
    if not -x.shape[a1] < offset < x.shape[a2]:
        raise ValueError(f"{op}: offset must be in ({-x.shape[a1]}, {x.shape[a2]}) for axes of lengths "
                         f"{x.shape[a1]} and {x.shape[a2]}, or the diagonal is empty; got {offset}")
    return offset, a1, a2


def diagonal(x: Any, offset: int = 0, axis1: int = -2, axis2: int = -1) -> Tensor:
    """The diagonal ``offset`` (0: main, > 0: above) of the axes ``axis1``, ``axis2``, as a
    new last axis: for L (B, m, m), ``diagonal(L)`` is (B, m). NumPy's defaults are axes 0, 1;
    these are the last two, the batched convention."""
    x = _input(x, "diagonal")
    offset, a1, a2 = _diagonal_axes(x, offset, axis1, axis2, "diagonal")
    return Diagonal.apply(x, offset=offset, axis1=a1, axis2=a2)


def diag_embed(d: Any, offset: int = 0) -> Tensor:
    """A batch of matrices with ``d`` on their diagonal ``offset``: d (..., n) gives
    (..., n + |offset|, n + |offset|); the inverse of :func:`diagonal`."""
    d = _input(d, "diag_embed", "d")
    if d.ndim < 1:
        raise ValueError(f"diag_embed: d must have at least 1 axis (the diagonal); got shape {d.shape}")
    return DiagEmbed.apply(d, offset=integer(offset, "diag_embed: offset"))


def trace(x: Any, offset: int = 0, axis1: int = -2, axis2: int = -1) -> Tensor:
    """Σᵢ x[…, i, i + offset] over the axes ``axis1``, ``axis2`` (the last two by default):
    for L (B, m, m), ``trace(L)`` is (B,)."""
    x = _input(x, "trace")
    offset, a1, a2 = _diagonal_axes(x, offset, axis1, axis2, "trace")
    return Trace.apply(x, offset=offset, axis1=a1, axis2=a2)


def _triangle(x: Any, k: Any, op: str, lower: bool) -> Tensor:
    x = _input(x, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: x must have at least 2 axes (a batch of matrices); got shape {x.shape}")
    return Triangle.apply(x, k=integer(k, f"{op}: k"), lower=lower)


def tril(x: Any, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes: entries (i, j) with j ≤ i + k, zeros above."""
    return _triangle(x, k, "tril", lower=True)


def triu(x: Any, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes: entries (i, j) with j ≥ i + k, zeros below."""
    return _triangle(x, k, "triu", lower=False)


# ---------------------------------------------------------------------------------------
# broadcast_to, repeat
# ---------------------------------------------------------------------------------------
class BroadcastTo(Function):
    """z = x broadcast to ``shape`` (a read-only view);   dx = g, summed back to x's shape by the engine"""

    def forward(self, x, shape=()):
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return (g,)


class Repeat(Function):
    """z = repeat(x, r, axis): element i of the axis repeated rᵢ times;   dxᵢ = Σ of g over xᵢ's copies

    With ``axis=None`` x is flattened first, as in ``np.repeat``.
    """

    def forward(self, x, repeats=1, axis=None):
        self.shape, self.axis = x.shape, axis
        if axis is None:
            x, axis = x.reshape(-1), 0
        self.owner = np.repeat(np.arange(x.shape[axis]), repeats)   # copy j of the output came from owner[j]
        return np.repeat(x, repeats, axis)

    def backward(self, g):
        axis = 0 if self.axis is None else self.axis
        g = np.moveaxis(g, axis, 0)
        dx = np.zeros((np.prod(self.shape, dtype=int) if self.axis is None else self.shape[axis],) + g.shape[1:], g.dtype)
        np.add.at(dx, self.owner, g)
        return (dx.reshape(self.shape) if self.axis is None else np.moveaxis(dx, 0, axis),)


def broadcast_to(x: Any, shape: int | Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` by NumPy's rules, e.g. mu (B, m) to (k, B, m)."""
    x = _input(x, "broadcast_to")
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    shape = tuple(integer(n, "broadcast_to: each entry of shape", minimum=0) for n in items)
    if len(shape) < x.ndim or any(a not in (1, b) for a, b in zip(x.shape[::-1], shape[::-1])):
        raise ValueError(f"broadcast_to: x of shape {x.shape} cannot be broadcast to shape {shape}: "
                         f"each axis of x must be 1 or equal the matching (trailing) entry of shape")
    return BroadcastTo.apply(x, shape=shape)


expand = broadcast_to  # the same op under PyTorch's name


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (flattened when None), as ``np.repeat``.

    ``repeats`` is an int ≥ 0 or one int ≥ 0 per element of the axis.
    """
    x = _input(x, "repeat")
    axis = None if axis is None else check_axis(axis, x.ndim, "repeat: axis")
    n = x.size if axis is None else x.shape[axis]
    if isinstance(repeats, (list, tuple, np.ndarray)):
        r = np.asarray(repeats)
        if r.dtype.kind not in "iu" and r.size:
            raise TypeError(f"repeat: repeats must be an int or a sequence of ints; got {describe(r)}")
        if r.ndim != 1 or len(r) != n:
            raise ValueError(f"repeat: repeats must hold one count per element of the axis ({n}); got shape {r.shape}")
        check_domain(r >= 0, r, "repeat: repeats", "≥ 0")
        repeats = r.astype(np.intp)
    else:
        repeats = integer(repeats, "repeat: repeats", minimum=0)
    return Repeat.apply(x, repeats=repeats, axis=axis)


# ---------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------
class Einsum(Function):
    """z = einsum(s₁,…,sₙ → s; x₁,…,xₙ);   dxₖ = einsum(s, sⱼ (j ≠ k) → sₖ; g, xⱼ)

    The gradient of an operand is the same contraction with g in its place and its
    subscripts as the output. Two cases need more than that one einsum: a letter found in
    xₖ alone (summed over in xₖ only, as j in "ij->i") is broadcast back, since dz/dxₖ does
    not depend on it; and a letter repeated in xₖ (a diagonal, as in "ii->i" or "bii->bi")
    puts the gradient on that diagonal of a zero array. Size-1 axes that broadcast are
    summed back.
    """

    def forward(self, *xs, inputs=(), output=""):
        self.xs, self.inputs, self.output = xs, inputs, output
        return np.einsum(",".join(inputs) + "->" + output, *xs)

    def backward(self, g):
        return tuple(self._grad(g, k) if need else None for k, need in enumerate(self.needs_grad))

    def _grad(self, g, k):
        sub, x = self.inputs[k], self.xs[k]
        letters = "".join(dict.fromkeys(sub))                     # each letter of sₖ once
        others = [j for j in range(len(self.xs)) if j != k]
        seen = set(self.output).union(*(self.inputs[j] for j in others))
        kept = "".join(c for c in letters if c in seen)
        spec = ",".join([self.output] + [self.inputs[j] for j in others]) + "->" + kept
        gk = np.einsum(spec, g, *(self.xs[j] for j in others))
        size = dict(zip(sub, x.shape))                            # xₖ's own length of each letter
        gk = gk.reshape([gk.shape[kept.index(c)] if c in seen else 1 for c in letters])
        stretched = tuple(i for i, c in enumerate(letters) if size[c] == 1 and gk.shape[i] != 1)
        gk = np.broadcast_to(gk.sum(axis=stretched, keepdims=True), [size[c] for c in letters])
        if letters == sub:
            return gk
        dx = np.zeros(x.shape, dtype=g.dtype)
        np.einsum(f"{sub}->{letters}", dx)[...] = gk             # a writeable view of the diagonal
        return dx


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``np.einsum``: ``einsum("bij,bj->bi", L, eps)``,
    ``einsum("bii->bi", L)``, ``einsum("...ij,...j", A, v)``.

    Subscripts are letters, one per axis, with at most one ``...`` per operand for leading
    (broadcast) axes; without ``->`` the output is the ellipsis axes and then the letters
    that occur once, in alphabetical order, as in NumPy.
    """
    xs = [_input(x, "einsum", f"operands[{i}]") for i, x in enumerate(operands)]
    inputs, output = _einsum_spec(subscripts, [x.shape for x in xs])
    return Einsum.apply(*xs, inputs=tuple(inputs), output=output)


def _einsum_spec(subscripts: Any, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """The subscripts of each operand and of the output with every ``...`` replaced by
    letters of its own, checked against the operands' shapes."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a str such as 'ij,jk->ik'; got {describe(subscripts)}")
    text = subscripts.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    bad = set(text.replace("->", "").replace("...", "").replace(",", "")) - set(_LETTERS)
    if bad or "->" in rhs or "," in rhs or any(t.count("...") > 1 for t in terms + [rhs]):
        raise ValueError(f"einsum: subscripts must be letters, ',', one '...' per operand and at most one "
                         f"'->'; got {subscripts!r}")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operand(s); got {len(shapes)}")
    ranks = [len(s) - (len(t) - 3) if "..." in t else 0 for t, s in zip(terms, shapes)]
    for i, (t, s, r) in enumerate(zip(terms, shapes, ranks)):
        if r < 0 or ("..." not in t and len(t) != len(s)):
            raise ValueError(f"einsum: operand {i} has {len(s)} axes (shape {s}) but its subscripts {t!r} name "
                             f"{len(t.replace('...', ''))}")
    free = [c for c in _LETTERS if c not in text]
    ell = "".join(free[:max(ranks, default=0)])
    inputs = [t.replace("...", ell[len(ell) - r:]) for t, r in zip(terms, ranks)]
    sizes: dict[str, int] = {}
    for i, (t, s) in enumerate(zip(inputs, shapes)):
        for c, n in zip(t, s):
            if t.count(c) > 1 and n != s[t.index(c)]:
                raise ValueError(f"einsum: letter {c!r} is repeated in operand {i}'s subscripts, so its axes "
                                 f"must have equal lengths; got shape {s}")
            if sizes.get(c, n) not in (1, n) and n != 1:
                raise ValueError(f"einsum: letter {c!r} has length {sizes[c]} in one operand and {n} in "
                                 f"operand {i} (shape {s}); lengths must agree or be 1")
            sizes[c] = max(sizes.get(c, n), n)
    if not arrow:
        counts = "".join(inputs)
        output = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    elif ell and "..." not in rhs:
        raise ValueError(f"einsum: the output of {subscripts!r} needs '...' since the operands have '...' axes")
    else:
        output = rhs.replace("...", ell)
    if len(set(output)) != len(output) or set(output) - set("".join(inputs)):
        raise ValueError(f"einsum: each output letter must occur once in the output and in some operand; got {subscripts!r}")
    return inputs, output


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"




# ---------------------------------------------------------------------------------------
# NumPy's functions on Tensors: the tables Tensor.__array_ufunc__ and __array_function__ use
# ---------------------------------------------------------------------------------------
def _refuse(function: str, **options: Any) -> None:
    """A TypeError naming the first of NumPy's ``options`` that was given but that vae_np
    does not implement (``out=``, ``dtype=`` …)."""
    for name, value in options.items():
        if value is not None:
            raise TypeError(f"{function}: the option {name}= is not supported on Tensors (got {describe(value)}); "
                            f"call it without {name}=, or on t.data to leave the graph")


def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, **more):
    _refuse("np.sum", dtype=dtype, out=out, **more)
    return sum(a, axis, keepdims)


def _np_mean(a, axis=None, dtype=None, out=None, keepdims=False, **more):
    _refuse("np.mean", dtype=dtype, out=out, **more)
    return mean(a, axis, keepdims)


def _np_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _refuse("np.reshape", order=None if order == "C" else order, copy=copy)
    if (shape is None) == (newshape is None):
        raise TypeError("np.reshape: give the new shape once (shape=)")
    return reshape(a, newshape if shape is None else shape)


def _np_transpose(a, axes=None):
    return transpose(a, axes)


def _np_swapaxes(a, axis1, axis2):
    return swapaxes(a, axis1, axis2)


def _np_concatenate(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _refuse("np.concatenate", out=out, dtype=dtype, casting=casting)
    if axis is None:
        return concatenate([reshape(x, -1) for x in _inputs(arrays, "np.concatenate")], 0)
    return concatenate(arrays, axis)


def _np_stack(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _refuse("np.stack", out=out, dtype=dtype, casting=casting)
    return stack(arrays, axis)


def _np_where(condition, x=None, y=None):
    if x is None or y is None:
        raise TypeError("np.where: on Tensors give all three of condition, x and y "
                        "(np.where(condition) alone gives indices: call it on t.data)")
    return where(condition, x, y)


def _np_clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **more):  # noqa: A002
    _refuse("np.clip", out=out, **more)
    low, high = (a_min if min is None else min), (a_max if max is None else max)
    return clip(a, low, high)


def _np_ravel(a, order="C"):
    _refuse("np.ravel", order=None if order == "C" else order)
    return reshape(a, -1)


def _np_squeeze(a, axis=None):
    shape = _input(a, "np.squeeze", "a").shape
    axes = check_axes(axis, len(shape), "np.squeeze: axis")
    if axis is not None and any(shape[i] != 1 for i in axes):
        raise ValueError(f"np.squeeze: axis {axis} of a (shape {shape}) must have length 1")
    return reshape(a, tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1)))


def _np_expand_dims(a, axis):
    shape = list(_input(a, "np.expand_dims", "a").shape)
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    for i in check_axes(items, len(shape) + len(items), "np.expand_dims: axis"):
        shape.insert(i, 1)
    return reshape(a, tuple(shape))


def _np_moveaxis(a, source, destination):
    ndim = _input(a, "np.moveaxis", "a").ndim
    src, dst = ((v,) if not isinstance(v, (tuple, list)) else tuple(v) for v in (source, destination))
    if len(src) != len(dst):
        raise ValueError(f"np.moveaxis: source and destination must have the same number of axes; got {source} and {destination}")
    src = [check_axis(i, ndim, "np.moveaxis: source") for i in src]
    dst = [check_axis(i, ndim, "np.moveaxis: destination") for i in dst]
    order = [i for i in range(ndim) if i not in src]
    for d, s_ in sorted(zip(dst, src)):
        order.insert(d, s_)
    return transpose(a, order)


def _np_diagonal(a, offset=0, axis1=0, axis2=1):
    return diagonal(a, offset, axis1, axis2)


def _np_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _refuse("np.trace", dtype=dtype, out=out)
    return trace(a, offset, axis1, axis2)


def _np_tril(m, k=0):
    return tril(m, k)


def _np_triu(m, k=0):
    return triu(m, k)


def _np_broadcast_to(array, shape, subok=False):
    return broadcast_to(array, shape)


def _np_repeat(a, repeats, axis=None):
    return repeat(a, repeats, axis)


def _np_einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe", optimize=False):
    _refuse("np.einsum", out=out, dtype=dtype)  # order, casting and optimize do not change the values
    return einsum(subscripts, *operands)


def _np_cholesky(a, /, *, upper=False):
    return linalg.cholesky(a, upper)


# np.exp(t), ndarray + t, np.abs(t), np.maximum(t, 0) … : Tensor.__array_ufunc__ calls these
# (NumPy's ufuncs never reach __array_function__, so they are not in ARRAY_FUNCTIONS).
UFUNCS = {
    np.add: add, np.subtract: sub, np.multiply: mul, np.true_divide: div, np.negative: neg,
    np.power: power, np.matmul: matmul, np.exp: exp, np.log: log, np.sqrt: sqrt,
    np.square: square, np.tanh: tanh, np.maximum: maximum, np.absolute: abs,
}

# np.sum(t), np.einsum("bii->bi", L), np.linalg.cholesky(A) … : Tensor.__array_function__
# calls these, with NumPy's signatures (and NumPy's defaults, e.g. np.diagonal's axes 0, 1).
# An option vae_np does not implement (out=, dtype=) is a TypeError naming it.
from . import linalg  # noqa: E402  (linalg imports the tensor module, not this one)

ARRAY_FUNCTIONS = {
    np.sum: _np_sum, np.mean: _np_mean, np.reshape: _np_reshape, np.transpose: _np_transpose,
    np.swapaxes: _np_swapaxes, np.concatenate: _np_concatenate, np.stack: _np_stack,
    np.ravel: _np_ravel, np.squeeze: _np_squeeze, np.expand_dims: _np_expand_dims,
    np.moveaxis: _np_moveaxis, np.where: _np_where, np.clip: _np_clip, np.diagonal: _np_diagonal,
    np.trace: _np_trace, np.tril: _np_tril, np.triu: _np_triu, np.broadcast_to: _np_broadcast_to,
    np.repeat: _np_repeat, np.einsum: _np_einsum, np.linalg.cholesky: _np_cholesky,
}
