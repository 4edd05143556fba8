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

The graph is never dropped without a word. NumPy's functions on a Tensor (``np.exp(t)``,
``np.sum(t)``, ``ndarray + t``) run the vae_np op that stays in the graph
(``ops.UFUNCS``, ``ops.ARRAY_FUNCTIONS``); the ones whose result carries no gradient
(shapes, indices, booleans: :data:`NO_GRADIENT`) run on the data; any other, and
``np.asarray(t)``, raise a TypeError when the Tensor requires grad, as in PyTorch. Use
``t.data`` or ``t.detach()`` to leave the graph on purpose.
"""
from __future__ import annotations

import contextlib
import inspect
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .validate import as_array, check_finite, describe, integer, non_finite

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "unbroadcast", "NO_GRADIENT"]

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
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be a bool (True or False); got {describe(requires_grad)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None; got {describe(name)}")
        if requires_grad and dtype is None and isinstance(data, np.ndarray) and data.dtype.kind in "biu":
            raise TypeError(
                f"requires_grad=True needs floating-point data, got an array of dtype "
                f"{data.dtype}; convert it first, e.g. x.astype(np.float64), or pass dtype="
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

    def __iter__(self) -> Iterator["Tensor"]:
        """The rows ``t[0], t[1], …`` as Tensors in the graph (so ``np.hstack(t)`` and
        ``for row in t`` see Tensors, and ``getitem``'s range check is never reached)."""
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)`` gives the data (never the gradient) of a tensor that does not
        require grad. One that does raises TypeError, as in PyTorch: the array would leave
        the graph without a word. Use ``t.data`` or ``t.detach()`` to leave it on purpose."""
        if self.requires_grad:
            raise _graph_error("np.asarray(t) (or np.array(t))", None)
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (the same object, not a copy)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape {self.shape} "
                             f"({self.data.size} elements)")
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
            The upstream gradient ∂loss/∂self: finite, with ``self``'s shape. It may be
            omitted only when ``self`` holds a single element (a scalar loss); then it is 1.

        Notes
        -----
        Gradients add up: call ``zero_grad()`` on an optimizer (or set ``.grad = None``)
        between steps. The graph is kept, so ``backward`` may be called again.
        """
        grads: dict[int, np.ndarray] = {id(self): self._seed(grad)}
        for t in reversed(_topological_order(self)):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if t._ctx is None:
                _keep_leaf_gradient(t, g)
            else:
                _send_back(t._ctx, g, grads)

    def _seed(self, grad: Any) -> np.ndarray:
        """The gradient that starts the backward pass: 1 for a scalar, else the checked ``grad``."""
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
            return np.ones_like(self.data)
        grad = as_array(grad, "grad", self.data.dtype)
        if grad.shape != self.shape:
            raise ValueError(f"grad must have the tensor's shape {self.shape}; got shape {grad.shape}")
        return check_finite(grad, "grad")

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
    def __lt__(self, other): return _compare(np.less, "<", self, other)
    def __le__(self, other): return _compare(np.less_equal, "<=", self, other)
    def __gt__(self, other): return _compare(np.greater, ">", self, other)
    def __ge__(self, other): return _compare(np.greater_equal, ">=", self, other)

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

    # ---- NumPy's functions on Tensors: in the graph, or a clear error -----------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(t)``, ``ndarray + t``: the ufuncs in ``ops.UFUNCS`` stay in the graph.

        Ufuncs that return booleans (comparisons, ``np.isfinite``) run on the data: no
        gradient flows through them. Anything else (another ufunc, a method such as
        ``np.add.reduce``, a keyword such as ``out=``) raises TypeError if a Tensor input
        requires grad, and runs on the data otherwise.
        """
        op = _ops.UFUNCS.get(ufunc) if method == "__call__" and not kwargs else None
        if op is not None:
            return op(*inputs)
        if _requires_grad(inputs, kwargs) and not (method == "__call__" and _returns_booleans(ufunc)):
            name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
            keywords = f" with {', '.join(f'{k}=' for k in kwargs)}" if kwargs else ""
            raise _graph_error(f"np.{name}{keywords}", _vae_np_alternative(name))
        return getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(t)``, ``np.concatenate([a, b])``: the functions in ``ops.ARRAY_FUNCTIONS``
        stay in the graph; those in :data:`NO_GRADIENT` (shapes, indices, booleans) run on the
        data; any other raises TypeError if a Tensor argument requires grad, and runs on the
        data otherwise."""
        if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
            return NotImplemented
        op = _ops.ARRAY_FUNCTIONS.get(func)
        if op is not None:
            return _call_op(func, op, args, kwargs)
        if func not in NO_GRADIENT and _requires_grad(args, kwargs):
            raise _graph_error(_numpy_name(func), _vae_np_alternative(func.__name__))
        return func(*_unwrap(args), **_unwrap(kwargs))


# NumPy functions whose result carries no gradient, so they run on a Tensor's data even when
# it requires grad: they read only shapes and dtypes, or give indices and booleans (piecewise
# constant in the values, so their derivative is zero wherever it exists).
NO_GRADIENT = frozenset({
    np.shape, np.ndim, np.size, np.result_type, np.min_scalar_type, np.can_cast,
    np.may_share_memory, np.shares_memory, np.iscomplexobj, np.isrealobj,
    np.zeros_like, np.ones_like, np.empty_like,
    np.argmax, np.argmin, np.argsort, np.argpartition, np.argwhere, np.nonzero, np.flatnonzero,
    np.count_nonzero, np.searchsorted, np.any, np.all, np.isclose, np.allclose, np.array_equal,
    np.array_equiv, np.isin, np.iscomplex, np.isreal, np.isneginf, np.isposinf,
})

# NumPy names whose vae_np counterpart has another name.
_ALTERNATIVES = {"dot": "matmul", "inner": "matmul", "add.reduce": "sum", "absolute": "abs",
                 "ravel": "reshape", "squeeze": "reshape", "expand_dims": "reshape",
                 "moveaxis": "transpose", "true_divide": "div", "divide": "div", "subtract": "sub",
                 "multiply": "mul", "negative": "neg"}


def _graph_error(what: str, alternative: str | None) -> TypeError:
    """The TypeError for a NumPy call that would silently drop a Tensor from the graph."""
    stay = f"use vae_np.{alternative}, which stays in the graph, or " if alternative else "use a vae_np op to stay in the graph, or "
    return TypeError(
        f"{what} would drop a Tensor that requires grad from the graph, so its gradient would be "
        f"silently lost; {stay}t.data (or t.detach()) to leave the graph on purpose"
    )


def _vae_np_alternative(numpy_name: str) -> str | None:
    """The name of the vae_np op that does what NumPy's ``numpy_name`` does, if there is one."""
    name = _ALTERNATIVES.get(numpy_name, numpy_name)
    return name if name in _ops.__all__ else None


def _numpy_name(func: Callable) -> str:
    """``np.sum``, ``np.linalg.cholesky``: how a user would write the NumPy function."""
    public = [part for part in getattr(func, "__module__", "numpy").split(".")[1:] if not part.startswith("_")]
    return ".".join(["np", *public, func.__name__])


def _call_op(func: Callable, op: Callable, args: tuple, kwargs: dict) -> Any:
    """Call the vae_np op that stands for NumPy's ``func``; arguments it does not take are a
    TypeError naming both."""
    try:
        return op(*args, **kwargs)
    except TypeError:
        try:
            inspect.signature(op).bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(
                f"{_numpy_name(func)} on a Tensor runs vae_np.{op.__name__}{_plain_signature(op)}, "
                f"which does not take these arguments ({err}); call vae_np.{op.__name__} directly, "
                f"or use t.data (or t.detach()) to leave the graph on purpose"
            ) from None
        raise


def _plain_signature(op: Callable) -> str:
    """``(x, axis=None, keepdims=False)``: an op's parameters without their annotations."""
    sig = inspect.signature(op)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _returns_booleans(ufunc: np.ufunc) -> bool:
    """True for ufuncs such as ``np.less`` and ``np.isnan`` whose every numeric loop gives booleans."""
    return all(t.split("->")[1] == "?" for t in ufunc.types if "O" not in t)


def _tensors(obj: Any) -> Iterator[Tensor]:
    """The Tensors in an argument of a NumPy call, looking inside lists, tuples and dicts."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


def _requires_grad(*objs: Any) -> bool:
    return any(t.requires_grad for obj in objs for t in _tensors(obj))


def _unwrap(obj: Any) -> Any:
    """``obj`` with every Tensor replaced by its data (inside lists, tuples and dicts too)."""
    if isinstance(obj, Tensor):
        return obj.data
    if isinstance(obj, list):
        return [_unwrap(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_unwrap(item) for item in obj)
    if isinstance(obj, dict):
        return {key: _unwrap(item) for key, item in obj.items()}
    return obj


def _compare(op: np.ufunc, symbol: str, t: Tensor, other: Any) -> np.ndarray:
    """``t <symbol> other`` as a plain boolean array, or a clear error for a bad operand."""
    other = as_array(other, f"the right operand of {symbol}")
    try:
        return op(t.data, other)
    except ValueError:
        raise ValueError(
            f"{symbol}: cannot compare a Tensor of shape {t.shape} with an operand of shape {other.shape}"
        ) from None


# ---- the engine's helpers ------------------------------------------------------------
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


def _keep_leaf_gradient(t: Tensor, g: np.ndarray) -> None:
    """Store ``g`` as a leaf's first gradient, or add it to the one it has.

    The first gradient is one copy, with no zero-fill and no add. A copy, because ``g`` may
    be shared: ``Add`` hands the same array to both inputs, ``Sum`` a read-only broadcast
    view, ``backward(grad=...)`` the caller's own array; a leaf's ``.grad`` must be its own.
    """
    if t.grad is None:
        t.grad = g.copy()
    else:
        t.grad += g


def _send_back(fn: "Function", g: np.ndarray, grads: dict[int, np.ndarray]) -> None:
    """Run ``fn.backward(g)`` and add each input's gradient, reduced to its shape, to ``grads``."""
    input_grads = fn.backward(g)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) != len(fn.parents):
        raise ValueError(
            f"{type(fn).__name__}.backward returned {len(input_grads)} gradients for "
            f"{len(fn.parents)} inputs"
        )
    for i, (parent, gp) in enumerate(zip(fn.parents, input_grads)):
        if not parent.requires_grad:
            continue
        if not isinstance(gp, np.ndarray):
            gp = _as_gradient(gp, fn, i)
        if gp.shape != parent.data.shape:
            gp = _reduced(gp, parent.data.shape, fn)
        if gp.dtype != parent.data.dtype:
            gp = gp.astype(parent.data.dtype)
        key = id(parent)
        grads[key] = grads[key] + gp if key in grads else gp


def _as_gradient(gp: Any, fn: "Function", i: int) -> np.ndarray:
    """A backward's gradient that is not an array: a NumPy or Python number becomes one;
    None (for an input that needs a gradient) or anything else is an error naming the op."""
    if gp is None:
        raise ValueError(
            f"{type(fn).__name__}.backward returned None for input {i}, which requires a gradient; "
            f"return None only where needs_grad[{i}] is False"
        )
    if isinstance(gp, (np.generic, float, int)) and not isinstance(gp, (bool, np.bool_)):
        return np.asarray(gp)
    raise TypeError(f"{type(fn).__name__}.backward returned {describe(gp)} for input {i}; expected a NumPy array")


def _stretches_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """True if broadcasting an array of ``shape`` can give ``target``."""
    return len(shape) <= len(target) and all(n == t or n == 1 for n, t in zip(shape[::-1], target[::-1]))


def _sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched (``shape`` must stretch to ``g.shape``)."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def unbroadcast(g: Any, shape: Sequence[int]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, giving ``shape``.

    If ``x`` of shape ``shape`` was broadcast to ``g.shape`` in the forward pass, every
    copy of an element of ``x`` received part of the gradient; the element's gradient is
    their sum. Leading axes that broadcasting added are summed away; axes where ``x`` had
    length 1 are summed with ``keepdims``.

    Parameters
    ----------
    g : array-like, with the shape of the broadcast result
        A gradient with the shape of a broadcast result.
    shape : sequence of int
        The shape of the array that was broadcast.

    Returns
    -------
    ndarray of shape ``shape``

    Raises
    ------
    ValueError
        If broadcasting an array of ``shape`` cannot give ``g.shape``.
    """
    g = as_array(g, "g")
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, np.ndarray)):
        raise TypeError(f"shape must be a sequence of ints; got {describe(shape)}")
    shape = tuple(integer(n, "each entry of shape", minimum=0) for n in shape)
    if not _stretches_to(shape, g.shape):
        raise ValueError(f"unbroadcast: an array of shape {shape} cannot broadcast to g's shape {g.shape}")
    return _sum_to(g, shape)


def _reduced(g: np.ndarray, shape: tuple[int, ...], fn: "Function") -> np.ndarray:
    """:func:`unbroadcast` in the engine: a backward's broadcast-shaped gradient summed to its
    input's shape, or a clear error naming the op when the shape is impossible."""
    if not _stretches_to(shape, g.shape):
        raise ValueError(
            f"{type(fn).__name__}.backward returned a gradient of shape {g.shape} for an input of "
            f"shape {shape}; it must have the input's shape or the broadcast output's shape"
        )
    return _sum_to(g, shape)


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
        raise TypeError(f"{type(self).__name__} defines no forward(self, *arrays); a Function subclass needs one")

    def backward(self, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise TypeError(f"{type(self).__name__} defines no backward(self, g); a Function subclass needs one")

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
            out = _forward_output(out, dtype, cls.__name__)
        if _GRAD_ENABLED and any(needs):
            fn.parents, fn.needs_grad = tensors, needs
            return Tensor._result(out, fn)
        return Tensor._result(out, None)


def _constant(x: Any, dtype: Any, op: str) -> np.ndarray:
    """A non-Tensor input of an op takes the dtype of the op's tensors (float32 stays float32)."""
    if isinstance(x, np.ndarray) and x.dtype == dtype:
        return x
    return as_array(x, f"an input of {op}", dtype)


def _forward_output(out: Any, dtype: Any, op: str) -> np.ndarray:
    """A forward's result that is not an array: a number becomes one; a Tensor or anything
    else is a TypeError (forward computes on arrays and returns an array)."""
    if isinstance(out, Tensor):
        raise TypeError(f"{op}.forward returned a Tensor; forward receives NumPy arrays and must return one")
    if isinstance(out, (np.generic, float, int)) and not isinstance(out, (bool, np.bool_)):
        return np.asarray(out, dtype=dtype)
    raise TypeError(f"{op}.forward must return a NumPy array; it returned {describe(out)}")


# The operators above call into ops, which itself imports this module.
from . import ops as _ops  # noqa: E402
