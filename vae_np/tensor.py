"""The tensor and the graph: reverse-mode automatic differentiation in one screen or three.

A :class:`Tensor` wraps a NumPy array (``.data``) and, when it was computed from other
tensors that require gradients, remembers the :class:`Function` that produced it. Calling
``loss.backward()`` walks that graph once in reverse topological order and hands every
function the gradient of the loss with respect to its output; the function's
``backward`` returns the gradients with respect to its inputs. This module is the only
place where gradients are *accumulated* (summed when a value is used more than once) and
the only place where broadcasting is *undone* (:func:`unbroadcast`).

Conventions used throughout ``vae_np``:

* ``g`` is the upstream gradient, ∂loss/∂output, with the output's shape;
* a ``backward`` returns one gradient per input (or ``None`` for an input that needs
  none), each with the shape of the *broadcast* result, never reduced by hand;
* data are float64 unless float32 is given; no operation silently upcasts float32.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .validate import as_array, non_finite

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "unbroadcast", "as_array", "non_finite"]

_GRAD_ENABLED = True


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context manager (and decorator) under which no graph is recorded.

    Inside ``with vae_np.no_grad():`` every result has ``requires_grad=False``; use it for
    evaluation, sampling and optimizer updates.
    """
    global _GRAD_ENABLED
    previous, _GRAD_ENABLED = _GRAD_ENABLED, False
    try:
        yield
    finally:
        _GRAD_ENABLED = previous


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph (False inside :func:`no_grad`)."""
    return _GRAD_ENABLED


class Tensor:
    """An n-dimensional array that records how it was computed, for reverse-mode autodiff.

    Parameters
    ----------
    data : array-like
        The values. float32 and float64 arrays are kept without a copy; Python numbers,
        lists and integer arrays become float64 (or ``dtype``).
    requires_grad : bool
        Whether gradients with respect to this tensor are wanted. Only leaves (tensors
        made by the user, such as parameters) keep a ``.grad`` after :meth:`backward`.
    dtype : float32 or float64, optional
        Convert the data to this dtype.
    name : str, optional
        A label shown in ``repr`` and error messages.

    Examples
    --------
    >>> import vae_np as vn
    >>> x = vn.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()          # y = Σ xᵢ²
    >>> y.backward()
    >>> x.grad                      # ∂y/∂x = 2x
    array([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "name", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        if requires_grad and isinstance(data, np.ndarray):
            if data.dtype.kind in "biu":
                raise TypeError(
                    f"requires_grad=True needs floating-point data, got an array of dtype "
                    f"{data.dtype}; convert it first, e.g. x.astype(np.float64)"
                )
        self.data: np.ndarray = as_array(data, name or "data", dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self._ctx: Function | None = None
        self.name = name

    @classmethod
    def _result(cls, data: np.ndarray, ctx: "Function | None") -> "Tensor":
        """Wrap the output of a Function without re-validating it (the fast path)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.name, t._ctx = data, None, None, ctx
        t.requires_grad = ctx is not None
        return t

    # ---- array-like behaviour -------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="Shape of the data.")
    ndim = property(lambda self: self.data.ndim, doc="Number of axes.")
    size = property(lambda self: self.data.size, doc="Number of elements.")
    dtype = property(lambda self: self.data.dtype, doc="float32 or float64.")
    is_leaf = property(lambda self: self._ctx is None, doc="True unless made by a Function.")

    def __len__(self) -> int:
        return len(self.data)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` gives the data (never the gradient)."""
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (the same object, not a copy)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        return self.data.item()

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, threshold=20, prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        extra += f", dtype={self.data.dtype}" if self.data.dtype != np.float64 else ""
        extra += f", name={self.name!r}" if self.name else ""
        return f"Tensor({body}{extra})"

    # ---- the backward pass ----------------------------------------------------------
    def backward(self, grad: Any = None) -> None:
        """Accumulate ∂self/∂leaf into ``leaf.grad`` for every leaf that requires it.

        Parameters
        ----------
        grad : array-like, optional
            The upstream gradient ∂loss/∂self, with ``self``'s shape. It may be omitted
            only when ``self`` holds a single element (a scalar loss); then it is 1.

        Notes
        -----
        Gradients add up: call ``zero_grad()`` on an optimizer (or set ``.grad = None``)
        between steps. The graph is kept, so ``backward`` may be called again.
        """
        if not self.requires_grad:
            raise ValueError(
                "backward() called on a tensor that does not require gradients: none of the "
                "tensors it was computed from had requires_grad=True (or it was made under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without an upstream gradient needs a single-element tensor; "
                    f"this one has shape {self.shape}. Reduce it first (e.g. .sum() or .mean()) "
                    f"or pass grad= with shape {self.shape}"
                )
            grad = np.ones_like(self.data)
        else:
            grad = as_array(grad, "grad", self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"grad must have the tensor's shape {self.shape}; got shape {grad.shape}")

        grads: dict[int, np.ndarray] = {id(self): grad}
        for t in reversed(_topological_order(self)):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            fn = t._ctx
            if fn is None:  # a leaf: keep its gradient (a copy, so no array is shared)
                if t.grad is None:
                    t.grad = np.array(g, dtype=t.data.dtype, copy=True)
                else:
                    t.grad += g
                continue
            input_grads = fn.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(fn.parents):
                raise ValueError(
                    f"{type(fn).__name__}.backward returned {len(input_grads)} gradients for "
                    f"{len(fn.parents)} inputs"
                )
            for parent, gp in zip(fn.parents, input_grads):
                if gp is None or not parent.requires_grad:
                    continue
                if gp.shape != parent.data.shape:
                    gp = _reduced(gp, parent.data.shape, fn)
                if gp.dtype != parent.data.dtype:
                    gp = gp.astype(parent.data.dtype)
                key = id(parent)
                grads[key] = grads[key] + gp if key in grads else gp

    # ---- operators: thin wrappers over vae_np.ops ------------------------------------
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __neg__(self): return _ops.neg(self)
    def __pow__(self, other): return _ops.power(self, other)
    def __rpow__(self, other): return _ops.power(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __getitem__(self, index): return _ops.getitem(self, index)
    # Comparisons give plain boolean arrays (no gradient flows through a comparison).
    def __lt__(self, other): return self.data < as_array(other, "other")
    def __le__(self, other): return self.data <= as_array(other, "other")
    def __gt__(self, other): return self.data > as_array(other, "other")
    def __ge__(self, other): return self.data >= as_array(other, "other")

    def sum(self, axis=None, keepdims=False): return _ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _ops.mean(self, axis, keepdims)
    def reshape(self, *shape): return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return _ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None))
    def swapaxes(self, axis1, axis2): return _ops.swapaxes(self, axis1, axis2)
    T = property(lambda self: _ops.transpose(self), doc="The transpose (all axes reversed).")
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def sqrt(self): return _ops.sqrt(self)
    def square(self): return _ops.square(self)
    def tanh(self): return _ops.tanh(self)
    def relu(self): return _ops.relu(self)
    def sigmoid(self): return _ops.sigmoid(self)

    # NumPy calls such as np.exp(t) or ndarray + t come here and stay in the graph.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = _ops.UFUNCS.get(ufunc)
        if method != "__call__" or op is None or kwargs:
            return NotImplemented
        return op(*inputs)


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that ``root`` depends on (and that require grad), inputs before outputs.

    An iterative depth-first search, so that deep graphs do not hit Python's recursion limit.
    """
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t._ctx is not None:
            stack.extend((p, False) for p in t._ctx.parents if p.requires_grad and id(p) not in seen)
    return order


def unbroadcast(g: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``g.shape`` in the forward pass, every
    copy of an element of ``x`` received part of the gradient; the element's gradient is
    their sum. Leading axes that broadcasting added are summed away; axes where ``x`` had
    length 1 are summed with ``keepdims``.
    """
    shape = tuple(shape)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def _reduced(g: np.ndarray, shape: tuple[int, ...], fn: "Function") -> np.ndarray:
    """:func:`unbroadcast`, or a clear error when a backward returned an impossible shape."""
    try:
        if np.broadcast_shapes(g.shape, shape) == g.shape:
            return unbroadcast(g, shape)
    except ValueError:
        pass
    raise ValueError(
        f"{type(fn).__name__}.backward returned a gradient of shape {g.shape} for an input of "
        f"shape {shape}; it must have the input's shape or the broadcast output's shape"
    )


class Function:
    """One differentiable operation: ``forward`` on arrays, its ``backward`` right below.

    Subclass it and write two methods; the instance is the saved context, so keep on
    ``self`` whatever the backward needs.

    * ``forward(self, *arrays, **options) -> ndarray`` receives the inputs' data as NumPy
      arrays (positional) and non-differentiable options (keywords).
    * ``backward(self, g) -> tuple`` receives ``g = ∂loss/∂output`` and returns one gradient
      per positional input, or ``None`` where none is needed. ``self.needs_grad[i]`` tells
      whether input ``i`` wants one, so costly gradients can be skipped. Return gradients
      with the broadcast shape; the engine reduces them (:func:`unbroadcast`) and adds
      them up.

    Call it with ``MyOp.apply(*inputs, **options)``; inputs may be Tensors, arrays or
    numbers (numbers take the dtype of the tensor inputs, so float32 stays float32).

    Examples
    --------
    A user-defined op, ``y = x³``, and its check by finite differences:

    >>> import numpy as np, vae_np as vn
    >>> class Cube(vn.Function):
    ...     '''y = x³;  dx = 3x² g'''
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x ** 3
    ...     def backward(self, g):
    ...         return (3 * self.x ** 2 * g,)
    >>> x = vn.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    array([ 0.75,  3.  , 12.  ])
    >>> vn.gradcheck(Cube.apply, np.array([0.5, -1.0, 2.0])).ok
    True
    """

    parents: tuple[Tensor, ...] = ()
    needs_grad: tuple[bool, ...] = ()

    def forward(self, *arrays: np.ndarray, **options: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run ``forward`` on the inputs' data and, if any input requires grad, record it."""
        dtype = None
        for x in inputs:
            if isinstance(x, Tensor):
                dtype = x.data.dtype if dtype is None else np.promote_types(dtype, x.data.dtype)
        tensors = tuple(
            x if isinstance(x, Tensor) else Tensor._result(_constant(x, dtype, cls.__name__), None)
            for x in inputs
        )
        fn = cls()
        needs = tuple(t.requires_grad for t in tensors)
        try:
            out = fn.forward(*(t.data for t in tensors), **options)
        except ValueError as err:  # NumPy's broadcasting error, reworded once for every op
            if "could not be broadcast" not in str(err):
                raise
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{cls.__name__.lower()}: cannot broadcast inputs of shapes {shapes} together") from None
        if not isinstance(out, np.ndarray):
            out = np.asarray(out, dtype=dtype)
        if _GRAD_ENABLED and any(needs):
            fn.parents, fn.needs_grad = tensors, needs
            return Tensor._result(out, fn)
        return Tensor._result(out, None)


def _constant(x: Any, dtype: Any, op: str) -> np.ndarray:
    """A non-Tensor input of an op takes the dtype of the op's tensors (float32 stays float32)."""
    if isinstance(x, np.ndarray) and x.dtype == dtype:
        return x
    return as_array(x, f"input of {op}", dtype)


# The operators above call into ops, which itself imports this module.
from . import ops as _ops  # noqa: E402
